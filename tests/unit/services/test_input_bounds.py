"""Every string a client names reaches a service bounded and plain: past its bound, or with a
control character in a name, it is INVALID at its field, nothing is read or written for it, and
the message stays short (it repeats at most a prefix of what was sent)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from marketing_contacts.domain.bulk import Selection
from marketing_contacts.domain.errors import MAX_ID_LENGTH, DomainError, ErrorCode
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import MarketingStatus
from marketing_contacts.services.accounts import AccountOpening, AccountSettings
from marketing_contacts.services.bulk import BulkRequest
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.contacts import ContactDraft, ContactEdit
from marketing_contacts.services.paging import MAX_CURSOR_LENGTH
from marketing_contacts.services.registry import Services
from tests.unit.services.fakes import fake_services, make_contacts, open_account

LONG = "x" * 30_000
LONG_ID = "i" * (MAX_ID_LENGTH + 1)
NON_MARKETING = MarketingStatus.NON_MARKETING


@dataclass(frozen=True)
class Setup:
    services: Services
    caller: Caller
    contact_id: str


Call = Callable[[Setup], Awaitable[object]]

CASES: list[tuple[str, Call, tuple[str, ...]]] = [
    ("contact", lambda s: s.services.contacts.get(s.caller, LONG), ("id",)),
    (
        "update_contact",
        lambda s: s.services.contacts.update(s.caller, LONG, ContactEdit()),
        ("id",),
    ),
    ("delete_contact", lambda s: s.services.contacts.delete(s.caller, LONG), ("id",)),
    (
        "contacts emailDomain",
        lambda s: s.services.contacts.page(s.caller, ContactFilter(email_domain=LONG), 10, None),
        ("filter", "email_domain"),
    ),
    (
        "totalCount ownerId",
        lambda s: s.services.contacts.count(s.caller, ContactFilter(owner_id=LONG)),
        ("filter", "owner_id"),
    ),
    (
        "contacts listId",
        lambda s: s.services.contacts.page(s.caller, ContactFilter(list_id=LONG_ID), 10, None),
        ("filter", "list_id"),
    ),
    (
        "contacts after",
        lambda s: s.services.contacts.page(s.caller, ContactFilter(), 10, LONG),
        ("after",),
    ),
    (
        "createContact firstName",
        lambda s: s.services.contacts.create(s.caller, ContactDraft(first_name="Ada\x00")),
        ("first_name",),
    ),
    (
        "updateContact jobTitle",
        lambda s: s.services.contacts.update(
            s.caller, s.contact_id, ContactEdit(changes={"job_title": "Head\nof growth"})
        ),
        ("job_title",),
    ),
    (
        "set_marketing_status",
        lambda s: s.services.statuses.set_marketing_status(
            s.caller, [s.contact_id, LONG_ID], NON_MARKETING
        ),
        ("contact_ids", "1"),
    ),
    ("list", lambda s: s.services.lists.get(s.caller, LONG), ("id",)),
    ("lists after", lambda s: s.services.lists.page(s.caller, 10, LONG), ("after",)),
    ("createList name", lambda s: s.services.lists.create(s.caller, "News\x00letter"), ("name",)),
    (
        "createList contactIds",
        lambda s: s.services.lists.create(s.caller, "News", [s.contact_id, LONG]),
        ("contact_ids", "1"),
    ),
    (
        "add_contacts_to_list",
        lambda s: s.services.lists.add(s.caller, LONG, [s.contact_id]),
        ("list_id",),
    ),
    (
        "remove_contacts_from_list",
        lambda s: s.services.lists.remove(s.caller, LONG, []),
        ("list_id",),
    ),
    ("delete_list", lambda s: s.services.lists.delete(s.caller, LONG), ("id",)),
    ("bulk_operation", lambda s: s.services.bulk.get(s.caller, LONG), ("id",)),
    ("bulkOperations after", lambda s: s.services.bulk.page(s.caller, 10, LONG), ("after",)),
    ("cancel_bulk_operation", lambda s: s.services.bulk.cancel(s.caller, LONG), ("id",)),
    (
        "startBulkStatusChange idempotencyKey",
        lambda s: s.services.bulk.start(
            s.caller,
            BulkRequest(Selection(filter=ContactFilter()), NON_MARKETING, idempotency_key=" "),
        ),
        ("idempotency_key",),
    ),
    (
        "updateAccountSettings name",
        lambda s: s.services.accounts.update_settings(s.caller, AccountSettings(name="Acme\tInc")),
        ("name",),
    ),
    (
        "updateAccountSettings timezone",
        lambda s: s.services.accounts.update_settings(s.caller, AccountSettings(timezone=LONG)),
        ("timezone",),
    ),
    (
        "accounts create",
        lambda s: s.services.accounts.open(AccountOpening(name="Acme\x1b[2J")),
        ("name",),
    ),
    (
        "tierChanges after",
        lambda s: s.services.accounts.tier_changes(s.caller, 10, LONG),
        ("after",),
    ),
    ("alerts after", lambda s: s.services.accounts.alerts(s.caller, 10, LONG), ("after",)),
]


@pytest.mark.parametrize(("call", "field"), [case[1:] for case in CASES], ids=[c[0] for c in CASES])
async def test_a_string_past_its_bound_or_a_name_with_a_control_is_invalid_and_changes_nothing(
    call: Call, field: tuple[str, ...]
) -> None:
    services, world = fake_services()
    caller = await open_account(services)
    (contact,) = await make_contacts(services, caller, 1)
    before = world.snapshot()
    with pytest.raises(DomainError) as refused:
        await call(Setup(services, caller, contact.id))
    assert [(e.code, e.field) for e in refused.value.errors] == [(ErrorCode.INVALID, field)]
    assert len(str(refused.value)) < 100
    assert world.snapshot() == before


async def test_a_cursor_past_its_bound_is_not_a_cursor_even_when_it_decodes() -> None:
    """Base64 decoding skips what is not of its alphabet: a cursor the store handed out,
    padded with a megabyte of dots, decoded to the same cursor. Past MAX_CURSOR_LENGTH it is
    refused before any decoding or read."""
    services, _ = fake_services()
    caller = await open_account(services)
    await make_contacts(services, caller, 3)
    first = await services.contacts.page(caller, ContactFilter(), 1, None)
    cursor = first.cursors[-1]
    second = await services.contacts.page(caller, ContactFilter(), 1, cursor)
    assert second.items and second.items != first.items
    padded = cursor + "." * (MAX_CURSOR_LENGTH + 1 - len(cursor))
    with pytest.raises(DomainError) as refused:
        await services.contacts.page(caller, ContactFilter(), 1, padded)
    assert [(e.code, e.field, e.message) for e in refused.value.errors] == [
        (ErrorCode.INVALID, ("after",), "after is not a cursor of this connection")
    ]

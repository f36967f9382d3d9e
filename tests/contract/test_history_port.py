"""HistoryStore (S4): a contact's entries newest first, in keyset pages; the first pages of many
contacts in one read, each as its own page would read."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.contacts import Contact
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import (
    HistoryEntry,
    MarketingState,
    StatusChange,
    StatusSource,
    StatusSourceType,
)
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import BadCursor, Page
from marketing_contacts.services.ports.changes import ChangeBatch
from marketing_contacts.services.wiring import Ports
from tests.contract.records import all_pages, items_of, stored_account, stored_contacts

STATES = (MarketingState.NON_MARKETING, MarketingState.MARKETING)


def entries(ports: Ports, contact: Contact, count: int) -> list[HistoryEntry]:
    """`count` changes of the contact, oldest first, alternating between N and M."""
    start = ports.clock.now() - timedelta(hours=1)
    return [
        HistoryEntry(
            contact.account_id,
            contact.id,
            seq,
            StatusChange(
                at=start + timedelta(minutes=seq),
                from_state=STATES[(seq + 1) % 2],
                to_state=STATES[seq % 2],
                source=StatusSource(StatusSourceType.WORKFLOW, f"workflow-{seq}"),
            ),
        )
        for seq in range(1, count + 1)
    ]


async def with_history(
    ports: Ports, account: Account, count: int, contact: Contact | None = None
) -> tuple[Contact, list[HistoryEntry]]:
    if contact is None:
        (contact,) = await stored_contacts(ports, account, 1)
    written = entries(ports, contact, count)
    await ports.writer.commit(ChangeBatch(account, account, history=tuple(written)))
    return contact, written


async def test_a_contacts_history_pages_newest_first(ports: Ports) -> None:
    account = await stored_account(ports)
    contact, written = await with_history(ports, account, 5)
    await with_history(ports, account, 3)  # another contact's
    other_account = await stored_account(ports)
    await with_history(ports, other_account, 2)

    async def read(first: int, after: str | None) -> Page[HistoryEntry]:
        return await ports.history.page(account.id, contact.id, first, after)

    pages = await all_pages(read, 2)
    assert items_of(pages) == written[::-1]
    assert [page.has_next_page for page in pages] == [True, True, False]
    assert [len(page.cursors) for page in pages] == [2, 2, 1]
    assert [page.has_previous_page for page in pages] == [False] + [True] * (len(pages) - 1)


async def test_history_is_read_only_in_the_contacts_account(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    contact, _ = await with_history(ports, account, 2)
    empty = Page[HistoryEntry]([], [], False)
    assert await ports.history.page(other.id, contact.id, 10, None) == empty
    assert await ports.history.page(account.id, ports.ids.new_id(), 10, None) == empty
    assert await ports.history.page(account.id, "not-an-id", 10, None) == empty
    assert await ports.history.counts(other.id, [contact.id]) == {contact.id: 0}


async def test_a_cursor_this_history_did_not_hand_out_is_refused(ports: Ports) -> None:
    account = await stored_account(ports)
    contact, _ = await with_history(ports, account, 2)
    contacts = await ports.contacts.page(Scope(account.id), ContactFilter(), 1, None)
    forged = base64.urlsafe_b64encode(b"history:two").decode()
    for cursor in ["%%%", forged, contact.id, *contacts.cursors]:
        with pytest.raises(BadCursor):
            await ports.history.page(account.id, contact.id, 1, cursor)


async def test_first_pages_read_each_contacts_first_page(ports: Ports) -> None:
    account = await stored_account(ports)
    long, _ = await with_history(ports, account, 4)
    short, _ = await with_history(ports, account, 1)
    (silent,) = await stored_contacts(ports, account, 1)
    wanted = [long.id, short.id, silent.id, "not-an-id"]
    assert await ports.history.counts(account.id, wanted) == {
        long.id: 4,
        short.id: 1,
        silent.id: 0,
        "not-an-id": 0,
    }
    # each contact's newest sequence (S4: its entries are 1 to it)
    newest = {long.id: 4, short.id: 1, silent.id: 0, "not-an-id": 0}
    pages = await ports.history.first_pages(account.id, newest, 2)
    assert pages == {
        contact_id: await ports.history.page(account.id, contact_id, 2, None)
        for contact_id in wanted
    }
    assert [(len(p.items), p.has_next_page) for p in pages.values()] == [
        (2, True),
        (1, False),
        (0, False),
        (0, False),
    ]
    rest = await ports.history.page(account.id, long.id, 2, pages[long.id].cursors[-1])
    assert [entry.seq for entry in rest.items] == [2, 1]
    assert await ports.history.first_pages(account.id, {}, 2) == {}
    # as of an older read of the contact: the entries up to its sequence then
    (then,) = (await ports.history.first_pages(account.id, {long.id: 3}, 2)).values()
    assert ([entry.seq for entry in then.items], then.has_next_page) == ([3, 2], True)

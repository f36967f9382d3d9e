"""AuditLog: an entry a store writes with its write reads back whole, newest first, by record,
within the account and, for a scope of some owners, of the entries those users wrote; a write
that fails its condition records nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.audit import SYSTEM, Actor, AuditEntry
from marketing_contacts.domain.users import Role, User
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.ports.changes import StaleWrite
from marketing_contacts.services.wiring import Ports
from tests.contract.records import all_pages, items_of, new_contact, store, stored_account


def entry(ports: Ports, account: Account, action: str, *ids: str, user: str | None) -> AuditEntry:
    return ports.audit_entry(account.id, Actor(user, "token-1", "req-1"), action, ids)


async def written(ports: Ports, account: Account, audit: AuditEntry) -> None:
    """A write that records `audit`: a field edit of a new contact."""
    (contact,) = await store(ports, account, new_contact(ports, account))
    await ports.contacts.update_fields(contact, replace(contact, first_name="Ada"), audit)


async def test_p4_entries_read_back_newest_first_and_by_record(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    first = entry(ports, account, "updateContact", "c1", user="u1")
    second = entry(ports, account, "createList", "l1", "c1", "c2", user="u2")
    third = replace(entry(ports, account, "updateDate", "c2", user=None), actor=SYSTEM)
    for audit in (first, second, third):
        await written(ports, account, audit)
    await written(ports, other, entry(ports, other, "updateContact", "c1", user="u1"))
    whole = Scope(account.id)
    pages = await all_pages(lambda n, after: ports.audit.page(whole, None, n, after), 2)
    assert items_of(pages) == [third, second, first]
    assert await ports.audit.count(whole, None) == 3
    by_record = await ports.audit.page(whole, "c1", 10, None)
    assert by_record.items == [second, first]
    assert await ports.audit.count(whole, "c2") == 2
    u1 = Scope(account.id, frozenset({"u1"}))
    assert (await ports.audit.page(u1, None, 10, None)).items == [first]
    assert await ports.audit.count(u1, "l1") == 0


async def test_p4_a_write_refused_by_its_condition_records_nothing(ports: Ports) -> None:
    account = await stored_account(ports)
    user_entry = entry(ports, account, "updateUser", "u9", user="u1")
    user = User(
        id=ports.ids.new_id(),
        account_id=account.id,
        name="Ada",
        email="ada@example.com",
        role=Role.MEMBER,
        created_at=ports.clock.now(),
    )
    await ports.users.insert(user)
    stale = replace(user, revision=user.revision + 1)
    with pytest.raises(StaleWrite):
        await ports.users.replace(stale, replace(stale, name="Eve"), user_entry)
    assert await ports.tokens.revoke(account.id, ports.ids.new_id(), user_entry) is None
    assert await ports.audit.count(Scope(account.id), None) == 0

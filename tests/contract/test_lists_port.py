"""ListStore: lists read back in their account, newest first; membership lives on the contacts,
and each change moves the list's size in the same write, counting only the contacts it changed.
A deleted list is no longer live; its membership is taken out in pages under a lease, and the
list is then removed for good."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import MarketingState
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page
from marketing_contacts.services.ports.changes import ChangeBatch
from marketing_contacts.services.ports.lists import ContactList, ListDeletion, ListGone
from marketing_contacts.services.wiring import Ports
from tests.contract.records import (
    all_pages,
    items_of,
    moved,
    now,
    stored_account,
    stored_contacts,
)

LEASE = timedelta(seconds=60)


async def stored_list(
    ports: Ports, account: Account, name: str = "Newsletter", members: tuple[str, ...] = ()
) -> ContactList:
    return await ports.lists.insert(
        ContactList(ports.ids.new_id(), account.id, name, now(ports)), members
    )


async def size_of(ports: Ports, contact_list: ContactList) -> int:
    found = await ports.lists.get(contact_list.account_id, contact_list.id)
    assert found is not None
    return found.size


async def member_ids(ports: Ports, account: Account, list_id: str) -> list[str]:
    members = await ports.contacts.page(
        Scope(account.id), ContactFilter(list_id=list_id), 100, None
    )
    return [m.id for m in members.items]


async def deleted(
    ports: Ports, account: Account, contact_list: ContactList, at: datetime | None = None
) -> ListDeletion:
    assert await ports.lists.mark_deleted(account.id, contact_list.id, at or now(ports))
    (deletion,) = await ports.lists.deletions(account.id, 10)
    return deletion


async def test_a_list_reads_back_only_in_its_account(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    contact_list = await stored_list(ports, account)
    assert contact_list.size == 0
    assert await ports.lists.get(account.id, contact_list.id) == contact_list
    assert await ports.lists.get(other.id, contact_list.id) is None
    assert await ports.lists.get(account.id, ports.ids.new_id()) is None
    assert await ports.lists.get(account.id, "not-an-id") is None


async def test_lists_page_newest_first(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    made = [await stored_list(ports, account, f"List {i}") for i in range(5)]
    await stored_list(ports, other)

    async def read(first: int, after: str | None) -> Page[ContactList]:
        return await ports.lists.page(account.id, first, after)

    pages = await all_pages(read, 2)
    assert items_of(pages) == made[::-1]
    assert [page.has_next_page for page in pages] == [True, True, False]
    assert [page.has_previous_page for page in pages] == [False] + [True] * (len(pages) - 1)
    assert (await ports.lists.count(account.id), await ports.lists.count(other.id)) == (5, 1)


async def test_a_new_list_counts_the_members_it_was_made_with(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    a, b = await stored_contacts(ports, account, 2)
    (foreign,) = await stored_contacts(ports, other, 1)
    contact_list = await stored_list(ports, account, members=(a.id, b.id, foreign.id, "nope"))
    assert contact_list.size == 2 and await size_of(ports, contact_list) == 2
    assert await member_ids(ports, account, contact_list.id) == sorted([a.id, b.id])
    assert (await ports.contacts.get(Scope(other.id), foreign.id)) == foreign


async def test_members_are_added_once_only_from_the_account_and_counted(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    contact_list = await stored_list(ports, account)
    a, b, c = await stored_contacts(ports, account, 3)
    (foreign,) = await stored_contacts(ports, other, 1)
    add = ports.lists.add_members
    assert await add(account.id, contact_list.id, [a.id, b.id]) == 2
    assert await add(account.id, contact_list.id, [b.id, c.id, foreign.id, "not-an-id"]) == 1
    assert await add(account.id, contact_list.id, []) == 0
    assert await size_of(ports, contact_list) == 3
    assert (await ports.contacts.get(Scope(other.id), foreign.id)) == foreign
    assert await member_ids(ports, account, contact_list.id) == sorted([a.id, b.id, c.id])


async def test_members_are_taken_out_counting_only_members(ports: Ports) -> None:
    account = await stored_account(ports)
    a, b, c = await stored_contacts(ports, account, 3)
    contact_list = await stored_list(ports, account, members=(a.id, b.id))
    remove = ports.lists.remove_members
    assert await remove(account.id, contact_list.id, [a.id, c.id, "not-an-id"]) == 1
    assert await remove(account.id, contact_list.id, [a.id]) == 0
    assert await size_of(ports, contact_list) == 1
    assert (await ports.contacts.get(Scope(account.id), b.id)) == replace(
        b, list_ids=frozenset({contact_list.id})
    )


async def test_no_membership_changes_for_a_list_that_is_not_live(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    a, b = await stored_contacts(ports, account, 2)
    contact_list = await stored_list(ports, account, members=(a.id,))
    await deleted(ports, account, contact_list)
    for list_id, account_id in [
        (contact_list.id, account.id),
        (ports.ids.new_id(), account.id),
        ("not-an-id", account.id),
    ]:
        with pytest.raises(ListGone):
            await ports.lists.add_members(account_id, list_id, [b.id])
        with pytest.raises(ListGone):
            await ports.lists.remove_members(account_id, list_id, [a.id])
    foreign = await stored_list(ports, other)
    with pytest.raises(ListGone):
        await ports.lists.add_members(account.id, foreign.id, [b.id])
    assert (await ports.contacts.get(Scope(account.id), b.id)) == b  # nothing written
    assert await member_ids(ports, account, contact_list.id) == [a.id]


async def test_a_deleted_list_is_not_live_and_keeps_its_members_until_taken_out(
    ports: Ports,
) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    (contact,) = await stored_contacts(ports, account, 1)
    kept = await stored_list(ports, account, "Kept")
    contact_list = await stored_list(ports, account, members=(contact.id,))
    assert not await ports.lists.mark_deleted(other.id, contact_list.id, now(ports))
    assert not await ports.lists.mark_deleted(account.id, "not-an-id", now(ports))
    at = now(ports)
    deletion = await deleted(ports, account, contact_list, at)
    assert not await ports.lists.mark_deleted(account.id, contact_list.id, now(ports))
    assert deletion == ListDeletion(account.id, contact_list.id, at)
    assert await ports.lists.get(account.id, contact_list.id) is None
    assert items_of([await ports.lists.page(account.id, 10, None)]) == [kept]
    assert await ports.lists.count(account.id) == 1
    assert await ports.lists.deletions(other.id, 10) == []
    assert await member_ids(ports, account, contact_list.id) == [contact.id]


async def test_a_deletion_is_held_by_one_run_until_its_lease_runs_out(ports: Ports) -> None:
    account = await stored_account(ports)
    deletion = await deleted(ports, account, await stored_list(ports, account))
    at = now(ports)
    assert await ports.lists.claim_deletion(deletion, "run-1", at, at + LEASE)
    assert await ports.lists.claim_deletion(deletion, "run-1", at, at + LEASE)  # its own
    assert not await ports.lists.claim_deletion(deletion, "run-2", at + LEASE / 2, at + LEASE)
    (held,) = await ports.lists.deletions(account.id, 10)
    assert (held.owner, held.lease_until) == ("run-1", at + LEASE)
    assert held.claimable_by("run-1", at) and not held.claimable_by("run-2", at)
    assert await ports.lists.claim_deletion(deletion, "run-2", at + LEASE, at + 2 * LEASE)
    assert await ports.lists.drop_members(deletion, "run-1", 10, at + 3 * LEASE) is None
    assert not await ports.lists.purge(deletion, "run-1")


async def test_members_are_taken_out_in_pages_and_then_the_list_goes(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    contacts = await stored_contacts(ports, account, 5)
    ids = tuple(contact.id for contact in contacts)
    kept = await stored_list(ports, account, "Kept", members=ids)
    dropped = await stored_list(ports, account, members=ids)
    (foreign,) = await stored_contacts(ports, other, 1)
    await ports.lists.add_members(other.id, (await stored_list(ports, other)).id, [foreign.id])
    deletion = await deleted(ports, account, dropped)
    at = now(ports)
    assert await ports.lists.claim_deletion(deletion, "run", at, at + LEASE)
    drop = ports.lists.drop_members
    assert [await drop(deletion, "run", 2, at + LEASE) for _ in range(4)] == [2, 2, 1, 0]
    assert await member_ids(ports, account, dropped.id) == []
    assert await member_ids(ports, account, kept.id) == sorted(ids)
    (held,) = await ports.lists.deletions(account.id, 10)
    assert held.lease_until == at + LEASE
    assert await ports.lists.purge(deletion, "run")
    assert await ports.lists.deletions(account.id, 10) == []
    assert not await ports.lists.purge(deletion, "run")
    assert await size_of(ports, kept) == 5


async def test_stale_deletions_are_the_unclaimed_and_those_whose_lease_ran_out(
    ports: Ports,
) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    at = now(ports)
    unclaimed = await deleted(ports, account, await stored_list(ports, account), at)
    held = await deleted(ports, other, await stored_list(ports, other), at)
    assert await ports.lists.claim_deletion(held, "run", at, at + LEASE)
    mine = {unclaimed.list_id, held.list_id}

    async def stale(deleted_before: timedelta, later: timedelta) -> set[str]:
        found = await ports.lists.stale_deletions(at + deleted_before, at + later)
        return {d.list_id for d in found} & mine

    assert await stale(timedelta(0), timedelta(0)) == set()  # deleted just now: not before
    assert await stale(timedelta(seconds=1), timedelta(0)) == {unclaimed.list_id}
    assert await stale(timedelta(seconds=1), LEASE) == mine
    assert await stale(timedelta(0), LEASE) == {held.list_id}  # its run died: no grace


async def test_a_deleted_contact_leaves_the_size_of_each_of_its_lists(ports: Ports) -> None:
    account = await stored_account(ports)
    a, b = await stored_contacts(ports, account, 2)
    first = await stored_list(ports, account, "First", members=(a.id, b.id))
    second = await stored_list(ports, account, "Second", members=(a.id,))
    gone = await ports.contacts.get(Scope(account.id), a.id)
    assert gone is not None
    await ports.writer.commit(ChangeBatch(account, account, deleted=(gone,)))
    assert (await size_of(ports, first), await size_of(ports, second)) == (1, 0)


async def test_membership_changes_leave_a_status_written_meanwhile(ports: Ports) -> None:
    account = await stored_account(ports)
    contact_list = await stored_list(ports, account)
    (contact,) = await stored_contacts(ports, account, 1)
    _, update = await moved(ports, account, contact, MarketingState.MARKETING)
    await ports.lists.add_members(account.id, contact_list.id, [contact.id])
    assert await ports.contacts.get(Scope(account.id), contact.id) == replace(
        update.after, list_ids=frozenset({contact_list.id})
    )


async def test_a_recount_of_exact_sizes_repairs_nothing(ports: Ports) -> None:
    account = await stored_account(ports)
    a, b = await stored_contacts(ports, account, 2)
    await stored_list(ports, account, "Both", members=(a.id, b.id))
    await stored_list(ports, account, "Empty")
    deleted_one = await stored_list(ports, account, "Deleted", members=(a.id,))
    await deleted(ports, account, deleted_one)
    assert await ports.lists.recount(account.id) == []

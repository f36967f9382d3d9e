"""ListStore: lists read back in their account, newest first; membership lives on the contacts,
changes count only the contacts it changed, and sizes count the account's members."""

from __future__ import annotations

from dataclasses import replace

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import MarketingState
from marketing_contacts.services.paging import Page
from marketing_contacts.services.ports.lists import ContactList
from marketing_contacts.services.wiring import Ports
from tests.contract.records import (
    all_pages,
    items_of,
    moved,
    now,
    stored_account,
    stored_contacts,
)


async def stored_list(ports: Ports, account: Account, name: str = "Newsletter") -> ContactList:
    contact_list = ContactList(ports.ids.new_id(), account.id, name, now(ports))
    await ports.lists.insert(contact_list)
    return contact_list


async def test_a_list_reads_back_only_in_its_account(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    contact_list = await stored_list(ports, account)
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


async def test_a_list_is_deleted_once_and_only_in_its_account(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    contact_list = await stored_list(ports, account)
    assert not await ports.lists.delete(other.id, contact_list.id)
    assert await ports.lists.get(account.id, contact_list.id) == contact_list
    assert await ports.lists.delete(account.id, contact_list.id)
    assert not await ports.lists.delete(account.id, contact_list.id)
    assert not await ports.lists.delete(account.id, "not-an-id")
    assert await ports.lists.get(account.id, contact_list.id) is None


async def test_members_are_added_once_and_only_from_the_account(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    contact_list = await stored_list(ports, account)
    a, b, c = await stored_contacts(ports, account, 3)
    (foreign,) = await stored_contacts(ports, other, 1)
    add = ports.lists.add_members
    assert await add(account.id, contact_list.id, [a.id, b.id]) == 2
    assert await add(account.id, contact_list.id, [b.id, c.id, foreign.id, "not-an-id"]) == 1
    assert await add(account.id, contact_list.id, []) == 0
    assert await ports.lists.size(account.id, contact_list.id) == 3
    assert (await ports.contacts.get(other.id, foreign.id)) == foreign
    members = await ports.contacts.page(
        account.id, ContactFilter(list_id=contact_list.id), 10, None
    )
    assert [m.id for m in members.items] == sorted([a.id, b.id, c.id])
    assert all(m.list_ids == {contact_list.id} for m in members.items)


async def test_members_are_taken_out_counting_only_members(ports: Ports) -> None:
    account = await stored_account(ports)
    contact_list = await stored_list(ports, account)
    a, b, c = await stored_contacts(ports, account, 3)
    await ports.lists.add_members(account.id, contact_list.id, [a.id, b.id])
    remove = ports.lists.remove_members
    assert await remove(account.id, contact_list.id, [a.id, c.id, "not-an-id"]) == 1
    assert await remove(account.id, contact_list.id, [a.id]) == 0
    assert await ports.lists.size(account.id, contact_list.id) == 1
    assert (await ports.contacts.get(account.id, b.id)) == replace(
        b, list_ids=frozenset({contact_list.id})
    )


async def test_dropping_membership_takes_every_member_out(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    kept, dropped = await stored_list(ports, account, "Kept"), await stored_list(ports, account)
    contacts = await stored_contacts(ports, account, 3)
    (foreign,) = await stored_contacts(ports, other, 1)
    ids = [contact.id for contact in contacts]
    await ports.lists.add_members(account.id, kept.id, ids)
    await ports.lists.add_members(account.id, dropped.id, ids[:2])
    await ports.lists.add_members(other.id, dropped.id, [foreign.id])  # an id is only a string
    assert await ports.lists.drop_membership(account.id, dropped.id) == 2
    assert await ports.lists.drop_membership(account.id, dropped.id) == 0
    assert await ports.lists.sizes(account.id, [kept.id, dropped.id]) == {kept.id: 3, dropped.id: 0}
    assert await ports.lists.size(other.id, dropped.id) == 1


async def test_sizes_count_the_members_of_each_list(ports: Ports) -> None:
    account = await stored_account(ports)
    first, second, empty = [await stored_list(ports, account, n) for n in ("A", "B", "C")]
    a, b = await stored_contacts(ports, account, 2)
    await ports.lists.add_members(account.id, first.id, [a.id, b.id])
    await ports.lists.add_members(account.id, second.id, [b.id])
    sizes = await ports.lists.sizes(account.id, [first.id, second.id, empty.id, first.id, "nope"])
    assert sizes == {first.id: 2, second.id: 1, empty.id: 0, "nope": 0}
    assert await ports.lists.sizes(account.id, []) == {}


async def test_a_deleted_list_keeps_its_membership_until_it_is_dropped(ports: Ports) -> None:
    account = await stored_account(ports)
    contact_list = await stored_list(ports, account)
    (contact,) = await stored_contacts(ports, account, 1)
    await ports.lists.add_members(account.id, contact_list.id, [contact.id])
    await ports.lists.delete(account.id, contact_list.id)
    assert await ports.lists.size(account.id, contact_list.id) == 1


async def test_membership_changes_leave_a_status_written_meanwhile(ports: Ports) -> None:
    account = await stored_account(ports)
    contact_list = await stored_list(ports, account)
    (contact,) = await stored_contacts(ports, account, 1)
    _, update = await moved(ports, account, contact, MarketingState.MARKETING)
    await ports.lists.add_members(account.id, contact_list.id, [contact.id])
    assert await ports.contacts.get(account.id, contact.id) == replace(
        update.after, list_ids=frozenset({contact_list.id})
    )

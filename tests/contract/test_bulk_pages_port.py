"""BulkPages (B1, B4): a selection is resolved once into pages of the contacts it held when the
operation started; each page reads the contacts as they are now; dropped pages are gone."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from marketing_contacts.domain.bulk import BulkOperation, Selection
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import MarketingState
from marketing_contacts.services.ports.changes import ChangeBatch
from marketing_contacts.services.wiring import Ports
from tests.contract.records import (
    moved,
    new_contact,
    now,
    queued_operation,
    store,
    stored_account,
    stored_contacts,
)

MINUTE = timedelta(minutes=1)


async def pages_of(ports: Ports, operation: BulkOperation) -> list[list[str]]:
    """The ids of every page, read from the first to the last, two at a time."""
    found = []
    while pages := await ports.bulk_pages.pages_to_apply(operation, 2):
        assert [page.number for page in pages] == list(
            range(operation.next_page, operation.next_page + len(pages))
        )
        found += [[contact.id for contact in page.contacts] for page in pages]
        operation = replace(operation, next_page=operation.next_page + len(pages))
    return found


async def test_the_next_pages_come_as_many_as_asked_and_fewer_past_the_last(
    ports: Ports,
) -> None:
    account = await stored_account(ports)
    contacts = sorted(c.id for c in await stored_contacts(ports, account, 5))
    resolved = await ports.bulk_pages.resolve(await queued_operation(ports, account), 1)
    at_second = replace(resolved, next_page=1)
    numbers = [p.number for p in await ports.bulk_pages.pages_to_apply(at_second, 3)]
    assert numbers == [1, 2, 3]
    last_two = await ports.bulk_pages.pages_to_apply(replace(resolved, next_page=3), 10)
    assert [[c.id for c in p.contacts] for p in last_two] == [[contacts[3]], [contacts[4]]]
    assert await ports.bulk_pages.pages_to_apply(replace(resolved, next_page=5), 10) == []


async def test_a_selection_resolves_into_pages_in_id_order(ports: Ports) -> None:
    account = await stored_account(ports)
    marketing = await stored_contacts(ports, account, 5, state=MarketingState.MARKETING)
    await stored_contacts(ports, account, 2)
    await stored_contacts(ports, await stored_account(ports), 2, state=MarketingState.MARKETING)
    where = ContactFilter(marketing_status=marketing[0].marketing_status)
    operation = await queued_operation(ports, account, selection=Selection(filter=where))

    resolved = await ports.bulk_pages.resolve(operation, 2)

    assert resolved.resolved and resolved.next_page == 0 and resolved.progress.matched == 5
    assert resolved.page_count == 3
    assert await ports.operations.load(operation.id) == resolved
    ids = sorted(contact.id for contact in marketing)
    assert await pages_of(ports, resolved) == [ids[0:2], ids[2:4], ids[4:]]


async def test_contacts_created_after_the_operation_started_are_not_selected(
    ports: Ports,
) -> None:
    account = await stored_account(ports)
    start = now(ports) - MINUTE
    on_time, _late = await store(
        ports,
        account,
        new_contact(ports, account, created_at=start),
        new_contact(ports, account, created_at=start + timedelta(milliseconds=1)),
    )
    operation = await queued_operation(ports, account, created_at=start)
    resolved = await ports.bulk_pages.resolve(operation, 10)
    assert resolved.progress.matched == 1
    assert await pages_of(ports, resolved) == [[on_time.id]]  # not the late one


async def test_an_ids_selection_keeps_the_order_its_ids_were_given_in(ports: Ports) -> None:
    account = await stored_account(ports)
    a, b, c = await stored_contacts(ports, account, 3)
    (foreign,) = await stored_contacts(ports, await stored_account(ports), 1)
    selection = Selection(ids=(c.id, foreign.id, a.id, "not-an-id", ports.ids.new_id(), b.id))
    operation = await queued_operation(ports, account, selection=selection)
    resolved = await ports.bulk_pages.resolve(operation, 2)
    assert resolved.progress.matched == 3
    assert await pages_of(ports, resolved) == [[c.id, a.id], [b.id]]


async def test_a_page_reads_its_contacts_as_they_are_now(ports: Ports) -> None:
    account = await stored_account(ports)
    a, b, c = await stored_contacts(ports, account, 3)
    operation = await queued_operation(ports, account)
    resolved = await ports.bulk_pages.resolve(operation, 3)
    _, update = await moved(ports, account, a, MarketingState.MARKETING)
    await ports.writer.commit(ChangeBatch(account, account, deleted=(b,)))
    (page,) = await ports.bulk_pages.pages_to_apply(resolved, 1)
    assert page.contacts == [update.after, c]


async def test_an_empty_selection_has_no_page(ports: Ports) -> None:
    account = await stored_account(ports)
    operation = await queued_operation(ports, account, selection=Selection(list_id="no-list"))
    resolved = await ports.bulk_pages.resolve(operation, 10)
    assert (resolved.resolved, resolved.progress.matched, resolved.page_count) == (True, 0, 0)
    assert await ports.bulk_pages.pages_to_apply(resolved, 1) == []


async def test_a_selection_is_resolved_once(ports: Ports) -> None:
    account = await stored_account(ports)
    first_ones = await stored_contacts(ports, account, 2)
    operation = await queued_operation(ports, account, created_at=now(ports) + MINUTE)
    winner = await ports.bulk_pages.resolve(operation, 1)
    await stored_contacts(ports, account, 1)  # selected too, had the resolution run again
    again = await ports.bulk_pages.resolve(operation, 5)
    assert again == winner
    assert await pages_of(ports, again) == [[contact.id] for contact in first_ones]


async def test_dropped_pages_are_gone(ports: Ports) -> None:
    account = await stored_account(ports)
    await stored_contacts(ports, account, 2)
    operation = await queued_operation(ports, account)
    resolved = await ports.bulk_pages.resolve(operation, 1)
    await ports.bulk_pages.drop_pages(operation.id)
    await ports.bulk_pages.drop_pages(ports.ids.new_id())
    assert await ports.bulk_pages.pages_to_apply(resolved, 1) == []


async def test_c10_a_contact_is_held_only_by_a_page_left_to_apply(ports: Ports) -> None:
    """C10 asks before a merge: a page from the operation's next one on holds the contact."""
    account = await stored_account(ports)
    m = MarketingState.MARKETING
    first, between, last = await store(
        ports,
        account,
        new_contact(ports, account, state=m),
        new_contact(ports, account),  # not selected, its id between the others'
        new_contact(ports, account, state=m),
    )
    where = ContactFilter(marketing_status=first.marketing_status)
    operation = await queued_operation(ports, account, selection=Selection(filter=where))
    assert not await ports.bulk_pages.holds(operation, first.id)  # nothing resolved yet
    resolved = await ports.bulk_pages.resolve(operation, 1)

    async def held(operation: BulkOperation, *contacts: str) -> list[bool]:
        return [await ports.bulk_pages.holds(operation, contact_id) for contact_id in contacts]

    ids = (first.id, between.id, last.id, "not-an-id", ports.ids.new_id())
    assert await held(resolved, *ids) == [True, False, True, False, False]
    assert await held(replace(resolved, next_page=1), *ids) == [False, False, True, False, False]
    assert await held(replace(resolved, next_page=2), *ids) == [False] * 5
    # an ids selection, in the order its ids were given
    given = await queued_operation(
        ports, account, selection=Selection(ids=(last.id, between.id, first.id))
    )
    in_order = await ports.bulk_pages.resolve(given, 1)
    assert await held(in_order, *ids[:3]) == [True, True, True]
    assert await held(replace(in_order, next_page=1), *ids[:3]) == [True, True, False]

"""ListService over the fakes: static lists, their membership on the contacts, B1 by list."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import replace
from datetime import timedelta
from typing import TypeVar

import pytest

from marketing_contacts.domain.bulk import Selection
from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import MarketingState, MarketingStatus
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.bulk_runner import (
    ENQUEUE_GRACE,
    BulkRunner,
    BulkRunnerSettings,
    Turn,
)
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.lists import MAX_LIST_CHANGE, MAX_NAME_LENGTH
from marketing_contacts.services.ports.lists import ListRecount
from marketing_contacts.services.registry import Services
from tests.support.waiting import let_others_run
from tests.unit.services.fakes import (
    FakeWorld,
    codes_and_fields,
    fake_services,
    make_contacts,
    open_account,
)

T = TypeVar("T")
LEASE = timedelta(seconds=60)


async def opened(contacts: int = 3) -> tuple[Services, FakeWorld, Caller, list[str]]:
    services, world = fake_services()
    caller = await open_account(services)
    made = await make_contacts(services, caller, contacts, MarketingStatus.MARKETING)
    return services, world, caller, [c.id for c in made]


async def size(services: Services, caller: Caller, list_id: str) -> int:
    found = await services.lists.get(caller, list_id)
    assert found is not None
    return found.size


async def worker_turn(services: Services, caller: Caller, owner: str = "worker") -> Turn:
    """One bulk turn of the caller's account, as a worker takes it."""
    return await services.bulk_runner.take_turn(caller.account_id, owner, lambda _: False)


def members(world: FakeWorld, list_id: str) -> set[str]:
    """Every contact, of any account, that names the list."""
    return {c.id for c in world.data.contacts.values() if list_id in c.list_ids}


async def later(turns: int, call: Awaitable[T]) -> T:
    """`call`, after letting other tasks run `turns` times."""
    for _ in range(turns):
        await let_others_run()
    return await call


# ---------------------------------------------------------------- create, add, remove


async def test_create_stores_the_list_and_its_members_each_once() -> None:
    services, world, caller, ids = await opened()
    created = await services.lists.create(caller, "  Newsletter  ", [ids[0], ids[1], ids[0]])
    assert created.name == "Newsletter"
    assert created.account_id == caller.account_id
    assert created.created_at == world.clock.now()
    assert await services.lists.get(caller, created.id) == created
    assert members(world, created.id) == {ids[0], ids[1]}
    assert created.size == 2


async def test_create_without_contacts_makes_an_empty_list() -> None:
    services, world, caller, _ = await opened()
    created = await services.lists.create(caller, "Empty")
    assert created.size == 0 and await size(services, caller, created.id) == 0
    assert members(world, created.id) == set()


async def test_adding_and_removing_are_idempotent() -> None:
    services, world, caller, ids = await opened()
    created = await services.lists.create(caller, "L", [ids[0]])
    for _ in range(2):
        after = await services.lists.add(caller, created.id, [ids[0], ids[1]])
        assert members(world, created.id) == {ids[0], ids[1]} and after.size == 2
    for _ in range(2):
        after = await services.lists.remove(caller, created.id, [ids[0], ids[2]])
        assert members(world, created.id) == {ids[1]} and after.size == 1
    assert await size(services, caller, created.id) == 1


async def test_a_contact_may_be_in_several_lists() -> None:
    services, world, caller, ids = await opened()
    first = await services.lists.create(caller, "A", ids[:2])
    second = await services.lists.create(caller, "B", ids[1:])
    assert world.contact(ids[1]).list_ids == {first.id, second.id}
    await services.lists.remove(caller, first.id, [ids[1]])
    assert world.contact(ids[1]).list_ids == {second.id}
    assert [await size(services, caller, c.id) for c in (first, second)] == [1, 2]


async def test_b1_the_contact_filter_selects_exactly_the_members() -> None:
    services, _, caller, ids = await opened(4)
    created = await services.lists.create(caller, "L", [ids[3], ids[1]])
    where = ContactFilter(list_id=created.id)
    page = await services.contacts.page(caller, where, 10, None)
    assert [c.id for c in page.items] == [ids[1], ids[3]]
    assert await services.contacts.count(caller, where) == 2


async def test_membership_never_touches_statuses_history_or_counts() -> None:
    services, world, caller, ids = await opened()
    before_account = world.account(caller.account_id)
    before_states = {cid: world.contact(cid).state for cid in ids}
    history = list(world.data.history)
    created = await services.lists.create(caller, "L", ids)
    await services.lists.remove(caller, created.id, ids[:1])
    await services.lists.delete(caller, created.id)
    assert world.account(caller.account_id) == before_account
    assert {cid: world.contact(cid).state for cid in ids} == before_states
    assert world.data.history == history


async def test_a_status_change_and_a_membership_change_at_once_both_hold() -> None:
    services, world, caller, ids = await opened()
    created = await services.lists.create(caller, "L")
    await asyncio.gather(
        services.statuses.set_marketing_status(caller, ids, MarketingStatus.NON_MARKETING),
        services.lists.add(caller, created.id, ids),
    )
    for cid in ids:
        assert world.contact(cid).state is MarketingState.MARKETING_UNTIL_NEXT_UPDATE
        assert world.contact(cid).list_ids == {created.id}


# ---------------------------------------------------------------- refusals change nothing


@pytest.mark.parametrize("name", ["", "   ", "x" * (MAX_NAME_LENGTH + 1)])
async def test_a_name_outside_1_to_200_characters_is_invalid(name: str) -> None:
    services, world, caller, ids = await opened()
    before = world.snapshot()
    with pytest.raises(DomainError) as refused:
        await services.lists.create(caller, name, ids)
    assert codes_and_fields(refused.value) == [(ErrorCode.INVALID, ("name",))]
    assert world.snapshot() == before


async def test_a_name_of_200_characters_after_stripping_is_fine() -> None:
    services, _, caller, _ = await opened()
    name = "x" * MAX_NAME_LENGTH
    assert (await services.lists.create(caller, f" {name} ")).name == name


async def test_contacts_of_another_account_are_not_found_and_nothing_changes() -> None:
    services, world, caller, ids = await opened()
    stranger = await open_account(services, AccountOpening(name="Stranger"))
    (theirs,) = await make_contacts(services, stranger, 1, prefix="theirs")
    existing = await services.lists.create(caller, "L", ids[:1])
    before = world.snapshot()
    asked = [ids[1], theirs.id, "not-an-id", theirs.id]
    calls = [
        services.lists.create(caller, "New", asked),
        services.lists.add(caller, existing.id, asked),
        services.lists.remove(caller, existing.id, [ids[0], *asked]),
    ]
    expected = [
        [(ErrorCode.NOT_FOUND, ("contact_ids", "1")), (ErrorCode.NOT_FOUND, ("contact_ids", "2"))],
        [(ErrorCode.NOT_FOUND, ("contact_ids", "1")), (ErrorCode.NOT_FOUND, ("contact_ids", "2"))],
        [(ErrorCode.NOT_FOUND, ("contact_ids", "2")), (ErrorCode.NOT_FOUND, ("contact_ids", "3"))],
    ]
    for call, errors in zip(calls, expected, strict=True):
        with pytest.raises(DomainError) as refused:
            await call
        assert codes_and_fields(refused.value) == errors
    assert world.snapshot() == before


async def test_a_list_of_another_account_or_unknown_is_not_found() -> None:
    services, world, caller, ids = await opened()
    stranger = await open_account(services, AccountOpening(name="Stranger"))
    theirs = await services.lists.create(stranger, "Theirs")
    before = world.snapshot()
    for list_id in (theirs.id, "not-an-id", "f" * 24):
        assert await services.lists.get(caller, list_id) is None
        for call in (
            services.lists.add(caller, list_id, ids),
            services.lists.remove(caller, list_id, ids),
        ):
            with pytest.raises(DomainError) as refused:
                await call
            assert codes_and_fields(refused.value) == [(ErrorCode.NOT_FOUND, ("list_id",))]
        with pytest.raises(DomainError) as refused:
            await services.lists.delete(caller, list_id)
        assert codes_and_fields(refused.value) == [(ErrorCode.NOT_FOUND, ("id",))]
    assert world.snapshot() == before
    assert await services.lists.get(stranger, theirs.id) == theirs


async def test_more_than_10000_distinct_ids_is_too_many() -> None:
    services, world, caller, _ = await opened()
    created = await services.lists.create(caller, "L")
    too_many = [f"{n:024x}" for n in range(MAX_LIST_CHANGE + 1)]
    before = world.snapshot()
    for call in (
        services.lists.create(caller, "L2", too_many),
        services.lists.add(caller, created.id, too_many),
        services.lists.remove(caller, created.id, too_many),
    ):
        with pytest.raises(DomainError) as refused:
            await call
        assert codes_and_fields(refused.value) == [(ErrorCode.TOO_MANY, ("contact_ids",))]
    assert world.snapshot() == before


async def test_duplicates_count_once_toward_the_limit() -> None:
    services, world, caller, ids = await opened(2)
    created = await services.lists.create(caller, "L", ids * (MAX_LIST_CHANGE // 2 + 1))
    assert members(world, created.id) == set(ids)


# ---------------------------------------------------------------- delete


async def test_delete_removes_the_list_and_every_membership() -> None:
    services, world, caller, ids = await opened()
    created = await services.lists.create(caller, "L", ids)
    kept = await services.lists.create(caller, "K", ids[:1])
    assert await services.lists.delete(caller, created.id) == created.id
    # at once: the list is gone for every read, and no member shows
    assert await services.lists.get(caller, created.id) is None
    assert await services.lists.count(caller) == 1
    where = ContactFilter(list_id=created.id)
    assert await services.contacts.count(caller, where) == 0
    assert (await services.contacts.page(caller, where, 10, None)).items == []
    with pytest.raises(DomainError) as refused:
        await services.lists.delete(caller, created.id)
    assert codes_and_fields(refused.value) == [(ErrorCode.NOT_FOUND, ("id",))]
    # the account's next bulk turn takes the membership out
    assert world.jobs.enqueued == [world.jobs.bulk_job(caller.account_id)]
    assert members(world, created.id) == set(ids)
    turn = await worker_turn(services, caller)
    assert turn.lists_removed == (created.id,)
    assert members(world, created.id) == set() and world.data.list_deletions == {}
    assert members(world, kept.id) == {ids[0]}
    assert await size(services, caller, kept.id) == 1


async def test_a_large_list_is_taken_out_over_turns_each_within_its_budget() -> None:
    services, world, caller, ids = await opened(9)
    runner = BulkRunner(services.ports, BulkRunnerSettings(chunk=2, turn_pages=2, lease=LEASE))
    created = await services.lists.create(caller, "L", ids)
    await services.lists.delete(caller, created.id)
    left = []
    for _ in range(3):
        job = world.jobs.take()  # the account's turn, queued by the delete, then by the last
        await runner.take_turn(caller.account_id, job, lambda _: False)
        left.append(len(members(world, created.id)))
        world.jobs.end(job)
        assert await runner.next_turn(caller.account_id, job) == (left[-1] > 0)
    assert left == [5, 1, 0]  # 2 pages of 2 a turn; the turn that finds fewer removes the list
    assert world.data.list_deletions == {}
    # the mark is off once none is left: the account's later turns do not look for deletions
    assert caller.account_id not in world.jobs.list_deletions


async def test_a_deletion_whose_run_stalled_past_its_lease_is_finished_by_another() -> None:
    services, world, caller, ids = await opened(6)
    runner = BulkRunner(services.ports, BulkRunnerSettings(chunk=2, turn_pages=1, lease=LEASE))
    created = await services.lists.create(caller, "L", ids)
    await services.lists.delete(caller, created.id)
    world.jobs.take()
    await runner.take_turn(caller.account_id, "worker-1", lambda _: False)  # one page, then dies
    assert len(members(world, created.id)) == 4
    assert await runner.sweep() == []  # its lease lasts
    world.clock.advance(seconds=LEASE.total_seconds())
    assert await runner.sweep() == [created.id]
    assert world.jobs.generations[caller.account_id] == 1  # the dead run's job is replaced
    second = BulkRunner(services.ports, BulkRunnerSettings(chunk=10, lease=LEASE))
    turn = await second.take_turn(caller.account_id, "worker-2", lambda _: False)
    assert turn.lists_removed == (created.id,) and members(world, created.id) == set()
    # the stalled run, should it wake, finds nothing to hold
    assert await runner.take_turn(caller.account_id, "worker-1", lambda _: False) == Turn(
        caller.account_id, ()
    )


async def test_a_deletion_never_queued_is_handed_to_a_job_by_the_sweeper() -> None:
    services, world, caller, ids = await opened()
    created = await services.lists.create(caller, "L", ids)
    world.jobs.failing = True
    assert await services.lists.delete(caller, created.id) == created.id  # enqueue failed
    world.jobs.failing = False
    assert await services.bulk_runner.sweep() == []  # a start may still be enqueueing it
    world.clock.advance(seconds=ENQUEUE_GRACE.total_seconds() + 1)
    assert await services.bulk_runner.sweep() == [created.id]
    assert world.jobs.line == [world.jobs.bulk_job(caller.account_id)]
    assert world.jobs.list_deletions == {caller.account_id}  # the mark was lost with the enqueue
    await worker_turn(services, caller)
    assert members(world, created.id) == set() and world.data.list_deletions == {}


async def test_a_contact_deleted_leaves_the_size_of_its_lists() -> None:
    services, _, caller, ids = await opened()
    created = await services.lists.create(caller, "L", ids)
    await services.contacts.delete(caller, ids[0])
    assert await size(services, caller, created.id) == 2


async def test_b1_a_bulk_selection_of_a_deleted_list_is_not_found() -> None:
    services, _, caller, ids = await opened()
    created = await services.lists.create(caller, "L", ids)
    await services.lists.delete(caller, created.id)
    for selection, field in [
        (Selection(list_id=created.id), ("selection", "list_id")),
        (Selection(filter=ContactFilter(list_id=created.id)), ("selection", "filter", "list_id")),
    ]:
        with pytest.raises(DomainError) as refused:
            await services.bulk.preview(caller, selection, MarketingStatus.NON_MARKETING)
        assert codes_and_fields(refused.value) == [(ErrorCode.NOT_FOUND, field)]


@pytest.mark.parametrize("add_turns", range(8))
@pytest.mark.parametrize("delete_turns", range(3))
async def test_an_add_racing_a_delete_leaves_no_member_of_a_deleted_list(
    add_turns: int, delete_turns: int
) -> None:
    services, world, caller, ids = await opened()
    created = await services.lists.create(caller, "L", ids[:1])
    added, deleted = await asyncio.gather(
        later(add_turns, services.lists.add(caller, created.id, ids)),
        later(delete_turns, services.lists.delete(caller, created.id)),
        return_exceptions=True,
    )
    assert deleted == created.id
    if isinstance(added, BaseException):
        assert codes_and_fields(added) == [(ErrorCode.NOT_FOUND, ("list_id",))]
    else:
        assert added.id == created.id and added.size == len(ids)
    await worker_turn(services, caller)
    assert members(world, created.id) == set()


# ---------------------------------------------------------------- pages


async def test_lists_page_newest_first_with_cursors() -> None:
    services, _, caller, _ = await opened(0)
    stranger = await open_account(services, AccountOpening(name="Stranger"))
    await services.lists.create(stranger, "Theirs")
    made = [await services.lists.create(caller, f"L{i}") for i in range(5)]
    seen: list[str] = []
    after = None
    while True:
        page = await services.lists.page(caller, 2, after)
        seen += [item.id for item in page.items]
        if not page.has_next_page:
            break
        after = page.cursors[-1]
    assert seen == [item.id for item in reversed(made)]


@pytest.mark.parametrize(
    ("first", "after", "field"), [(0, None, "first"), (201, None, "first"), (5, "bad", "after")]
)
async def test_bad_page_arguments_are_invalid(first: int, after: str | None, field: str) -> None:
    services, _, caller, _ = await opened(0)
    with pytest.raises(DomainError) as refused:
        await services.lists.page(caller, first, after)
    assert codes_and_fields(refused.value) == [(ErrorCode.INVALID, (field,))]


async def test_t1_the_reconciliation_sets_a_drifted_size_to_the_members() -> None:
    services, world, caller, ids = await opened()
    created = await services.lists.create(caller, "L", ids)
    world.data.lists[created.id] = replace(created, size=1)
    result = await services.usage.reconcile(caller.account_id)
    assert result.drifted and result.lists == (ListRecount(created.id, 1, 3),)
    assert await size(services, caller, created.id) == 3
    assert not (await services.usage.reconcile(caller.account_id)).drifted

"""BulkOperations (B4, B5, P5): operations read back whole, newest first; a start with a key held
makes nothing, nor does one past the account's active operations, however many start at once; a
run claims an operation under a lease; an operation ends once; the sweeper finds what waits too
long or lost its worker."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from marketing_contacts.domain.bulk import (
    BulkOperation,
    BulkOperationStatus,
    BulkProgress,
    Selection,
)
from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.errors import ErrorCode
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import MarketingStatus
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page
from marketing_contacts.services.ports.bulk import IdempotencyKey, TooManyActive
from marketing_contacts.services.wiring import Ports
from tests.contract.records import (
    all_pages,
    items_of,
    new_operation,
    now,
    queued_operation,
    stored_account,
)
from tests.contract.test_exports_port import stored_export

MINUTE = timedelta(minutes=1)
QUEUED, RUNNING = BulkOperationStatus.QUEUED, BulkOperationStatus.RUNNING
COMPLETED, CANCELLED = BulkOperationStatus.COMPLETED, BulkOperationStatus.CANCELLED
EVERY_FILTER_FIELD = ContactFilter(
    marketing_status=MarketingStatus.MARKETING,
    marketing_until_next_update=False,
    email_domain="example.com",
    lifecycle_stage=LifecycleStage.LEAD,
    owner_id="owner-1",
    created_via=CreationSource.FORM,
    created_after=None,
    created_before=None,
    email_hard_bounced=False,
    unsubscribed_from_all=False,
    list_id="list-1",
    unengaged=False,
)


async def test_an_operation_reads_back_with_its_selection(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    at = now(ports)
    selections = [
        Selection(ids=("b", "a", "c")),
        Selection(filter=replace(EVERY_FILTER_FIELD, created_after=at - MINUTE, created_before=at)),
        Selection(list_id="list-7"),
        Selection(unengaged=True),
    ]
    for selection in selections:
        operation = await queued_operation(
            ports,
            account,
            selection=selection,
            target=MarketingStatus.NON_MARKETING,
            source_id="campaign-9",
            progress=BulkProgress(matched=3, failures={ErrorCode.NOT_FOUND: 1}),
        )
        assert await ports.operations.get(Scope(account.id), operation.id) == operation
        assert await ports.operations.load(operation.id) == operation
        assert await ports.operations.get(Scope(other.id), operation.id) is None
    assert await ports.operations.get(Scope(account.id), "not-an-id") is None
    assert await ports.operations.load(ports.ids.new_id()) is None


async def test_operations_page_newest_first(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    made = [await queued_operation(ports, account) for _ in range(3)]
    await queued_operation(ports, other)

    async def read(first: int, after: str | None) -> Page[BulkOperation]:
        return await ports.operations.page(Scope(account.id), first, after)

    pages = await all_pages(read, 2)
    assert items_of(pages) == made[::-1]
    assert [page.has_next_page for page in pages] == [True, False]
    assert [page.has_previous_page for page in pages] == [False] + [True] * (len(pages) - 1)
    assert await ports.operations.count(Scope(account.id)) == 3
    assert await ports.operations.count(Scope(other.id)) == 1


async def test_p3_a_scope_of_owners_sees_the_operations_they_requested(ports: Ports) -> None:
    """An operation is its requester's record: reads, counts and cancels by id of a scope
    limited to some users see theirs only; the scope of its selection is kept with it."""
    account = await stored_account(ports)
    mine = await queued_operation(ports, account, requested_by="u1", owners=frozenset({"u1"}))
    theirs = await queued_operation(ports, account, requested_by="u2")
    u1 = Scope(account.id, frozenset({"u1"}))
    assert await ports.operations.get(u1, mine.id) == mine
    assert await ports.operations.get(u1, theirs.id) is None
    assert (await ports.operations.page(u1, 10, None)).items == [mine]
    assert await ports.operations.count(u1) == 1
    assert await ports.operations.count(Scope(account.id, frozenset({"u1", "u2"}))) == 2
    assert await ports.operations.cancel(u1, theirs.id, now(ports)) is None
    assert await ports.operations.get(Scope(account.id), theirs.id) == theirs  # still QUEUED
    assert await ports.operations.get(Scope(account.id), mine.id) == mine  # owners kept


async def test_a_start_with_a_key_held_stores_nothing_and_answers_the_key(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    first = new_operation(ports, account)
    key = IdempotencyKey("key-1", "hash-1", first.id, now(ports) + timedelta(hours=24))
    assert await ports.operations.insert(first, key) is None
    second = new_operation(ports, account)
    retry = replace(key, input_hash="hash-2", operation_id=second.id)
    assert await ports.operations.insert(second, retry) == key
    assert await ports.operations.load(second.id) is None
    elsewhere = new_operation(ports, other)
    assert await ports.operations.insert(elsewhere, replace(key, operation_id=elsewhere.id)) is None
    assert await ports.operations.load(elsewhere.id) == elsewhere


async def test_a_start_after_its_key_expired_holds_the_key_anew(ports: Ports) -> None:
    account = await stored_account(ports)
    first = new_operation(ports, account, created_at=now(ports) - timedelta(hours=25))
    key = IdempotencyKey("key-1", "hash-1", first.id, now(ports) - timedelta(hours=1))
    assert await ports.operations.insert(first, key) is None
    second = new_operation(ports, account)
    renewed = IdempotencyKey("key-1", "hash-2", second.id, now(ports) + timedelta(hours=24))
    assert await ports.operations.insert(second, renewed) is None
    assert await ports.operations.load(second.id) == second
    assert await ports.idempotency.held(account.id, "key-1", now(ports)) == renewed


async def test_p5_past_its_active_operations_a_start_persists_nothing(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    active = [new_operation(ports, account) for _ in range(3)]
    day = now(ports) + timedelta(hours=24)
    first_key = IdempotencyKey("key-0", "hash-0", active[0].id, day)
    assert await ports.operations.insert(active[0], first_key, 3) is None
    for operation in active[1:]:
        assert await ports.operations.insert(operation, None, 3) is None
    refused = new_operation(ports, account)
    key = IdempotencyKey("key-1", "hash-1", refused.id, day)
    for held in (None, key):
        with pytest.raises(TooManyActive):
            await ports.operations.insert(refused, held, 3)
    assert await ports.operations.load(refused.id) is None
    assert await ports.idempotency.held(account.id, "key-1", now(ports)) is None
    # a key already held answers before the bound: the retry of a start gets its operation
    retry = replace(first_key, operation_id=refused.id)
    assert await ports.operations.insert(refused, retry, 3) == first_key
    # another account has its own bound; an ended operation no longer counts
    assert await ports.operations.insert(new_operation(ports, other), None, 3) is None
    assert await ports.operations.cancel(Scope(account.id), active[1].id, now(ports)) is not None
    assert await ports.operations.insert(refused, key, 3) is None
    assert await ports.operations.load(refused.id) == refused


async def test_p5_an_active_export_counts_toward_a_bulk_starts_bound(ports: Ports) -> None:
    account = await stored_account(ports)
    await stored_export(ports, account)
    assert await ports.operations.insert(new_operation(ports, account), None, 2) is None
    refused = new_operation(ports, account)
    with pytest.raises(TooManyActive):
        await ports.operations.insert(refused, None, 2)
    assert await ports.operations.load(refused.id) is None


async def test_p5_concurrent_starts_never_pass_the_bound_together(ports: Ports) -> None:
    account = await stored_account(ports)
    starts = [new_operation(ports, account) for _ in range(8)]

    async def start(operation: BulkOperation) -> bool:
        try:
            await ports.operations.insert(operation, None, 5)
        except TooManyActive:
            return False
        return True

    passed = await asyncio.gather(*(start(operation) for operation in starts))
    assert sum(passed) == 5
    persisted = [await ports.operations.load(operation.id) for operation in starts]
    assert [found is not None for found in persisted] == passed


async def test_a_queued_operation_is_claimed_under_a_lease(ports: Ports) -> None:
    operation = await queued_operation(ports, await stored_account(ports))
    at = now(ports)
    claimed = await ports.operations.claim(operation.id, "run-1", at, at + MINUTE)
    assert claimed == replace(
        operation, status=RUNNING, lease_owner="run-1", lease_until=at + MINUTE, started_at=at
    )
    assert await ports.operations.load(operation.id) == claimed


async def test_a_leased_operation_goes_to_another_run_only_once_the_lease_ran_out(
    ports: Ports,
) -> None:
    operation = await queued_operation(ports, await stored_account(ports))
    at = now(ports)
    claim = ports.operations.claim
    held = await claim(operation.id, "run-1", at, at + MINUTE)
    assert held is not None
    assert await claim(operation.id, "run-2", at + MINUTE / 2, at + 2 * MINUTE) is None
    again = await claim(operation.id, "run-1", at + MINUTE / 2, at + 3 * MINUTE)
    assert again == replace(held, lease_until=at + 3 * MINUTE)
    taken = await claim(operation.id, "run-2", at + 4 * MINUTE, at + 5 * MINUTE)
    assert taken == replace(held, lease_owner="run-2", lease_until=at + 5 * MINUTE)
    assert await claim(ports.ids.new_id(), "run-1", at, at + MINUTE) is None


async def test_an_operation_ends_once(ports: Ports) -> None:
    operation = await queued_operation(ports, await stored_account(ports))
    at = now(ports)
    claimed = await ports.operations.claim(operation.id, "run-1", at, at + MINUTE)
    assert claimed is not None
    progress = BulkProgress(matched=2, processed=2, changed_now=2)
    ended = await ports.operations.finish(claimed, COMPLETED, progress, at + MINUTE)
    assert ended == replace(
        claimed, status=COMPLETED, progress=progress, finished_at=at + MINUTE, lease_until=None
    )
    assert await ports.operations.load(operation.id) == ended
    assert await ports.operations.finish(claimed, COMPLETED, progress, at + MINUTE) is None
    assert await ports.operations.claim(operation.id, "run-1", at, at + MINUTE) is None
    assert await ports.operations.cancel(Scope(operation.account_id), operation.id, at) is None


async def test_a_run_ends_an_operation_only_while_it_holds_the_lease(ports: Ports) -> None:
    operation = await queued_operation(ports, await stored_account(ports))
    at = now(ports)
    assert await ports.operations.claim(operation.id, "run-1", at, at + MINUTE) is not None
    taken = await ports.operations.claim(operation.id, "run-2", at + 2 * MINUTE, at + 3 * MINUTE)
    assert taken is not None
    progress = BulkProgress(matched=2, processed=2, changed_now=2)
    late = await ports.operations.finish(taken, COMPLETED, progress, at, owner="run-1")
    assert late is None and await ports.operations.load(operation.id) == taken
    ended = await ports.operations.finish(taken, COMPLETED, progress, at, owner="run-2")
    assert ended is not None and ended.status is COMPLETED


async def test_a_queued_operation_may_fail_with_a_reason(ports: Ports) -> None:
    operation = await queued_operation(ports, await stored_account(ports))
    at = now(ports)
    failed = await ports.operations.finish(
        operation, BulkOperationStatus.FAILED, operation.progress, at, failure="list went"
    )
    assert failed == replace(
        operation, status=BulkOperationStatus.FAILED, finished_at=at, failure="list went"
    )


async def test_a_queued_or_running_operation_is_cancelled_in_its_account(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    queued = await queued_operation(ports, account)
    running = await queued_operation(ports, account)
    at = now(ports)
    claimed = await ports.operations.claim(running.id, "run-1", at, at + MINUTE)
    assert claimed is not None
    assert await ports.operations.cancel(Scope(other.id), queued.id, at) is None
    for operation in (queued, claimed):
        cancelled = await ports.operations.cancel(Scope(account.id), operation.id, at + MINUTE)
        assert cancelled == replace(operation, status=CANCELLED, finished_at=at + MINUTE)
        assert await ports.operations.cancel(Scope(account.id), operation.id, at + MINUTE) is None
    assert await ports.operations.cancel(Scope(account.id), "not-an-id", at) is None


async def test_stale_finds_operations_queued_too_long_or_left_by_their_worker(
    ports: Ports,
) -> None:
    first, second = await stored_account(ports), await stored_account(ports)
    at = now(ports)
    old = await queued_operation(ports, first, created_at=at - 10 * MINUTE)
    await queued_operation(ports, second, created_at=at)  # fresh
    abandoned = await queued_operation(ports, second)
    leased = await queued_operation(ports, first)
    done = await queued_operation(ports, first, created_at=at - 10 * MINUTE)
    claim = ports.operations.claim
    left = await claim(abandoned.id, "dead-run", at - 5 * MINUTE, at - MINUTE)
    assert left is not None
    await claim(leased.id, "live-run", at, at + MINUTE)
    await ports.operations.cancel(Scope(first.id), done.id, at)
    stale = await ports.operations.stale(at - 5 * MINUTE, at)
    assert sorted(stale, key=lambda o: o.id) == sorted([old, left], key=lambda o: o.id)


async def test_the_oldest_active_operations_are_the_next_ones_a_turn_works_on(
    ports: Ports,
) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    at = now(ports)
    oldest = ports.operations.oldest_active
    assert await oldest(account.id, 2) == []
    ended = await queued_operation(ports, account, created_at=at - 3 * MINUTE)
    first = await queued_operation(ports, account, created_at=at - 2 * MINUTE)
    second = await queued_operation(ports, account, created_at=at - MINUTE)
    await queued_operation(ports, other, created_at=at - 10 * MINUTE)
    await ports.operations.cancel(Scope(account.id), ended.id, at)
    assert [o.id for o in await oldest(account.id, 1)] == [first.id]
    assert [o.id for o in await oldest(account.id, 5)] == [first.id, second.id]
    running = await ports.operations.claim(first.id, "a-run", at, at + MINUTE)
    assert running is not None
    assert [(o.id, o.status) for o in await oldest(account.id, 1)] == [(first.id, RUNNING)]
    await ports.operations.finish(running, COMPLETED, running.progress, at)
    assert [o.id for o in await oldest(account.id, 2)] == [second.id]

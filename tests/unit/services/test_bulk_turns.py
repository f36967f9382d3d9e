"""Fair bulk work over the fakes: one job per account, bounded turns, accounts taking turns.

`work` plays arq's workers over FakeJobQueue as the real worker does (workers.settings): it
takes the first job of the line, skips a superseded one, takes the account's turn under the
job's id, ends the job, and then enqueues the account's next turn if it has work left.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from marketing_contacts.domain.bulk import (
    MAX_ACTIVE_OPERATIONS,
    BulkOperation,
    BulkOperationStatus,
    Selection,
)
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import MarketingState, MarketingStatus
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.bulk import BulkRequest
from marketing_contacts.services.bulk_runner import BulkRunner, BulkRunnerSettings, Turn
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.registry import Services
from tests.unit.services.fake_bulk import account_of
from tests.unit.services.fakes import (
    FakeWorld,
    fake_services,
    make_contacts,
    never_transient,
    open_account,
)

QUEUED = BulkOperationStatus.QUEUED
RUNNING = BulkOperationStatus.RUNNING
COMPLETED = BulkOperationStatus.COMPLETED
FAILED = BulkOperationStatus.FAILED
EVERYONE = Selection(filter=ContactFilter())
TO_NON_MARKETING = BulkRequest(EVERYONE, MarketingStatus.NON_MARKETING)
LEASE = timedelta(seconds=60)


def runner_of(services: Services, turn_pages: int = 4, chunk: int = 2) -> BulkRunner:
    settings = BulkRunnerSettings(
        chunk=chunk, lease=LEASE, turn_pages=turn_pages, turn_length=timedelta(seconds=10)
    )
    return BulkRunner(services.ports, settings)


async def work(world: FakeWorld, runner: BulkRunner, jobs: int) -> list[Turn]:
    """`jobs` jobs, taken one after another from the front of the line."""
    turns = []
    for _ in range(jobs):
        job = world.jobs.take()
        if world.jobs.is_current(job):
            turns.append(await runner.take_turn(account_of(job), job, never_transient))
        world.jobs.end(job)
        await runner.next_turn(account_of(job), job)
    return turns


async def two_accounts(
    max_active_operations: int = MAX_ACTIVE_OPERATIONS,
) -> tuple[Services, FakeWorld, Caller, Caller]:
    services, world = fake_services(max_active_operations=max_active_operations)
    big = await open_account(services, AccountOpening(name="Big"))
    small = await open_account(services, AccountOpening(name="Small"))
    return services, world, big, small


def status(world: FakeWorld, operation: BulkOperation) -> BulkOperationStatus:
    return world.data.operations[operation.id].status


def unfinished(world: FakeWorld, operations: list[BulkOperation]) -> int:
    return sum(not status(world, o).finished for o in operations)


async def test_an_account_has_one_job_however_many_operations_it_starts() -> None:
    services, world, big, small = await two_accounts()
    for _ in range(5):
        await services.bulk.start(big, TO_NON_MARKETING)
    await services.bulk.start(small, TO_NON_MARKETING)
    assert world.jobs.line == [
        world.jobs.bulk_job(big.account_id),
        world.jobs.bulk_job(small.account_id),
    ]


async def test_a_small_operation_waits_for_one_turn_of_a_backlog_not_for_all_of_it() -> None:
    """One worker, one job at a time: the big account's 30 operations queued first, the small
    account's one after them (P5's bound on active operations raised for the backlog)."""
    services, world, big, small = await two_accounts(max_active_operations=30)
    await make_contacts(services, big, 1)
    await make_contacts(services, small, 2, prefix="small")
    backlog = [await services.bulk.start(big, TO_NON_MARKETING) for _ in range(30)]
    mine = await services.bulk.start(small, TO_NON_MARKETING)
    runner = runner_of(services)

    (first, second) = await work(world, runner, 2)
    # the big account's turn: 4 pages of its budget, 2 operations (a resolution and a page
    # each); then the small account's turn, before the big one's next
    assert [o.id for o in first.ended] == [o.id for o in backlog[:2]]
    assert [(o.id, o.status) for o in second.ended] == [(mine.id, COMPLETED)]
    assert unfinished(world, backlog) == 28
    assert world.jobs.line == [world.jobs.bulk_job(big.account_id)]
    # the backlog goes on, oldest first, turn after turn, until it is done
    turns = await work(world, runner, 14)
    assert [o.id for turn in turns for o in turn.ended] == [o.id for o in backlog[2:]]
    assert [status(world, o) for o in backlog] == [COMPLETED] * 30
    assert world.jobs.line == []


async def test_a_turn_stops_at_its_page_budget_and_the_next_turn_resumes_the_operation() -> None:
    services, world = fake_services()
    caller = await open_account(services)
    made = await make_contacts(services, caller, 10, MarketingStatus.MARKETING)
    operation = await services.bulk.start(caller, TO_NON_MARKETING)
    runner = runner_of(services, turn_pages=3)

    (turn,) = await work(world, runner, 1)
    assert turn.ended == ()
    halfway = world.data.operations[operation.id]
    # its resolution and two pages of two contacts; it stays the turn's, to resume
    assert (halfway.status, halfway.next_page, halfway.progress.processed) == (RUNNING, 2, 4)
    assert halfway.lease_owner == world.jobs.bulk_job(caller.account_id)
    assert world.jobs.line == [halfway.lease_owner]  # the next turn, at the back of the line
    (turn,) = await work(world, runner, 1)  # its last three pages
    assert [o.id for o in turn.ended] == [operation.id]
    done = world.data.operations[operation.id]
    assert (done.status, done.progress.processed, done.progress.became_pending) == (
        COMPLETED,
        10,
        10,
    )
    pending = MarketingState.MARKETING_UNTIL_NEXT_UPDATE
    assert [world.contact(c.id).state for c in made] == [pending] * 10
    assert world.jobs.line == []


async def test_a_turn_begins_no_page_past_its_length() -> None:
    services, world = fake_services()
    caller = await open_account(services)
    await make_contacts(services, caller, 10)
    operation = await services.bulk.start(caller, TO_NON_MARKETING)

    async def slow_page() -> None:
        world.clock.advance(seconds=6)

    world.writer.interfere(slow_page, slow_page)
    (turn,) = await work(world, runner_of(services, turn_pages=100), 1)
    assert turn.ended == ()
    assert world.data.operations[operation.id].next_page == 2  # 12 s after two pages


async def test_an_account_runs_one_operation_at_a_time() -> None:
    """Two jobs of one account at once (a worker stalled past its lease met its successor):
    the second finds the oldest operation held and takes up no other."""
    services, world = fake_services()
    caller = await open_account(services)
    await make_contacts(services, caller, 4)
    first = await services.bulk.start(caller, TO_NON_MARKETING)
    second = await services.bulk.start(caller, TO_NON_MARKETING)
    runner = runner_of(services, turn_pages=2)
    turn = await runner.take_turn(caller.account_id, "job-1", never_transient)
    assert turn.ended == () and status(world, first) is RUNNING
    other = await runner_of(world.another_process()).take_turn(
        caller.account_id, "job-2", never_transient
    )
    assert other.ended == ()
    assert (status(world, first), status(world, second)) == (RUNNING, QUEUED)
    assert world.data.operations[first.id].lease_owner == "job-1"
    assert not await runner.next_turn(caller.account_id, "job-2")  # job-1's to go on with


async def test_a_permanent_failure_ends_its_operation_failed_and_the_turn_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    services, world = fake_services()
    caller = await open_account(services)
    await make_contacts(services, caller, 2)
    broken = await services.bulk.start(caller, TO_NON_MARKETING)
    after = await services.bulk.start(caller, TO_NON_MARKETING)

    async def unreadable() -> None:
        raise ValueError("a document the codec cannot read")

    world.writer.interfere(unreadable)
    with caplog.at_level(logging.ERROR):
        (turn,) = await work(world, runner_of(services), 1)
    assert [(o.id, o.status) for o in turn.ended] == [(broken.id, FAILED), (after.id, COMPLETED)]
    assert turn.ended[0].failure == "ValueError: a document the codec cannot read"
    assert f"bulk operation {broken.id} failed" in caplog.text
    assert world.jobs.line == []


async def test_a_transient_failure_is_raised_and_the_job_takes_the_turn_again() -> None:
    services, world = fake_services()
    caller = await open_account(services)
    made = await make_contacts(services, caller, 3)
    operation = await services.bulk.start(caller, TO_NON_MARKETING)

    async def away() -> None:
        raise ConnectionError("database away")

    world.writer.interfere(away)
    runner = runner_of(services)
    job = world.jobs.take()

    def transient(error: Exception) -> bool:
        return isinstance(error, ConnectionError)

    with pytest.raises(ConnectionError):
        await runner.take_turn(caller.account_id, job, transient)
    assert status(world, operation) is RUNNING
    # arq runs the same job again after a backoff: its lease is its own, it goes on at once
    turn = await runner.take_turn(caller.account_id, job, transient)
    assert [(o.id, o.status) for o in turn.ended] == [(operation.id, COMPLETED)]
    assert [world.contact(c.id).state for c in made] == [MarketingState.NON_MARKETING] * 3


async def test_an_operation_started_while_the_accounts_turn_ends_gets_the_next_turn() -> None:
    services, world = fake_services()
    caller = await open_account(services)
    first = await services.bulk.start(caller, TO_NON_MARKETING)
    runner = runner_of(services)
    job = world.jobs.take()
    turn = await runner.take_turn(caller.account_id, job, never_transient)
    assert [o.id for o in turn.ended] == [first.id]
    # the turn found nothing more; before arq frees its id, another operation starts
    later = await services.bulk.start(caller, TO_NON_MARKETING)
    assert world.jobs.enqueued == [job]  # refused: the id was still taken
    world.jobs.end(job)
    assert await runner.next_turn(caller.account_id, job)
    assert world.jobs.line == [job]
    (turn,) = await work(world, runner, 1)
    assert [(o.id, o.status) for o in turn.ended] == [(later.id, COMPLETED)]
    assert not await runner.next_turn(caller.account_id, job)


async def test_a_turn_cut_short_waiting_past_its_lease_in_a_long_line_is_not_replaced() -> None:
    """Its next turn waits in the queue and will resume the operation: the sweeper must not
    send the account to the back of the line again (it would never get its turn)."""
    services, world = fake_services()
    caller = await open_account(services)
    await make_contacts(services, caller, 10)
    operation = await services.bulk.start(caller, TO_NON_MARKETING)
    runner = runner_of(services, turn_pages=2)
    await work(world, runner, 1)
    assert status(world, operation) is RUNNING
    world.clock.advance(minutes=5)  # many accounts ahead in the line
    assert await runner.sweep() == []
    assert world.jobs.enqueued == [world.jobs.bulk_job(caller.account_id)] * 2

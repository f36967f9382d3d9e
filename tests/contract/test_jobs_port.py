"""JobQueue: work is queued per account. An account has one bulk job at a time, however often
it is enqueued; a turn that ended frees the account for its next one. Update-date and
reconciliation jobs are named by account and date (or day): enqueueing one again is refused,
also after it ran.

A worker takes the jobs: on the fake, as the unit tests do (`take`, then `end`); on arq, a real
arq worker in burst mode with the job names the service's worker runs (and their kept results),
whose functions record which job ids ran. The queue loses its data: on the fake by `lose`; on
Redis by emptying the database the queue lives in. (A running job whose lease ran out, replaced
by a new generation, is a state a burst worker cannot hold: tests/integration/test_job_queue.py
covers it on arq, tests/unit/services/test_bulk_turns.py on the fake.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import pytest
from arq.connections import ArqRedis
from arq.worker import Worker, func

from marketing_contacts.services.wiring import Ports
from marketing_contacts.workers.queue import (
    APPLY_ACCOUNT_UPDATE_DATES,
    RECONCILE_ACCOUNT_USAGE,
    RUN_ACCOUNT_BULK,
)
from tests.contract.implementations import FAKE
from tests.unit.services.fake_bulk import FakeJobQueue

TakeAll = Callable[[], Awaitable[list[str]]]
LoseAll = Callable[[], Awaitable[None]]
DAY = date(2026, 12, 1)


@pytest.fixture
def take_all(implementation: str, ports: Ports, contract_redis_url: str) -> TakeAll:
    """`await take_all()`: a worker runs every waiting job; the ids of the jobs it ran, sorted."""

    async def on_fake() -> list[str]:
        assert isinstance(ports.jobs, FakeJobQueue)
        ran = []
        while ports.jobs.line:
            job = ports.jobs.take()
            ports.jobs.end(job)
            ran.append(job)
        return sorted(ran)

    async def on_arq() -> list[str]:
        ran: list[str] = []

        async def record(ctx: dict[str, Any], *_: object) -> None:
            ran.append(str(ctx["job_id"]))

        pool = ArqRedis.from_url(contract_redis_url)
        worker = Worker(
            [
                func(record, name=RUN_ACCOUNT_BULK, keep_result=0),
                func(record, name=APPLY_ACCOUNT_UPDATE_DATES),
                func(record, name=RECONCILE_ACCOUNT_USAGE),
            ],
            redis_pool=pool,
            burst=True,
            handle_signals=False,
            poll_delay=0,
        )
        try:
            await worker.run_check()
        finally:
            await pool.aclose()
        return sorted(ran)

    return on_fake if implementation == FAKE else on_arq


@pytest.fixture
def lose_all(implementation: str, ports: Ports, contract_redis_url: str) -> LoseAll:
    """`await lose_all()`: the queue loses every job it held (Redis restarted without data)."""

    async def on_fake() -> None:
        assert isinstance(ports.jobs, FakeJobQueue)
        ports.jobs.lose()

    async def on_redis() -> None:
        redis = ArqRedis.from_url(contract_redis_url)
        try:
            await redis.flushdb()
        finally:
            await redis.aclose()

    return on_fake if implementation == FAKE else on_redis


async def test_an_account_has_one_bulk_job_however_often_it_is_enqueued(
    ports: Ports, take_all: TakeAll
) -> None:
    account, other = ports.ids.new_id(), ports.ids.new_id()
    assert await ports.jobs.enqueue_account_bulk(account)
    assert not await ports.jobs.enqueue_account_bulk(account)
    assert await ports.jobs.enqueue_account_bulk(other)
    assert await take_all() == sorted([f"bulk:{account}:0", f"bulk:{other}:0"])


async def test_a_turn_that_ended_frees_the_account_for_its_next_turn(
    ports: Ports, take_all: TakeAll
) -> None:
    account = ports.ids.new_id()
    assert await ports.jobs.enqueue_account_bulk(account)
    assert await take_all() == [f"bulk:{account}:0"]
    assert await ports.jobs.enqueue_account_bulk(account)
    assert await take_all() == [f"bulk:{account}:0"]


async def test_a_waiting_bulk_job_is_not_replaced(ports: Ports, take_all: TakeAll) -> None:
    account = ports.ids.new_id()
    assert await ports.jobs.enqueue_account_bulk(account)
    assert not await ports.jobs.replace_account_bulk(account)
    assert await take_all() == [f"bulk:{account}:0"]
    # nothing waits or runs: a replacement is simply the account's next job
    assert await ports.jobs.replace_account_bulk(account)
    assert await take_all() == [f"bulk:{account}:0"]


async def test_update_date_and_reconciliation_jobs_are_one_per_account_and_date(
    ports: Ports, take_all: TakeAll
) -> None:
    account, other = ports.ids.new_id(), ports.ids.new_id()
    assert await ports.jobs.enqueue_update_dates(account, DAY)
    assert not await ports.jobs.enqueue_update_dates(account, DAY)
    assert await ports.jobs.enqueue_update_dates(other, DAY)
    assert await ports.jobs.enqueue_reconciliation(account, DAY)
    assert not await ports.jobs.enqueue_reconciliation(account, DAY)
    assert await take_all() == sorted(
        [
            f"update-dates:{account}:{DAY.isoformat()}",
            f"update-dates:{other}:{DAY.isoformat()}",
            f"reconcile:{account}:{DAY.isoformat()}",
        ]
    )
    # they ran: the same names are still refused (a repeat of the cron is harmless)
    assert not await ports.jobs.enqueue_update_dates(account, DAY)
    assert not await ports.jobs.enqueue_reconciliation(account, DAY)
    later = date(2026, 12, 2)
    assert await ports.jobs.enqueue_update_dates(account, later)
    assert await ports.jobs.enqueue_reconciliation(account, later)
    assert len(await take_all()) == 2


async def test_jobs_lost_with_the_queues_data_can_be_enqueued_again(
    ports: Ports, lose_all: LoseAll, take_all: TakeAll
) -> None:
    account = ports.ids.new_id()
    assert await ports.jobs.enqueue_account_bulk(account)
    assert await ports.jobs.enqueue_update_dates(account, DAY)
    await lose_all()
    assert await take_all() == []
    assert await ports.jobs.enqueue_account_bulk(account)
    assert await ports.jobs.enqueue_update_dates(account, DAY)
    assert len(await take_all()) == 2


async def test_an_accounts_list_deletions_mark_is_taken_once(ports: Ports) -> None:
    account, other = ports.ids.new_id(), ports.ids.new_id()
    assert not await ports.jobs.take_list_deletions_mark(account)
    await ports.jobs.mark_list_deletions(account)
    await ports.jobs.mark_list_deletions(account)  # marking twice is one mark
    assert not await ports.jobs.take_list_deletions_mark(other)
    assert await ports.jobs.take_list_deletions_mark(account)
    assert not await ports.jobs.take_list_deletions_mark(account)

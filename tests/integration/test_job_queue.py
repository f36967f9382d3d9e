"""The arq job queue behind the JobQueue port, on a Redis of its own, with arq workers run in
this process: one bulk job per account, whose id arq frees when a turn ends, and which moves on
to a new generation when arq would hold it for a job that will not go on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest_asyncio
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import default_queue_name
from arq.jobs import Job, JobStatus
from arq.worker import Function, Worker, func

from marketing_contacts.workers.queue import (
    APPLY_ACCOUNT_UPDATE_DATES,
    RUN_ACCOUNT_BULK,
    ArqJobQueue,
)
from tests.support.servers import start_test_redis

Ctx = dict[str, Any]


@pytest_asyncio.fixture
async def redis(tmp_path: Path) -> AsyncIterator[ArqRedis]:
    server = start_test_redis(tmp_path)
    pool = await create_pool(RedisSettings.from_dsn(server.url))
    try:
        yield pool
    finally:
        await pool.aclose()
        server.stop()


def worker_of(redis: ArqRedis, *functions: Function) -> Worker:
    """A worker that runs what is queued and stops (burst)."""
    return Worker(
        functions=list(functions),
        redis_pool=redis,
        burst=True,
        poll_delay=0.05,
        handle_signals=False,
    )


async def queued(redis: ArqRedis) -> list[str]:
    return [job.decode() for job in await redis.zrange(default_queue_name, 0, -1)]


async def test_an_account_has_one_bulk_job_however_often_it_is_enqueued(redis: ArqRedis) -> None:
    queue = ArqJobQueue(redis)
    assert await queue.enqueue_account_bulk("a")
    assert not await queue.enqueue_account_bulk("a")
    assert await queue.enqueue_account_bulk("b")
    # waiting, the job will take the account's work up: nothing replaces it
    assert not await queue.replace_account_bulk("a")
    assert await queued(redis) == ["bulk:a:0", "bulk:b:0"]


async def test_an_ended_turn_frees_its_id_for_the_accounts_next_turn(redis: ArqRedis) -> None:
    queue = ArqJobQueue(redis)
    ran: list[tuple[str, str, int]] = []

    async def turn(ctx: Ctx, account_id: str, generation: int) -> str:
        ran.append((ctx["job_id"], account_id, generation))
        return "1 operations ended"

    for _ in range(2):
        assert await queue.enqueue_account_bulk("a")
        await worker_of(redis, func(turn, name=RUN_ACCOUNT_BULK, keep_result=0)).main()
    assert ran == [("bulk:a:0", "a", 0)] * 2


async def test_a_running_job_that_lost_its_lease_is_replaced_by_the_next_generation(
    redis: ArqRedis,
) -> None:
    """Its worker died (or stalled): arq holds the id as in progress for minutes."""
    queue = ArqJobQueue(redis)
    started, release = asyncio.Event(), asyncio.Event()
    ran: list[str] = []

    async def stuck(ctx: Ctx, account_id: str, generation: int) -> str:
        ran.append(ctx["job_id"])
        started.set()
        await release.wait()
        return "0 operations ended"

    assert await queue.enqueue_account_bulk("a")
    worker = worker_of(redis, func(stuck, name=RUN_ACCOUNT_BULK, keep_result=0))
    running = asyncio.create_task(worker.main())
    try:
        await asyncio.wait_for(started.wait(), timeout=10)
        assert not await queue.enqueue_account_bulk("a")  # it runs
        assert await queue.is_current("a", 0)
        assert await queue.replace_account_bulk("a")
        assert not await queue.is_current("a", 0)
        assert await queue.is_current("a", 1)
        assert await Job("bulk:a:1", redis).status() is JobStatus.queued
        assert not await queue.enqueue_account_bulk("a")  # the new one waits
        release.set()
        await asyncio.wait_for(running, timeout=10)
    finally:
        release.set()
        running.cancel()
    assert ran == ["bulk:a:0", "bulk:a:1"]


async def test_a_result_arq_kept_for_a_job_it_gave_up_on_does_not_block_the_account(
    redis: ArqRedis,
) -> None:
    """E.g. a worker of another version, without the function: arq fails the job and keeps
    its result for an hour under the id."""
    queue = ArqJobQueue(redis)
    assert await queue.enqueue_account_bulk("a")

    async def unrelated(ctx: Ctx) -> None: ...

    await worker_of(redis, func(unrelated, name="unrelated")).main()
    assert await Job("bulk:a:0", redis).status() is JobStatus.complete
    assert await queue.enqueue_account_bulk("a")
    assert await queued(redis) == ["bulk:a:1"]
    assert await queue.is_current("a", 1)


async def test_update_date_and_reconciliation_jobs_are_one_per_account_and_date(
    redis: ArqRedis,
) -> None:
    queue = ArqJobQueue(redis)
    first, second = date(2025, 2, 1), date(2025, 3, 1)
    assert await queue.enqueue_update_dates("a", first)
    assert not await queue.enqueue_update_dates("a", first)
    assert await queue.enqueue_update_dates("b", first)
    assert await queue.enqueue_reconciliation("a", first)
    assert not await queue.enqueue_reconciliation("a", first)
    applied: list[str] = []

    async def apply(ctx: Ctx, account_id: str) -> int:
        applied.append(ctx["job_id"])
        return 1

    await worker_of(redis, func(apply, name=APPLY_ACCOUNT_UPDATE_DATES)).main()
    assert sorted(applied) == ["update-dates:a:2025-02-01", "update-dates:b:2025-02-01"]
    # ended, its result kept: a repeat of the date is refused; the next date is its own job
    assert not await queue.enqueue_update_dates("a", first)
    assert await queue.enqueue_update_dates("a", second)
    assert await queue.enqueue_reconciliation("a", second)

"""JobQueue: a hand-over of an operation is one job, waiting until a worker takes it; handing the
same attempt over again is harmless, a later attempt is a job of its own (the sweeper relies on
`is_waiting` to hand over only what no job waits for).

A worker takes the jobs: on the fake, as the unit tests do (`take`); on arq, a real arq worker in
burst mode, whose job function records which hand-overs it ran. The queue loses its data: on
the fake by `lose`; on Redis by emptying the database the queue lives in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from arq.connections import ArqRedis
from arq.worker import Worker, func

from marketing_contacts.services.wiring import Ports
from marketing_contacts.workers.queue import RUN_BULK_OPERATION
from tests.contract.implementations import FAKE
from tests.unit.services.fake_bulk import FakeJobQueue

Job = tuple[str, int]
TakeAll = Callable[[], Awaitable[list[Job]]]
LoseAll = Callable[[], Awaitable[None]]


@pytest.fixture
def take_all(implementation: str, ports: Ports, contract_redis_url: str) -> TakeAll:
    """`await take_all()`: a worker takes every waiting job; the hand-overs it ran, sorted."""

    async def on_fake() -> list[Job]:
        assert isinstance(ports.jobs, FakeJobQueue)
        waiting = sorted(ports.jobs.waiting)
        for operation_id, _ in waiting:
            ports.jobs.take(operation_id)
        return waiting

    async def on_arq() -> list[Job]:
        ran: list[Job] = []

        async def run_bulk_operation(ctx: dict[str, Any], operation_id: str) -> None:
            attempt = int(str(ctx["job_id"]).rsplit(":", 1)[1])
            ran.append((operation_id, attempt))

        pool = ArqRedis.from_url(contract_redis_url)
        worker = Worker(
            [func(run_bulk_operation, name=RUN_BULK_OPERATION)],
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
        for operation_id, _ in list(ports.jobs.held):
            ports.jobs.lose(operation_id)

    async def on_redis() -> None:
        redis = ArqRedis.from_url(contract_redis_url)
        try:
            await redis.flushdb()
        finally:
            await redis.aclose()

    return on_fake if implementation == FAKE else on_redis


async def test_a_hand_over_waits_until_a_worker_takes_it(ports: Ports, take_all: TakeAll) -> None:
    operation, other = ports.ids.new_id(), ports.ids.new_id()
    await ports.jobs.enqueue_bulk_operation(operation, 1)
    assert await ports.jobs.is_waiting(operation, 1)
    assert not await ports.jobs.is_waiting(operation, 2)
    assert not await ports.jobs.is_waiting(other, 1)
    assert await take_all() == [(operation, 1)]
    assert not await ports.jobs.is_waiting(operation, 1)


async def test_handing_one_attempt_over_twice_makes_one_job(
    ports: Ports, take_all: TakeAll
) -> None:
    operation = ports.ids.new_id()
    await ports.jobs.enqueue_bulk_operation(operation, 1)
    await ports.jobs.enqueue_bulk_operation(operation, 1)
    assert await take_all() == [(operation, 1)]
    await ports.jobs.enqueue_bulk_operation(operation, 1)  # a retry after it ran: harmless
    assert await take_all() == []
    assert not await ports.jobs.is_waiting(operation, 1)


async def test_a_later_hand_over_is_a_job_of_its_own(ports: Ports, take_all: TakeAll) -> None:
    operation = ports.ids.new_id()
    await ports.jobs.enqueue_bulk_operation(operation, 1)
    assert await take_all() == [(operation, 1)]
    await ports.jobs.enqueue_bulk_operation(operation, 2)
    assert await ports.jobs.is_waiting(operation, 2)
    assert await take_all() == [(operation, 2)]


async def test_a_hand_over_lost_with_the_queues_data_no_longer_waits(
    ports: Ports, lose_all: LoseAll, take_all: TakeAll
) -> None:
    operation = ports.ids.new_id()
    await ports.jobs.enqueue_bulk_operation(operation, 1)
    await lose_all()
    assert not await ports.jobs.is_waiting(operation, 1)
    assert await take_all() == []
    await ports.jobs.enqueue_bulk_operation(operation, 1)
    assert await ports.jobs.is_waiting(operation, 1)

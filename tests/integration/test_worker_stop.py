"""B4: a worker told to stop while Redis is away stops cleanly, whatever its jobs were doing.

The worker runs in this process against its own Redis server, which the test kills at the one
moment that used to break the stop: a job has done its work and records its result in Redis.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from arq import create_pool
from arq.worker import func
from redis.exceptions import ConnectionError as RedisConnectionError

from marketing_contacts.workers.redis_patience import PatientBackoff, redis_settings
from marketing_contacts.workers.run import StoppableWorker
from tests.support.servers import start_test_redis
from tests.support.waiting import settle
from tests.support.workers import kill_hard


class WatchedPatience(PatientBackoff):
    """The worker's patience, noting what waits out Redis being away: the names of the
    functions on the call stack of each wait (arq's `finish_job` records a job's result)."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting_in: set[str] = set()

    def compute(self, failures: int) -> float:
        frame: FrameType | None = sys._getframe()
        while frame is not None:
            self.waiting_in.add(frame.f_code.co_name)
            frame = frame.f_back
        return super().compute(failures)


async def test_b4_a_worker_stopped_while_a_job_records_its_result_without_redis_stops(
    tmp_path: Path,
) -> None:
    redis = start_test_redis(tmp_path)
    patience = WatchedPatience()  # this worker's own, so that stopping it stops no other
    settings = redis_settings(redis.url, patience)
    finished = asyncio.Event()

    async def ends_as_redis_goes(ctx: dict[str, Any]) -> str:
        kill_hard(redis.process)  # the job is done, and its result has nowhere to go
        finished.set()
        return "done"

    queue = await create_pool(settings)
    await queue.enqueue_job("ends_as_redis_goes")
    await queue.aclose(close_connection_pool=True)
    worker = StoppableWorker(
        functions=[func(ends_as_redis_goes, name="ends_as_redis_goes")],
        redis_settings=settings,
        handle_signals=False,
        poll_delay=0.05,
    )
    worker.on_stop = lambda _signal: patience.stop_waiting()
    running = asyncio.create_task(worker.async_run())
    try:
        await asyncio.wait_for(finished.wait(), timeout=10)
        # the job's own task records its result, and waits for Redis to take it: the stop
        # cancels exactly that
        await settle(lambda: "finish_job" in patience.waiting_in)
        assert [task.done() for task in worker.tasks.values()] == [False]
        worker.handle_sig(signal.SIGTERM)
        # the close ends on Redis being away (the worker then exits saying so), not on the
        # cancelled job's CancelledError halfway through
        with pytest.raises(RedisConnectionError, match="worker is stopping"):
            await asyncio.wait_for(worker.close(), timeout=10)
        assert worker.tasks == {}
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        redis.stop()

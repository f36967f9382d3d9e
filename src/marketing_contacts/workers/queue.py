"""Enqueueing jobs with arq."""

from __future__ import annotations

from arq.connections import ArqRedis
from arq.jobs import Job, JobStatus

RUN_BULK_OPERATION = "run_bulk_operation"


class ArqJobQueue:
    def __init__(self, redis: ArqRedis) -> None:
        self.redis = redis

    async def enqueue_bulk_operation(self, operation_id: str, attempt: int) -> None:
        """One job per hand-over: arq ignores a job id it already holds, so a retry of the same
        hand-over is harmless and a later one (the sweeper's) gets a new id."""
        await self.redis.enqueue_job(
            RUN_BULK_OPERATION, operation_id, _job_id=_job_id(operation_id, attempt)
        )

    async def is_waiting(self, operation_id: str, attempt: int) -> bool:
        status = await Job(_job_id(operation_id, attempt), self.redis).status()
        return status in (JobStatus.queued, JobStatus.deferred)


def _job_id(operation_id: str, attempt: int) -> str:
    return f"bulk:{operation_id}:{attempt}"

"""Enqueueing jobs with arq.

A bulk job is one turn of one account's bulk operations, with the id
`bulk:<account>:<generation>`: arq refuses an id while its job waits or runs, so an account has
one such job at a time, whatever the number of its operations. A turn keeps no result, so the
account's next turn takes the same id once the last one ended. The account's generation (a
Redis hash) moves on only when the id is held by a job that will not go on: a running job
whose lease ran out (its worker died; arq would hold the id until its own in-progress timeout,
minutes later), or a job arq gave up on and kept a result for. A job of an older generation,
should arq run it again, does nothing (`is_current`).

An update-date job is named by its account and the oldest date it applies, a reconciliation
job by its account and day; arq keeps their results for an hour, so enqueueing one again is
refused meanwhile.
"""

from __future__ import annotations

from datetime import date

from arq.connections import ArqRedis
from arq.constants import job_key_prefix
from arq.jobs import Job, JobStatus

RUN_ACCOUNT_BULK = "run_account_bulk"
APPLY_ACCOUNT_UPDATE_DATES = "apply_account_update_dates"
RECONCILE_ACCOUNT_USAGE = "reconcile_account_usage"
RUN_IMPORT = "run_import"
RUN_EXPORT = "run_export"
#: Redis hash: account id -> the generation of its bulk job
GENERATIONS = "bulk:generations"
#: Redis set: the accounts with deleted lists whose membership is still to take out, so that a
#: turn of an account without any sends no database command to look
LIST_DELETIONS = "bulk:list-deletions"
_WAITING = (JobStatus.queued, JobStatus.deferred)


def bulk_job_id(account_id: str, generation: int) -> str:
    return f"bulk:{account_id}:{generation}"


class ArqJobQueue:
    def __init__(self, redis: ArqRedis) -> None:
        self.redis = redis

    async def enqueue_account_bulk(self, account_id: str) -> bool:
        return await self._enqueue_turn(account_id, await self._generation(account_id))

    async def replace_account_bulk(self, account_id: str) -> bool:
        generation = await self._generation(account_id)
        status = await Job(bulk_job_id(account_id, generation), self.redis).status()
        if status in _WAITING:
            return False
        if status is JobStatus.in_progress:
            generation = await self._next_generation(account_id)
        return await self._enqueue_turn(account_id, generation)

    async def is_current(self, account_id: str, generation: int) -> bool:
        """The account's bulk job of `generation` is the one that takes its turns."""
        return await self._generation(account_id) == generation

    async def mark_list_deletions(self, account_id: str) -> None:
        await self.redis.sadd(LIST_DELETIONS, account_id)  # type: ignore[misc]

    async def take_list_deletions_mark(self, account_id: str) -> bool:
        taken: int = await self.redis.srem(LIST_DELETIONS, account_id)  # type: ignore[misc]
        return taken == 1

    async def enqueue_update_dates(self, account_id: str, update_date: date) -> bool:
        job_id = f"update-dates:{account_id}:{update_date.isoformat()}"
        job = await self.redis.enqueue_job(APPLY_ACCOUNT_UPDATE_DATES, account_id, _job_id=job_id)
        return job is not None

    async def enqueue_reconciliation(self, account_id: str, day: date) -> bool:
        job_id = f"reconcile:{account_id}:{day.isoformat()}"
        job = await self.redis.enqueue_job(RECONCILE_ACCOUNT_USAGE, account_id, _job_id=job_id)
        return job is not None

    async def enqueue_export(self, export_id: str) -> bool:
        """I6: one job per export, `export:<id>`; it keeps no result, so the sweep can
        enqueue an export whose job was lost."""
        job = await self.redis.enqueue_job(RUN_EXPORT, export_id, _job_id=f"export:{export_id}")
        return job is not None

    async def enqueue_import(self, import_id: str, attempt: int = 0) -> bool:
        """I1: `import:<id>:<attempt>`; a job keeps no result, and one taking over from a dead
        worker (whose job id arq still holds) is named after the lease that ran out."""
        job_id = f"import:{import_id}:{attempt}"
        job = await self.redis.enqueue_job(RUN_IMPORT, import_id, _job_id=job_id)
        return job is not None

    async def _enqueue_turn(self, account_id: str, generation: int) -> bool:
        if await self._enqueue(account_id, generation):
            return True
        if await self.redis.exists(job_key_prefix + bulk_job_id(account_id, generation)):
            return False  # the account's job waits or runs
        # refused for a result arq kept (a job it gave up on): the next generation takes over
        return await self._enqueue(account_id, await self._next_generation(account_id))

    async def _enqueue(self, account_id: str, generation: int) -> bool:
        job_id = bulk_job_id(account_id, generation)
        job = await self.redis.enqueue_job(RUN_ACCOUNT_BULK, account_id, generation, _job_id=job_id)
        return job is not None

    # redis-py types each command for its sync and async clients at once (`Awaitable[T] | T`)
    async def _generation(self, account_id: str) -> int:
        stored = await self.redis.hget(GENERATIONS, account_id)  # type: ignore[misc]
        return 0 if stored is None else int(stored)

    async def _next_generation(self, account_id: str) -> int:
        generation: int = await self.redis.hincrby(GENERATIONS, account_id)  # type: ignore[misc]
        return generation

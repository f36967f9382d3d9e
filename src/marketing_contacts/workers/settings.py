"""The arq worker: bulk operations, scheduled update dates, alert delivery and the daily usage
reconciliation.

Work is queued per account so that no account's load holds up another's: a bulk job is one
bounded turn of one account (at most one such job per account waits or runs), and the update
dates and the reconciliation are crons that only enqueue one job per account."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any, TypeVar

from arq import Retry, cron
from arq.cron import CronJob
from arq.typing import StartupShutdown, WorkerCoroutine
from arq.worker import Function, func
from pymongo.errors import ConnectionFailure as PyMongoConnectionFailure
from pymongo.errors import ExecutionTimeout as PyMongoExecutionTimeout
from pymongo.errors import NotPrimaryError as PyMongoNotPrimary
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.runtime import Runtime, open_runtime
from marketing_contacts.settings import get_settings
from marketing_contacts.workers.exports import run_export, sweep_exports
from marketing_contacts.workers.imports import JOB_TIMEOUT_SECONDS, run_import, sweep_imports
from marketing_contacts.workers.queue import (
    APPLY_ACCOUNT_UPDATE_DATES,
    RECONCILE_ACCOUNT_USAGE,
    RUN_ACCOUNT_BULK,
    RUN_EXPORT,
    RUN_IMPORT,
)
from marketing_contacts.workers.redis_patience import redis_settings

log = logging.getLogger(__name__)
Ctx = dict[str, Any]
T = TypeVar("T")


def runtime_of(ctx: Ctx) -> Runtime:
    runtime: Runtime = ctx["runtime"]
    return runtime


async def startup(ctx: Ctx) -> None:
    stack = AsyncExitStack()
    ctx["stack"] = stack
    ctx["runtime"] = await stack.enter_async_context(open_runtime(get_settings()))


async def shutdown(ctx: Ctx) -> None:
    await ctx["stack"].aclose()


async def apply_update_dates(ctx: Ctx) -> int:
    """U3/U4: a job for every account whose update date has begun in its own zone; the jobs
    enqueued."""
    return len(await runtime_of(ctx).services.update_dates.enqueue_due(datetime.now(UTC)))


async def apply_account_update_dates(ctx: Ctx, account_id: str) -> int:
    """U4: the account's due update dates, oldest first, each once; the dates applied."""
    update_dates = runtime_of(ctx).services.update_dates
    applied = await _retried_if_transient(
        ctx,
        f"update dates of account {account_id}",
        lambda: update_dates.apply_due_for(account_id, datetime.now(UTC)),
    )
    for one in applied:
        log.info(
            "update date %s of account %s: %d contacts became non-marketing",
            one.update_date,
            one.account_id,
            one.contacts_changed,
        )
    return len(applied)


async def reconcile_usage(ctx: Ctx) -> int:
    """T1: a reconciliation job for every account, once a day; the jobs enqueued."""
    return len(await runtime_of(ctx).services.usage.enqueue_all(datetime.now(UTC).date()))


async def reconcile_account_usage(ctx: Ctx, account_id: str) -> bool:
    """T1: recount the account; log and repair any drift. True if it had drifted."""
    usage = runtime_of(ctx).services.usage
    result = await _retried_if_transient(
        ctx, f"reconciliation of account {account_id}", lambda: usage.reconcile(account_id)
    )
    if result.stored != result.actual:
        log.warning(
            "usage of account %s drifted: stored %s, actual %s (repaired)",
            result.account_id,
            result.stored,
            result.actual,
        )
    for recount in result.lists:
        log.warning(
            "size of list %s of account %s drifted: stored %d, actual %d (repaired)",
            recount.list_id,
            result.account_id,
            recount.stored,
            recount.actual,
        )
    return result.drifted


async def deliver_alerts(ctx: Ctx) -> int:
    """A3: publish the alerts a crash or a broker outage left stored but unpublished."""
    delivered = await runtime_of(ctx).services.alert_delivery.deliver_awaiting()
    if delivered:
        log.warning("delivered %d alerts that their writer could not publish", delivered)
    return delivered


#: failures worth retrying: the database or Redis briefly away, a timeout, a lost primary
TRANSIENT = (
    PyMongoConnectionFailure,
    PyMongoNotPrimary,
    PyMongoExecutionTimeout,
    RedisConnectionError,
    RedisTimeoutError,
    TimeoutError,
    ConnectionError,
)
MAX_TRIES = 8
#: where a bulk turn leaves its account and owner for `after_job_end`
NEXT_TURN = "next_bulk_turn"


async def run_account_bulk(ctx: Ctx, account_id: str, generation: int) -> str:
    """B4: one turn of the account's bulk operations (services.bulk_runner); transient
    failures retry the turn with backoff, permanent ones end their operation FAILED with the
    reason, never a silent stop. The next turn is enqueued once arq has recorded this one's
    end (`after_job_end`)."""
    runtime = runtime_of(ctx)
    if not await runtime.jobs.is_current(account_id, generation):
        return "SUPERSEDED"  # its worker lost the lease, and a newer job took the account on
    owner = str(ctx["job_id"])
    runner = runtime.services.bulk_runner
    turn = await _retried_if_transient(
        ctx,
        f"bulk turn of account {account_id}",
        lambda: runner.take_turn(account_id, owner, is_transient),
    )
    ctx[NEXT_TURN] = (account_id, owner)
    return f"{len(turn.ended)} operations ended"


async def after_job_end(ctx: Ctx) -> None:
    """Once arq has recorded a bulk turn's end (so its id is free): the account's next turn,
    at the back of the queue, while it has work left."""
    next_turn: tuple[str, str] | None = ctx.get(NEXT_TURN)
    if next_turn is None:
        return
    account_id, owner = next_turn
    try:
        await runtime_of(ctx).services.bulk_runner.next_turn(account_id, owner)
    except Exception:
        log.exception(
            "enqueueing the next bulk turn of account %s failed; the sweeper will", account_id
        )


def is_transient(error: Exception) -> bool:
    """Worth trying again later: a TRANSIENT failure, or every attempt of a chunk met a
    write conflict: another writer holds the documents, e.g. the transaction a killed worker
    left open, which the server aborts only after transactionLifetimeLimitSeconds (60 s by
    default). That passes."""
    return isinstance(error, TRANSIENT) or (
        isinstance(error, DomainError) and any(e.code is ErrorCode.CONFLICT for e in error.errors)
    )


async def _retried_if_transient(ctx: Ctx, what: str, work: Callable[[], Awaitable[T]]) -> T:
    """`work`, whose transient failure has arq run the job again after a backoff."""
    try:
        return await work()
    except Exception as error:
        if not is_transient(error):
            raise
        tries = int(ctx.get("job_try", 1))
        log.warning("%s: transient failure (try %d): %r", what, tries, error)
        raise Retry(defer=min(2**tries, 60)) from error


async def sweep_bulk_operations(ctx: Ctx) -> int:
    """B4/principle 5: enqueue operations persisted but never queued, or left by a dead worker."""
    return len(await runtime_of(ctx).services.bulk_runner.sweep())


def _every(minutes: int) -> set[int]:
    return set(range(0, 60, minutes))


#: alerts awaiting delivery are looked for every 10 seconds
ALERT_DELIVERY_SECONDS = set(range(5, 60, 10))


class WorkerSettings:
    redis_settings = redis_settings(get_settings().redis_url)
    functions: Sequence[WorkerCoroutine | Function] = [
        # a turn keeps no result: the account's next turn takes the same job id
        func(run_account_bulk, name=RUN_ACCOUNT_BULK, max_tries=MAX_TRIES, keep_result=0),
        func(apply_account_update_dates, name=APPLY_ACCOUNT_UPDATE_DATES, max_tries=MAX_TRIES),
        func(reconcile_account_usage, name=RECONCILE_ACCOUNT_USAGE, max_tries=MAX_TRIES),
        apply_update_dates,
        reconcile_usage,
        sweep_bulk_operations,
        deliver_alerts,
        # I6: an export's job keeps no result, so the sweep may enqueue a lost one again
        func(run_export, name=RUN_EXPORT, max_tries=MAX_TRIES, keep_result=0),
        sweep_exports,
        # I1: one job per import and attempt; it keeps no result
        func(
            run_import,
            name=RUN_IMPORT,
            max_tries=MAX_TRIES,
            keep_result=0,
            timeout=JOB_TIMEOUT_SECONDS,
        ),
        sweep_imports,
    ]
    cron_jobs: Sequence[CronJob] | None = [
        cron(
            apply_update_dates,
            minute=_every(get_settings().update_date_interval_minutes),
            unique=True,
            run_at_startup=True,
        ),
        cron(reconcile_usage, hour={3}, minute={17}, unique=True),
        cron(sweep_bulk_operations, second={0}, unique=True, run_at_startup=True),
        cron(deliver_alerts, second=ALERT_DELIVERY_SECONDS, unique=True, run_at_startup=True),
        cron(sweep_exports, minute=_every(10), second={30}, unique=True, run_at_startup=True),
        cron(sweep_imports, second={15, 45}, unique=True, run_at_startup=True),
    ]
    on_startup: StartupShutdown | None = startup
    on_shutdown: StartupShutdown | None = shutdown
    after_job_end: StartupShutdown | None = after_job_end
    max_jobs = get_settings().worker_max_jobs
    # how often an idle worker looks for jobs (arq: 0.5 s): an account's next turn, enqueued
    # as its last one ends, waits at most this long for the worker that just ran it
    poll_delay = 0.2

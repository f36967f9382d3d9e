"""The arq worker: bulk operations, scheduled update dates, alert delivery and the daily usage
reconciliation."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

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
from marketing_contacts.workers.queue import RUN_BULK_OPERATION
from marketing_contacts.workers.redis_patience import redis_settings

log = logging.getLogger(__name__)
Ctx = dict[str, Any]


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
    """U3/U4: every account whose update date has begun in its own zone, each date once."""
    applied = await runtime_of(ctx).services.update_dates.apply_due(datetime.now(UTC))
    for one in applied:
        log.info(
            "update date %s of account %s: %d contacts became non-marketing",
            one.update_date,
            one.account_id,
            one.contacts_changed,
        )
    return len(applied)


async def reconcile_usage(ctx: Ctx) -> int:
    """T1: recount every account; log and repair any drift."""
    results = await runtime_of(ctx).services.usage.reconcile_all()
    for result in results:
        if result.drifted:
            log.warning(
                "usage of account %s drifted: stored %s, actual %s (repaired)",
                result.account_id,
                result.stored,
                result.actual,
            )
    return sum(result.drifted for result in results)


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


async def run_bulk_operation(ctx: Ctx, operation_id: str) -> str:
    """B4: apply a bulk operation; transient failures retry with backoff, permanent ones end
    it FAILED with the reason, never a silent stop."""
    runner = runtime_of(ctx).services.bulk_runner
    owner = str(ctx.get("job_id", operation_id))
    try:
        operation = await runner.run(operation_id, owner)
    except Exception as error:
        if not isinstance(error, TRANSIENT) and not _contended(error):
            log.exception("bulk operation %s failed", operation_id)
            await runner.fail(operation_id, f"{type(error).__name__}: {error}")
            return "FAILED"
        tries = int(ctx.get("job_try", 1))
        log.warning("bulk operation %s: transient failure (try %d): %r", operation_id, tries, error)
        raise Retry(defer=min(2**tries, 60)) from error
    return "HELD ELSEWHERE" if operation is None else operation.status.value


def _contended(error: Exception) -> bool:
    """Every attempt of a chunk met a write conflict: another writer holds the documents, e.g.
    the transaction a killed worker left open, which the server aborts only after
    transactionLifetimeLimitSeconds (60 s by default). That passes: retry later."""
    return isinstance(error, DomainError) and any(
        e.code is ErrorCode.CONFLICT for e in error.errors
    )


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
        func(run_bulk_operation, name=RUN_BULK_OPERATION, max_tries=MAX_TRIES),
        apply_update_dates,
        reconcile_usage,
        sweep_bulk_operations,
        deliver_alerts,
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
    ]
    on_startup: StartupShutdown | None = startup
    on_shutdown: StartupShutdown | None = shutdown

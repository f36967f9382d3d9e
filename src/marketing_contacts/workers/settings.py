"""The arq worker: scheduled update dates and the daily usage reconciliation."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.cron import CronJob
from arq.typing import StartupShutdown, WorkerCoroutine
from arq.worker import Function

from marketing_contacts.runtime import Runtime, open_runtime
from marketing_contacts.settings import get_settings

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


def _every(minutes: int) -> set[int]:
    return set(range(0, 60, minutes))


class WorkerSettings:
    redis_settings = RedisSettings.from_dsn(get_settings().redis_url)
    functions: Sequence[WorkerCoroutine | Function] = [apply_update_dates, reconcile_usage]
    cron_jobs: Sequence[CronJob] | None = [
        cron(
            apply_update_dates,
            minute=_every(get_settings().update_date_interval_minutes),
            unique=True,
            run_at_startup=True,
        ),
        cron(reconcile_usage, hour={3}, minute={17}, unique=True),
    ]
    on_startup: StartupShutdown | None = startup
    on_shutdown: StartupShutdown | None = shutdown

"""The worker's schedules (U4, T1, B4, A3): what runs when, and that each runs once per time."""

from __future__ import annotations

from marketing_contacts.workers.settings import WorkerSettings


def schedules() -> dict[str, tuple[object, ...]]:
    assert WorkerSettings.cron_jobs is not None
    return {
        job.name: (job.hour, job.minute, job.second, job.unique, job.run_at_startup)
        for job in WorkerSettings.cron_jobs
    }


def test_every_schedule_is_unique_across_workers() -> None:
    assert WorkerSettings.cron_jobs is not None
    assert all(job.unique for job in WorkerSettings.cron_jobs)


def test_the_schedules() -> None:
    every_five_minutes = set(range(0, 60, 5))  # UPDATE_DATE_INTERVAL_MINUTES' default
    assert schedules() == {
        # U3/U4: due update dates, also right after a worker (re)starts
        "cron:apply_update_dates": (None, every_five_minutes, 0, True, True),
        # T1: the daily reconciliation
        "cron:reconcile_usage": ({3}, {17}, 0, True, False),
        # B4: operations persisted but not queued, or left by a dead worker
        "cron:sweep_bulk_operations": (None, None, {0}, True, True),
        # A3: alerts their writer could not publish
        "cron:deliver_alerts": (None, None, set(range(5, 60, 10)), True, True),
        # I6: expired exports deleted with their files, every 10 minutes; lost jobs enqueued
        "cron:sweep_exports": (None, set(range(0, 60, 10)), {30}, True, True),
        # I1: imports persisted but not queued, or left by a dead worker past their lease
        "cron:sweep_imports": (None, None, {15, 45}, True, True),
    }

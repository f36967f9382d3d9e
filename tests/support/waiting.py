"""Waiting on facts: every wait of the test suite is one of these polls with a deadline.

A test never sleeps to let something happen: it polls the state that proves it happened (or
waits for the event that does), and fails at a deadline with what it was waiting for. These are
the only places in tests/ that pause, and each pause is one poll interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from pymongo.errors import PyMongoError

from marketing_contacts.dev.processes import ManagedProcess
from marketing_contacts.storage.database import ACCOUNTS, Mongo

T = TypeVar("T")

POLL_SECONDS = 0.05
#: how often mongod looks for expired transactions, about
REAPER_TICK_SECONDS = 1.0


async def let_others_run() -> None:
    """Give the event loop's other tasks a turn, as real I/O would (fakes of the ports)."""
    await asyncio.sleep(0)


async def settle(predicate: Callable[[], bool], within: float = 5.0) -> None:
    """Poll a condition another task or process brings about, up to a deadline."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - the condition is outside this task
            await asyncio.sleep(POLL_SECONDS)


async def until_past(instant: datetime, within: float = 120.0) -> None:
    """Poll the wall clock until `instant` has passed (a lease, an expiry: facts of time)."""
    await settle(lambda: datetime.now(UTC) > instant, within)


def poll_until(
    ready: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    process: subprocess.Popen[bytes],
    log: Path,
) -> None:
    """Poll `ready()` until true; fail at the deadline or as soon as `process` exited."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            raise AssertionError(
                f"{process.args!r} exited with {process.returncode} before {what}:\n"
                f"{log.read_text()}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()}")
        time.sleep(POLL_SECONDS * 4)


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    within: float,
    what: str,
    interval: float = POLL_SECONDS,
    processes: tuple[ManagedProcess, ...] = (),
) -> T:
    """Poll `probe` until it returns something other than None; fail at the deadline, or at
    once when one of `processes` died (with the end of its log)."""
    deadline = time.monotonic() + within
    while True:
        found = await probe()
        if found is not None:
            return found
        for process in processes:
            if not process.is_running():
                raise AssertionError(
                    f"{process.name} exited with {process.returncode} before {what}\n"
                    f"{process.log_tail()}"
                )
        if time.monotonic() >= deadline:
            tails = "\n".join(f"--- {p.name}\n{p.log_tail()}" for p in processes)
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what}\n{tails}")
        await asyncio.sleep(interval)


@asynccontextmanager
async def transaction_reaper(mongo: Mongo) -> AsyncIterator[None]:
    """Stands in for mongod's periodic abort of expired transactions while it is open.

    SecantusDB aborts a transaction idle past its lifetime (60 s) only when some transaction
    statement reaches the server; mongod does it every few seconds by itself. Without a tick, a
    plain write blocked behind a transaction a killed process left open would wait forever."""

    async def tick() -> None:
        while True:
            with contextlib.suppress(PyMongoError):
                async with (
                    mongo.client.start_session() as session,
                    await session.start_transaction(),
                ):
                    await mongo[ACCOUNTS].find_one({}, session=session)
            await asyncio.sleep(REAPER_TICK_SECONDS)

    task = asyncio.create_task(tick())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

"""A bulk status change (B4) over N contacts, applied by a real arq worker process.

Starts its own Redis, and a fresh SecantusDB (in memory) for each N, on free ports. Per N it:

1. seeds a fresh database with one account of N non-marketing contacts (insert_many, then the
   usage reconciliation sets the counters: seeding is not what is measured);
2. starts a fresh worker process (`python bench/bulk.py --worker REPORT`: arq's `run_worker`
   on the project's `WorkerSettings`, exactly what `marketing-contacts worker` runs, plus a
   PyMongo CommandListener and job hooks that record, around the bulk job only, the database
   commands it issued and the process's peak RSS);
3. starts the operation (MARKETING over every contact: each one changes) through BulkService,
   which enqueues it; the worker applies it in chunks of BULK_CHUNK_SIZE (500);
4. reads the worker's time from the operation itself (finishedAt - startedAt, both written by
   the worker), and its commands and memory from the report;
5. seeds a second fresh database the same way and runs "raw": the same updates written
   directly with PyMongo in the bench process: chunked finds by _id, then per chunk one
   transaction with the account's conditional counter update, a bulk_write of the contacts and
   an insert_many of their history entries.

Printed per N: contacts per second, commands per 1,000 contacts (worker and raw), the ratio
worker time / raw time (the same server in the same run, so it does not depend on SecantusDB's
speed), and the worker's peak RSS (a fresh process per N, so each peak is that N's own).

SecantusDB is slow on large collections (shared/design.md), so the sizes run in order under a
time budget: a size whose projected time (linear in N from the previous size) does not fit is
cut to what fits (time grows about as N^1.75 there), and the script says so: 50,000 does not fit
(it would take ~25 minutes). BENCH_BULK_SIZES (default "2000,10000,15000,50000") and
BENCH_BULK_BUDGET_SECONDS (default 270) change them. Run from the repository root:
`.venv/bin/python bench/bulk.py`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from arq.constants import default_queue_name, health_check_key_suffix
from bson import ObjectId
from pymongo import UpdateOne, monitoring
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from marketing_contacts.dev.processes import ManagedProcess, free_port, start_process, wait_until
from marketing_contacts.dev.servers import IN_MEMORY, start_mongo, start_redis
from marketing_contacts.domain.bulk import BulkOperationStatus, Selection
from marketing_contacts.domain.contacts import Contact
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import (
    MarketingState,
    MarketingStatus,
    StatusSource,
    StatusSourceType,
)
from marketing_contacts.domain.update_dates import update_instant
from marketing_contacts.runtime import Runtime, open_runtime
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.bulk import BulkRequest
from marketing_contacts.settings import Settings
from marketing_contacts.storage.codec import contact_doc
from marketing_contacts.storage.database import (
    ACCOUNTS,
    CONTACTS,
    STATUS_HISTORY,
    UPDATE_DATES,
    Mongo,
    connect,
)
from marketing_contacts.storage.ids import MongoIds

Doc = dict[str, Any]
DEFAULT_SIZES = (2_000, 10_000, 15_000, 50_000)
DEFAULT_BUDGET_SECONDS = 270.0
#: SecantusDB's time per contact grows with the collection: measured here, 10,000 contacts took
#: 106 s (seeding two databases, worker, raw) and 20,000 took 354 s, i.e. time ~ N^1.75
GROWTH_EXPONENT = 1.75
CHUNK = 500
MONTH = timedelta(days=31)
SEED_BATCH = 2_000
SEED_TIMEOUT_SECONDS = 120.0
HEALTH_KEY = default_queue_name + health_check_key_suffix


class CommandCounter(monitoring.CommandListener):
    """Names of the commands started while `recording` is on."""

    def __init__(self) -> None:
        self.recording = False
        self.names: Counter[str] = Counter()
        self.failures = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.recording:
            self.names[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        if self.recording:
            self.failures += 1


def peak_rss_kb() -> int:
    """The process's peak resident set size so far (Linux: KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


# ---------------------------------------------------------------- the worker process


def worker_main(report_path: Path) -> int:
    """The project's arq worker, with a command listener and hooks around bulk jobs (the
    operation's turns, each with the enqueueing of the next: their sums are reported)."""
    counter = CommandCounter()
    monitoring.register(counter)  # every client created from now on reports to it

    from arq.jobs import Job, JobStatus
    from arq.worker import run_worker

    from marketing_contacts.workers.settings import WorkerSettings, after_job_end

    logging.basicConfig(level=logging.WARNING, format="worker: %(levelname)s %(message)s")
    started: dict[str, Any] = {}
    commands: Counter[str] = Counter()
    turns: list[float] = []

    def is_bulk(ctx: Mapping[str, Any]) -> bool:
        return str(ctx.get("job_id", "")).startswith("bulk:")

    async def on_job_start(ctx: dict[Any, Any]) -> None:
        if is_bulk(ctx):
            started.setdefault("rss_kb", peak_rss_kb())
            started["at"] = time.perf_counter()
            counter.names.clear()
            counter.recording = True

    async def recorded_after_job_end(ctx: dict[Any, Any]) -> None:
        await after_job_end(ctx)  # the next turn's enqueueing is part of the bulk work
        if not is_bulk(ctx):
            return
        counter.recording = False
        commands.update(counter.names)
        turns.append(time.perf_counter() - started["at"])
        # the operation's last turn enqueued no next one: the sums are complete
        last = await Job(ctx["job_id"], ctx["redis"]).status() is JobStatus.not_found
        report = {
            "job_id": ctx["job_id"],
            "last": last,
            "turns": len(turns),
            "commands": dict(commands),
            "failures": counter.failures,
            "rss_before_kb": started["rss_kb"],
            "peak_rss_kb": peak_rss_kb(),
            "job_seconds": sum(turns),
        }
        written = report_path.with_suffix(".part")
        await asyncio.to_thread(written.write_text, json.dumps(report))
        written.replace(report_path)  # whole, for the bench process reading it meanwhile

    run_worker(WorkerSettings, on_job_start=on_job_start, after_job_end=recorded_after_job_end)
    return 0


def start_worker(env: Mapping[str, str], report: Path, log: Path) -> ManagedProcess:
    argv = [sys.executable, str(Path(__file__).resolve()), "--worker", str(report)]
    return start_process("worker", argv, env=env, log_path=log)


def wait_for_worker(redis_url: str, worker: ManagedProcess) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        wait_until(
            lambda: bool(client.exists(HEALTH_KEY)),
            timeout=60,
            what="the worker's health check",
            process=worker,
        )
    finally:
        client.close()


# ---------------------------------------------------------------- seeding


async def seed(
    runtime: Runtime,
    n: int,
    name: str,
    state: MarketingState = MarketingState.NON_MARKETING,
    pending_since: datetime | None = None,
) -> tuple[str, str]:
    """An account with `n` contacts in `state` (written directly); (account id, token)."""
    services = runtime.services
    account = await services.accounts.open(
        AccountOpening(name=name, tier_limit=10 * n, tier_step=10 * n)  # no upgrade, no alert
    )
    admin = await services.users.first_admin(account.id)
    _, secret = await services.tokens.issue(admin, "bench")
    now = datetime.now(UTC)
    source = StatusSource(StatusSourceType.CREATION_DEFAULT, None)
    contacts = runtime.mongo[CONTACTS]
    ids = MongoIds()
    for start in range(0, n, SEED_BATCH):
        docs = [
            contact_doc(
                Contact(
                    id=ids.new_id(at=now),  # as the service makes them: carrying `now`
                    account_id=account.id,
                    created_via=CreationSource.API,
                    created_at=now,
                    updated_at=now,
                    state=state,
                    pending_since=pending_since,
                    status_source=source,
                    status_changed_at=now,
                    email=f"{name}-{k}@example.com",
                )
            )
            for k in range(start, min(start + SEED_BATCH, n))
        ]
        await contacts.insert_many(docs)
    reconciled = await services.usage.reconcile(account.id)
    assert reconciled.actual.total == n
    return account.id, secret


# ---------------------------------------------------------------- the worker's run


@dataclass
class WorkerRun:
    seconds: float
    commands: Counter[str]
    rss_before_kb: int
    peak_rss_kb: int
    job_seconds: float


async def start_operation(settings: Settings, n: int) -> str:
    async with open_runtime(settings) as runtime:
        _, secret = await seed(runtime, n, "worker")
        caller = await runtime.services.tokens.authenticate(secret)
        assert caller is not None
        request = BulkRequest(
            Selection(filter=ContactFilter()), MarketingStatus.MARKETING, confirm_count=n
        )
        operation = await runtime.services.bulk.start(caller, request)
        return operation.id


async def wait_completed(settings: Settings, operation_id: str, n: int) -> float:
    async with open_runtime(settings) as runtime:
        while True:
            operation = await runtime.services.ports.operations.load(operation_id)
            assert operation is not None
            if operation.status.finished:
                break
            await asyncio.sleep(0.5)
        progress = operation.progress
        assert operation.status is BulkOperationStatus.COMPLETED, operation
        assert (progress.matched, progress.processed, progress.changed_now) == (n, n, n), progress
        reconciled = await runtime.services.usage.reconcile(operation.account_id)
        assert not reconciled.drifted and reconciled.actual.marketing == n, reconciled
        assert operation.started_at is not None and operation.finished_at is not None
        return (operation.finished_at - operation.started_at).total_seconds()


def run_worker_side(settings: Settings, n: int, work_dir: Path) -> WorkerRun:
    report = work_dir / f"worker-{n}.json"
    env = {
        **os.environ,
        "MONGODB_URI": settings.mongodb_uri,
        "MONGODB_DATABASE": settings.mongodb_database,
        "REDIS_URL": settings.redis_url,
        "BULK_CHUNK_SIZE": str(CHUNK),
        "LOG_LEVEL": "WARNING",
    }
    worker = start_worker(env, report, work_dir / f"worker-{n}.log")
    try:
        wait_for_worker(settings.redis_url, worker)
        operation_id = asyncio.run(start_operation(settings, n))
        seconds = asyncio.run(wait_completed(settings, operation_id, n))
        wait_until(
            lambda: report.exists() and json.loads(report.read_text())["last"],
            timeout=30,
            what="the worker's report of the operation's last turn",
            process=worker,
        )
    finally:
        worker.stop()
    data = json.loads(report.read_text())
    return WorkerRun(
        seconds=seconds,
        commands=Counter(data["commands"]),
        rss_before_kb=data["rss_before_kb"],
        peak_rss_kb=data["peak_rss_kb"],
        job_seconds=data["job_seconds"],
    )


# ---------------------------------------------------------------- raw PyMongo


@asynccontextmanager
async def raw_transaction(mongo: Mongo) -> AsyncIterator[AsyncClientSession]:
    """A transaction as the service's are (local reads, majority writes)."""
    async with (
        mongo.client.start_session() as session,
        await session.start_transaction(
            read_concern=ReadConcern("local"), write_concern=WriteConcern("majority")
        ),
    ):
        yield session


async def raw_change(mongo: Mongo, account_id: str, source_id: str) -> int:
    """S2 toward MARKETING over the account's contacts, chunk by chunk, written with PyMongo."""
    account_key = ObjectId(account_id)
    accounts, contacts, history = mongo[ACCOUNTS], mongo[CONTACTS], mongo[STATUS_HISTORY]
    changed = 0
    last: ObjectId | None = None
    while True:
        query: Doc = {"account_id": account_key}
        if last is not None:
            query["_id"] = {"$gt": last}
        docs = await contacts.find(query).sort("_id", 1).limit(CHUNK).to_list()
        if not docs:
            return changed
        last = docs[-1]["_id"]
        account = await accounts.find_one({"_id": account_key})
        assert account is not None
        now = datetime.now(UTC)
        counts = dict(account["counts"])
        operations: list[UpdateOne] = []
        entries: list[Doc] = []
        for doc in docs:
            before = doc["state"]
            if before == "M":
                continue
            counts["marketing"] += before == "N"
            counts["pending"] -= before == "P"
            seq = doc["status_seq"] + 1
            operations.append(
                UpdateOne(
                    {"_id": doc["_id"], "account_id": account_key, "status_seq": seq - 1},
                    {
                        "$set": {
                            "state": "M",
                            "status_seq": seq,
                            "pending_since": None,
                            "status_source_type": "BULK_OPERATION",
                            "status_source_id": source_id,
                            "status_changed_at": now,
                            "updated_at": now,
                        }
                    },
                )
            )
            entries.append(
                {
                    "account_id": account_key,
                    "contact_id": doc["_id"],
                    "seq": seq,
                    "at": now,
                    "from_state": before,
                    "to_state": "M",
                    "source_type": "BULK_OPERATION",
                    "source_id": source_id,
                }
            )
        if not operations:
            continue
        async with raw_transaction(mongo) as session:
            moved = await accounts.update_one(
                {"_id": account_key, "revision": account["revision"]},
                {"$set": {"counts": counts, "revision": account["revision"] + 1}},
                session=session,
            )
            assert moved.matched_count == 1
            written = await contacts.bulk_write(operations, session=session)
            assert written.matched_count == len(operations)
            await history.insert_many(entries, session=session)
        changed += len(operations)


@dataclass
class RawRun:
    seconds: float
    commands: Counter[str]


async def measured_raw(
    settings: Settings, n: int, write: Callable[[Mongo], Awaitable[int]]
) -> RawRun:
    """`write` (which changes `n` contacts) over a connection of its own, timed, its
    commands counted."""
    counter = CommandCounter()
    mongo = connect(settings.mongodb_uri, settings.mongodb_database, event_listeners=[counter])
    try:
        counter.recording = True
        started = time.perf_counter()
        changed = await write(mongo)
        seconds = time.perf_counter() - started
        counter.recording = False
        assert changed == n, changed
    finally:
        await mongo.client.close()
    return RawRun(seconds, counter.names)


async def run_raw_side(settings: Settings, n: int) -> RawRun:
    async with open_runtime(settings) as runtime:
        account_id, _ = await seed(runtime, n, "raw")
    return await measured_raw(
        settings, n, lambda mongo: raw_change(mongo, account_id, str(ObjectId()))
    )


async def drop(settings: Settings) -> None:
    mongo = connect(settings.mongodb_uri, settings.mongodb_database)
    try:
        await mongo.client.drop_database(settings.mongodb_database)
    finally:
        await mongo.client.close()


# ---------------------------------------------------------------- update dates (U4)


async def seed_due_update_date(settings: Settings, n: int, name: str) -> tuple[str, datetime]:
    """An account whose update date has begun, with `n` contacts pending since before it
    (every one becomes non-marketing); (account id, the date's start)."""
    async with open_runtime(settings) as runtime:
        # pending since before any date of the last month
        since = datetime.now(UTC) - 2 * MONTH
        account_id, _ = await seed(
            runtime, n, name, MarketingState.MARKETING_UNTIL_NEXT_UPDATE, since
        )
        account = await runtime.services.ports.account(account_id)
        upcoming = account.next_update_date
        month = upcoming.year * 12 + upcoming.month - 2  # the schedule's date a month before
        due = account.schedule.update_date_in(month // 12, month % 12 + 1)
        starts = update_instant(due, account.timezone)
        await runtime.mongo[ACCOUNTS].update_one(
            {"_id": ObjectId(account.id)},
            {"$set": {"next_update_date": due.isoformat(), "next_update_at": starts}},
        )
        return account.id, starts


async def service_update_date(settings: Settings, n: int) -> RawRun:
    """What the worker's update-date job runs (UpdateDateService.apply_due_for), in this
    process, its commands counted."""
    account_id, _ = await seed_due_update_date(settings, n, "dates")
    counter = CommandCounter()
    async with open_runtime(settings, event_listeners=[counter]) as runtime:
        counter.recording = True
        started = time.perf_counter()
        applied = await runtime.services.update_dates.apply_due_for(account_id, datetime.now(UTC))
        seconds = time.perf_counter() - started
        counter.recording = False
    assert [a.contacts_changed for a in applied][:1] == [n], applied
    return RawRun(seconds, counter.names)


async def raw_update_date(settings: Settings, n: int) -> RawRun:
    account_id, starts = await seed_due_update_date(settings, n, "raw-dates")
    return await measured_raw(
        settings, n, lambda mongo: raw_apply_update_date(mongo, account_id, starts)
    )


async def raw_apply_update_date(mongo: Mongo, account_id: str, starts: datetime) -> int:
    """U4 with PyMongo: per chunk of pending contacts one transaction of their flips, their
    history entries and the account's counters; then the date recorded and the account moved
    past it in one more."""
    account_key = ObjectId(account_id)
    accounts, contacts = mongo[ACCOUNTS], mongo[CONTACTS]
    pending: Doc = {"account_id": account_key, "state": "P", "pending_since": {"$lt": starts}}
    changed = 0
    while docs := await contacts.find(pending).limit(CHUNK).to_list():
        account = await accounts.find_one({"_id": account_key})
        assert account is not None
        now = datetime.now(UTC)
        counts = dict(account["counts"], pending=account["counts"]["pending"] - len(docs))
        flips = [
            UpdateOne(
                {"_id": doc["_id"], "account_id": account_key, "status_seq": doc["status_seq"]},
                {
                    "$set": {
                        "state": "N",
                        "status_seq": doc["status_seq"] + 1,
                        "pending_since": None,
                        "status_changed_at": now,
                        "updated_at": now,
                    }
                },
            )
            for doc in docs
        ]
        entries = [
            {
                "account_id": account_key,
                "contact_id": doc["_id"],
                "seq": doc["status_seq"] + 1,
                "at": now,
                "from_state": "P",
                "to_state": "N",
                "source_type": "UPDATE_DATE",
                "source_id": "raw",
            }
            for doc in docs
        ]
        revision = account["revision"]
        async with raw_transaction(mongo) as session:
            await contacts.bulk_write(flips, session=session)
            await mongo[STATUS_HISTORY].insert_many(entries, session=session)
            moved = await accounts.update_one(
                {"_id": account_key, "revision": revision},
                {"$set": {"counts": counts, "revision": revision + 1}},
                session=session,
            )
            assert moved.matched_count == 1
        changed += len(docs)
    account = await accounts.find_one({"_id": account_key})
    assert account is not None
    async with raw_transaction(mongo) as session:
        await mongo[UPDATE_DATES].insert_one({"_id": f"{account_id}:raw"}, session=session)
        await accounts.update_one(
            {"_id": account_key, "revision": account["revision"]},
            {"$set": {"revision": account["revision"] + 1}},
            session=session,
        )
    return changed


# ---------------------------------------------------------------- the run and its table


@dataclass
class Row:
    n: int
    worker: WorkerRun
    raw: RawRun
    #: an update date over n pending contacts: the service's run and the raw writes
    dates: RawRun
    raw_dates: RawRun
    wall_seconds: float


def measure(n: int, mongo_uri: str, redis_url: str, work_dir: Path) -> Row:
    started = time.monotonic()
    worker_settings = Settings(
        mongodb_uri=mongo_uri, mongodb_database=f"bench_bulk_worker_{n}", redis_url=redis_url
    )
    raw_settings = worker_settings.model_copy(update={"mongodb_database": f"bench_bulk_raw_{n}"})
    try:
        worker = run_worker_side(worker_settings, n, work_dir)
        asyncio.run(drop(worker_settings))
        raw = asyncio.run(run_raw_side(raw_settings, n))
    finally:
        asyncio.run(drop(worker_settings))
        asyncio.run(drop(raw_settings))
    # the update date on a server of its own, as fresh as the bulk change's; seeding N
    # contacts on SecantusDB may take longer than the service's default timeout
    with fresh_mongo(work_dir, f"dates-{n}") as dates_uri:
        dates_settings = Settings(
            mongodb_uri=dates_uri,
            mongodb_database=f"bench_dates_{n}",
            redis_url=redis_url,
            mongodb_timeout_seconds=SEED_TIMEOUT_SECONDS,
        )
        raw_dates_settings = dates_settings.model_copy(
            update={"mongodb_database": f"bench_dates_raw_{n}"}
        )
        dates = asyncio.run(service_update_date(dates_settings, n))
        asyncio.run(drop(dates_settings))
        raw_dates = asyncio.run(raw_update_date(raw_dates_settings, n))
    return Row(n, worker, raw, dates, raw_dates, time.monotonic() - started)


@contextmanager
def fresh_mongo(work_dir: Path, name: str) -> Iterator[str]:
    """A SecantusDB of its own, in memory (it keeps slowing after large databases are
    dropped, which would charge one measurement's cost to the next); its URI."""
    mongo = start_mongo(port=free_port(), storage_path=IN_MEMORY, log_path=work_dir / f"{name}.log")
    try:
        yield mongo.uri
    finally:
        mongo.stop()


def per_thousand(commands: Counter[str], n: int) -> float:
    return sum(commands.values()) * 1000 / n


def breakdown(commands: Counter[str]) -> str:
    return " ".join(f"{name}x{count}" for name, count in commands.most_common())


def print_table(rows: list[Row], notes: list[str]) -> None:
    print()
    print(
        f"bulk status change to MARKETING over N non-marketing contacts (every one changes), "
        f"chunks of {CHUNK}, one real worker process per N"
    )
    header = (
        f"{'N':>7} | {'worker s':>8} | {'contacts/s':>10} | {'raw s':>7} | {'ratio':>5} | "
        f"{'cmds/1k worker':>14} | {'cmds/1k raw':>11} | {'cmds ratio':>10} | "
        f"{'worker RSS before':>17} | {'worker peak RSS':>15}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        worker, raw = row.worker, row.raw
        print(
            f"{row.n:>7,} | {worker.seconds:>8.1f} | {row.n / worker.seconds:>10,.0f} | "
            f"{raw.seconds:>7.1f} | {worker.seconds / raw.seconds:>5.2f} | "
            f"{per_thousand(worker.commands, row.n):>14.1f} | "
            f"{per_thousand(raw.commands, row.n):>11.1f} | "
            f"{sum(worker.commands.values()) / sum(raw.commands.values()):>10.2f} | "
            f"{worker.rss_before_kb / 1024:>14.1f} MB | {worker.peak_rss_kb / 1024:>12.1f} MB"
        )
    print()
    for row in rows:
        print(f"N={row.n:,} worker commands: {breakdown(row.worker.commands)}")
        print(f"N={row.n:,} raw commands:    {breakdown(row.raw.commands)}")
    print()
    print(
        "an update date (U4) over N pending contacts (every one becomes non-marketing), "
        f"chunks of {CHUNK}"
    )
    header = (
        f"{'N':>7} | {'service s':>9} | {'raw s':>7} | {'cmds/1k service':>15} | "
        f"{'cmds/1k raw':>11} | {'commands ratio':>14}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        service, raw_dates = (
            per_thousand(row.dates.commands, row.n),
            per_thousand(row.raw_dates.commands, row.n),
        )
        print(
            f"{row.n:>7,} | {row.dates.seconds:>9.1f} | {row.raw_dates.seconds:>7.1f} | "
            f"{service:>15.1f} | {raw_dates:>11.1f} | {service / raw_dates:>14.2f}"
        )
    for row in rows:
        print(f"N={row.n:,} service commands: {breakdown(row.dates.commands)}")
        print(f"N={row.n:,} raw commands:     {breakdown(row.raw_dates.commands)}")
    print()
    print(
        "worker s = the operation's finishedAt - startedAt (claim, resolve = write the "
        "selection's pages, all chunks, finish); raw = the same contact updates, history "
        "entries and counter updates in per-chunk transactions written directly with PyMongo, "
        "same server, same run (no pages, no progress, no lease)."
    )
    print(
        "cmds/1k = database commands per 1,000 contacts, counted inside the worker process "
        "around the bulk job only (a sweep cron falling inside it adds one or two)."
    )
    for note in notes:
        print(f"note: {note}")
    print(
        "targets: commands per 1,000 contacts bounded by a small constant (the same at every "
        "N); ratio worker / raw under 1.5; worker peak RSS flat in N."
    )
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        growth = (last.worker.peak_rss_kb - first.worker.peak_rss_kb) / 1024
        ratios = [row.worker.seconds / row.raw.seconds for row in rows]
        per_k = [per_thousand(row.worker.commands, row.n) for row in rows]
        print(
            f"measured: commands/1k {min(per_k):.1f} to {max(per_k):.1f}; ratio "
            f"{min(ratios):.2f} to {max(ratios):.2f} ({'met' if max(ratios) < 1.5 else 'NOT met'}"
            f"); peak RSS {growth:+.1f} MB from N={first.n:,} to N={last.n:,} "
            f"({last.n / first.n:.0f}x the contacts)"
        )


def sizes_from_env() -> tuple[list[int], float]:
    raw = os.environ.get("BENCH_BULK_SIZES")
    sizes = [int(s) for s in raw.split(",")] if raw else list(DEFAULT_SIZES)
    budget = float(os.environ.get("BENCH_BULK_BUDGET_SECONDS", DEFAULT_BUDGET_SECONDS))
    return sizes, budget


def main() -> int:
    if sys.argv[1:2] == ["--worker"]:
        return worker_main(Path(sys.argv[2]))
    sizes, budget = sizes_from_env()
    began = time.monotonic()
    rows: list[Row] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-bulk-") as work:
        work_dir = Path(work)
        redis_server = start_redis(
            port=free_port(),
            data_dir=work_dir / "redis",
            persistent=False,
            log_path=work_dir / "redis.log",
        )
        try:
            for wanted in sizes:
                n = fitting(wanted, rows, budget - (time.monotonic() - began), notes)
                if n is None:
                    continue
                print(f"N={n:,}: seeding, worker run, raw run, update dates ...", flush=True)
                with fresh_mongo(work_dir, f"mongo-{n}") as mongo_uri:
                    rows.append(measure(n, mongo_uri, redis_server.url, work_dir))
                print(f"N={n:,}: done in {rows[-1].wall_seconds:.0f}s", flush=True)
        finally:
            redis_server.stop()
    print_table(rows, notes)
    return 0


def fitting(wanted: int, rows: list[Row], remaining: float, notes: list[str]) -> int | None:
    """`wanted`, or the largest multiple of 1,000 whose projected time fits what remains.

    The projection grows as N^1.75 from the last size of 5,000 or more (SecantusDB, see
    GROWTH_EXPONENT); below that, fixed costs dominate and it is linear."""
    if not rows:
        return wanted
    last = rows[-1]
    exponent = GROWTH_EXPONENT if last.n >= 5_000 else 1.0

    def projected(n: int) -> float:
        return float(last.wall_seconds * (n / last.n) ** exponent)

    if projected(wanted) <= remaining:
        return wanted
    share = max(remaining, 0.0) / last.wall_seconds
    fits = int(last.n * share ** (1 / exponent)) // 1_000 * 1_000
    why = (
        f"projected ~{projected(wanted):.0f}s from N={last.n:,} ({last.wall_seconds:.0f}s, "
        f"time ~ N^{exponent:g} on SecantusDB), {remaining:.0f}s of the "
        f"{sizes_from_env()[1]:.0f}s budget left"
    )
    if fits <= last.n:
        notes.append(f"N={wanted:,} not run: {why}")
        return None
    notes.append(f"N={wanted:,} cut to N={fits:,}: {why}")
    return fits


if __name__ == "__main__":
    sys.exit(main())

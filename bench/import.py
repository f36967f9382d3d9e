"""The cost of a CSV import (I1): rows per second, database commands per 1,000 rows and the
worker's peak memory, for a SMALL and a LARGE file, against raw PyMongo doing the same upserts.

Starts its own SecantusDB and Redis on free ports and opens the services over them with a
PyMongo CommandListener. For each size it writes a CSV file of that many new contacts (email,
first and last name) in a temp dir, then:

- starts the import through the service, as startImport does (the file stored, the import
  QUEUED), on an account of its own;
- runs it with the worker's code in-process (services.import_runner, as workers.imports'
  run_import does), timed, its database commands counted, under tracemalloc: the worker's peak
  memory (traced Python allocations; flat in the row count: it holds one chunk at a time);
- does the same upserts with raw PyMongo: the file read with csv, bulk_write of UpdateOne
  upserts by (account_id, email_key) in batches of the runner's chunk size, into a scratch
  collection with a unique index on those fields; timed, under tracemalloc too.

The default sizes, 2,000 and 6,000 rows, keep the run to a minute or two on 2 cores. Larger
ones (`--sizes 10000 100000`) do not finish on SecantusDB: its time per chunk grows with the
contacts collection (about 600 rows/s at 2,000 rows, 170 at 10,000), and past ~20,000 contacts
a chunk's find of its 500 emails outlasts the client's 10 s timeoutMS.

It prints, per size, rows per second, commands per 1,000 rows (flat between sizes: a chunk
costs the same commands), the peak memory, and the ratio of the import's time to raw PyMongo's.
SecantusDB's times are not MongoDB's; the commands do not depend on the machine. Run from the
repository root: `.venv/bin/python bench/import.py [--sizes 10000 100000]`.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pymongo import ASCENDING, UpdateOne

from access import caller_of
from harness.figures import print_table
from harness.servers import run_on_servers
from marketing_contacts.domain.contacts import email_key
from marketing_contacts.domain.imports import Import
from marketing_contacts.runtime import Runtime, open_runtime
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.imports import ImportRequest
from marketing_contacts.settings import Settings
from status_changes import CommandCounter

SIZES = (2_000, 6_000)
READ_BYTES = 256 * 1024
RAW = "bench_raw_contacts"


@dataclass
class Figures:
    rows: int
    start_seconds: float
    run_seconds: float
    commands: Counter[str]
    peak_bytes: int
    raw_seconds: float
    raw_commands: int


def write_csv(directory: Path, size: int) -> Path:
    path = directory / f"contacts-{size}.csv"
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "firstName", "lastName"])
        for n in range(size):
            writer.writerow([f"person-{n}@bench.io", f"First{n}", f"Last{n}"])
    return path


async def pieces(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        while piece := file.read(READ_BYTES):
            yield piece


async def import_file(runtime: Runtime, path: Path, name: str) -> tuple[float, Import]:
    """startImport's part on a new account: the seconds it took and the QUEUED import."""
    services = runtime.services
    account = await services.accounts.open(AccountOpening(name=name))
    admin = await caller_of(services, await services.users.first_admin(account.id))
    started = time.perf_counter()
    imported = await services.imports.start(admin, ImportRequest(path.name, pieces(path)))
    return time.perf_counter() - started, imported


async def run_import(runtime: Runtime, imported: Import, rows: int) -> None:
    """The worker's part (workers.imports.run_import), to the import's end."""
    done = await runtime.services.import_runner.run(imported.id, "bench")
    assert done is not None and done.status.value == "COMPLETED", done
    assert done.counts.created == rows, done.counts


async def raw_upserts(runtime: Runtime, path: Path, account_id: str, chunk: int) -> None:
    """The same upserts as plainly as PyMongo does them: no history, counts or audit."""
    collection = runtime.mongo[RAW]

    async def flush(batch: list[UpdateOne]) -> None:
        if batch:
            await collection.bulk_write(batch, ordered=False)

    batch: list[UpdateOne] = []
    with path.open(newline="", encoding="utf-8-sig") as file:
        for row in csv.DictReader(file):
            key = email_key(row["email"])
            fields = {"first_name": row["firstName"], "last_name": row["lastName"]}
            batch.append(
                UpdateOne(
                    {"account_id": account_id, "email_key": key},
                    {"$set": fields, "$setOnInsert": {"email": row["email"]}},
                    upsert=True,
                )
            )
            if len(batch) >= chunk:
                await flush(batch)
                batch = []
    await flush(batch)


async def measure(runtime: Runtime, counter: CommandCounter, path: Path, size: int) -> Figures:
    """The import's two parts, then the raw upserts; the worker's part and the raw upserts both
    under tracemalloc (the same overhead on both sides of the ratio)."""
    start_seconds, imported = await import_file(runtime, path, f"Import {size}")
    chunk = runtime.services.import_runner.chunk
    tracemalloc.start()
    try:
        run_seconds, names = await counter.measure(lambda: run_import(runtime, imported, size))
        _, peak = tracemalloc.get_traced_memory()
        print(f"  {size:,} rows imported in {run_seconds:.1f} s", flush=True)
        raw_seconds, raw_names = await counter.measure(
            lambda: raw_upserts(runtime, path, f"raw-{size}", chunk)
        )
    finally:
        tracemalloc.stop()
    return Figures(
        size, start_seconds, run_seconds, Counter(names), peak, raw_seconds, len(raw_names)
    )


def per_thousand(count: int, rows: int) -> str:
    return f"{1000 * count / rows:.1f}"


def report(figures: Sequence[Figures], chunk: int) -> None:
    base = figures[0]
    base_commands = sum(base.commands.values()) / base.rows
    rows = []
    for f in figures:
        total = sum(f.commands.values())
        rows.append(
            [
                f"{f.rows:,}",
                f"{f.start_seconds:.1f}",
                f"{f.run_seconds:.1f}",
                f"{f.rows / f.run_seconds:,.0f}",
                per_thousand(total, f.rows),
                f"{(total / f.rows) / base_commands:.2f}",
                f"{f.peak_bytes / 2**20:.1f}",
                f"{f.rows / f.raw_seconds:,.0f}",
                per_thousand(f.raw_commands, f.rows),
                f"{f.run_seconds / f.raw_seconds:.1f}",
            ]
        )
    print_table(
        f"CSV import (I1) through the services and the worker's code, chunks of {chunk} rows; "
        "raw: PyMongo bulk_write of UpdateOne upserts by email_key, same batches",
        [
            "rows",
            "start s",
            "run s",
            "rows/s",
            "cmds/1k rows",
            "x (flat: 1.00)",
            "peak MiB",
            "raw rows/s",
            "raw cmds/1k",
            "import / raw",
        ],
        rows,
    )
    for f in figures:
        shape = " ".join(f"{name}x{n}" for name, n in sorted(f.commands.items()))
        print(f"commands of the {f.rows:,}-row run: {shape}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=list(SIZES), help="rows of each file"
    )
    sizes: list[int] = parser.parse_args().sizes

    async def run(mongo_uri: str, redis_url: str) -> None:
        counter = CommandCounter()
        settings = Settings(
            mongodb_uri=mongo_uri, mongodb_database="bench_import", redis_url=redis_url
        )
        figures = []
        async with open_runtime(settings, event_listeners=[counter]) as runtime:
            await runtime.mongo[RAW].create_index(
                [("account_id", ASCENDING), ("email_key", ASCENDING)], unique=True
            )
            with tempfile.TemporaryDirectory(prefix="bench-import-csv-") as directory:
                for size in sizes:
                    print(f"importing {size:,} rows", flush=True)
                    path = write_csv(Path(directory), size)
                    figures.append(await measure(runtime, counter, path, size))
            report(figures, runtime.services.import_runner.chunk)

    return run_on_servers("bench-import-", run)


if __name__ == "__main__":
    sys.exit(main())

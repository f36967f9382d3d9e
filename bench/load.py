"""Load: two API processes and two workers under locust, with tierAlerts subscribers on both.

Starts its own SecantusDB (in memory), Redis, two API processes (`marketing-contacts serve`) and
two workers (`marketing-contacts worker`) on free ports (bench/harness/stack.py), and opens
ACCOUNTS accounts, each with 100 contacts (30 marketing), a tier of 40 growing by 10 and the
default alert thresholds (75, 90, 98, 100), so that the load's new marketing contacts keep
raising alerts. Then, per mix, it:

1. opens one `tierAlerts` subscriber per account on EACH API process (WebSocket,
   graphql-transport-ws) and waits until both processes' event hubs listen;
2. runs locust headless in its own process (its users: bench/harness/load_users.py) for
   BENCH_LOAD_SECONDS (default 60) with BENCH_LOAD_USERS users (default 25), each on one account,
   each request to the next API process in turn;
3. waits for the bulk operations the mix started to end (the workers apply them), then for
   every subscriber to hold every alert the mix raised (Account.alerts before and after), and
   reports what each one received;
4. runs `marketing-contacts usage reconcile --json`: every account recounted from its contacts,
   the accounts whose counters drifted reported (and repaired, so each mix counts its own).

The mixes: read-mostly (80% reads: usage, a contacts page, a contact with its status history,
the account with its alerts; 20% writes) and write-heavy (createContact, setMarketingStatus on
1-10 contacts, updateContact, startBulkStatusChange on 1-20 contacts). Each user waits 0.2-0.8 s
between requests. Printed per mix: requests per second, p50/p99 per operation (locust's figures:
times over 100 ms are rounded to 10 ms, over 1 s to 100 ms), errors with their messages (0
expected), drift (0 expected), alerts stored against received at each subscriber (all
expected).

Everything runs on this machine, whose 2 cores it shares with SecantusDB (most of the CPU
under load), Redis, locust and, on a shared machine, whatever else runs: the figures say what
these processes sustain together here, not what the service would on its own hardware. Run from
the repository root: `.venv/bin/python bench/load.py` (about 3 to 4 minutes).
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from harness.accounts import AccountPlan, BenchAccount, open_accounts, statuses
from harness.figures import print_table
from harness.stack import BIN, Stack, run_main, running_stack
from harness.subscribers import (
    Subscribers,
    graphql,
    open_subscribers,
    stored_alert_ids,
    until_listening,
)

USERS = int(os.environ.get("BENCH_LOAD_USERS", "25"))
SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "60"))
ACCOUNTS = int(os.environ.get("BENCH_LOAD_ACCOUNTS", "8"))
APIS = 2
WORKERS = 2
MIXES = (("read-mostly", "ReadMostly"), ("write-heavy", "WriteHeavy"))
PLAN = AccountPlan(tier_limit=40, tier_step=10, contacts=statuses(30, 70))
LOCUSTFILE = Path(__file__).resolve().parent / "harness" / "load_users.py"
SETTLE_SECONDS = 60.0
BULK_PAGE = """query($after: String) { bulkOperations(first: 200, after: $after) {
  edges { node { id status } } pageInfo { hasNextPage endCursor } } }"""


@dataclass(frozen=True)
class OperationFigures:
    name: str
    requests: int
    failures: int
    per_second: float
    p50_ms: str
    p99_ms: str
    max_ms: str


@dataclass(frozen=True)
class Received:
    api: int
    account: int
    stored: int
    received: int
    missing: int
    extra: int
    duplicates: int
    ended: str


@dataclass(frozen=True)
class MixFigures:
    name: str
    operations: list[OperationFigures]
    failures: list[tuple[str, str, int]]
    subscribers: list[Received]
    reconciled: int
    drifted: list[str]
    bulk_operations: int


async def run_locust(stack: Stack, mix: str, user_class: str, plan: Path) -> Path:
    """Run locust headless to its end; the prefix of its CSV files."""
    prefix = stack.work_dir / f"locust-{mix}"
    argv = [
        str(BIN / "locust"),
        *("-f", str(LOCUSTFILE), "--headless", "--only-summary"),
        *("-u", str(USERS), "-r", str(USERS), "-t", f"{SECONDS}s", "--stop-timeout", "10"),
        *("--csv", str(prefix), "--host", stack.apis[0], "--loglevel", "WARNING"),
        *("--exit-code-on-error", "0", user_class),
    ]
    env = {**stack.env, "BENCH_LOAD_PLAN": str(plan)}
    async with asyncio.timeout(SECONDS + 120):
        locust = await stack.run_to_end(f"locust-{mix}", argv, env)
    if locust.returncode != 0:
        raise RuntimeError(f"locust exited with {locust.returncode}:\n{locust.log_tail()}")
    stack.check_alive()
    return prefix


def read_stats(prefix: Path) -> tuple[list[OperationFigures], list[tuple[str, str, int]]]:
    """Per operation (the aggregate last) and the failures, from locust's CSV files."""
    with Path(f"{prefix}_stats.csv").open() as stats:
        operations = [
            OperationFigures(
                name="all" if row["Name"] == "Aggregated" else row["Name"],
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                per_second=float(row["Requests/s"]),
                p50_ms=row["50%"],
                p99_ms=row["99%"],
                max_ms=f"{float(row['Max Response Time']):.0f}",
            )
            for row in csv.DictReader(stats)
        ]
    with Path(f"{prefix}_failures.csv").open() as failed:
        failures = [
            (row["Name"], row["Error"], int(row["Occurrences"])) for row in csv.DictReader(failed)
        ]
    return operations, failures


async def bulk_operations_ended(http: httpx.AsyncClient, api: str, token: str) -> int | None:
    """How many bulk operations the account has, once none is queued or running; else None."""
    count, after = 0, None
    while True:
        page = (await graphql(http, api, token, BULK_PAGE, after=after))["bulkOperations"]
        statuses = [edge["node"]["status"] for edge in page["edges"]]
        if {"QUEUED", "RUNNING"} & set(statuses):
            return None
        count += len(statuses)
        if not page["pageInfo"]["hasNextPage"]:
            return count
        after = page["pageInfo"]["endCursor"]


async def until_bulk_ended(stack: Stack, accounts: list[BenchAccount]) -> int:
    """Until the workers ended every bulk operation of the accounts; how many there are."""
    deadline = time.monotonic() + SETTLE_SECONDS
    async with httpx.AsyncClient(timeout=30) as http:
        while True:
            counts = [await bulk_operations_ended(http, stack.apis[0], a.token) for a in accounts]
            if all(count is not None for count in counts):
                return sum(count or 0 for count in counts)
            if time.monotonic() > deadline:
                raise TimeoutError("bulk operations still queued or running")
            stack.check_alive()
            await asyncio.sleep(0.5)


async def alerts_of(stack: Stack, accounts: list[BenchAccount]) -> list[set[str]]:
    async with httpx.AsyncClient(timeout=30) as http:
        return [await stored_alert_ids(http, stack.apis[0], a.token) for a in accounts]


async def what_each_received(
    subs: Subscribers, accounts: list[BenchAccount], raised: list[set[str]]
) -> list[Received]:
    """Every subscriber given until SETTLE_SECONDS to hold its account's alerts, then read."""
    rows = []
    for number, (account, alerts) in enumerate(zip(accounts, raised, strict=True)):
        for subscriber in subs.of(account.id):
            await subscriber.until_received(alerts, SETTLE_SECONDS)
            got = set(subscriber.received)
            rows.append(
                Received(
                    api=subscriber.api + 1,
                    account=number + 1,
                    stored=len(alerts),
                    received=len(got & alerts),
                    missing=len(alerts - got),
                    extra=len(got - alerts),
                    duplicates=subscriber.duplicates,
                    ended=subscriber.ended or "",
                )
            )
    return rows


async def run_mix(
    stack: Stack, accounts: list[BenchAccount], mix: str, user_class: str
) -> tuple[list[Received], int, Path]:
    """The mix under subscribers on every API process: what each received, the number of bulk
    operations, locust's CSV prefix."""
    plan = stack.work_dir / f"plan-{mix}.json"
    plan.write_text(
        json.dumps(
            {
                "apis": stack.apis,
                "accounts": [
                    {"token": a.token, "contact_ids": list(a.contact_ids)} for a in accounts
                ],
            }
        )
    )
    pairs = [(a.id, a.token) for a in accounts]
    subs = await open_subscribers(stack.apis, pairs, per_account=len(stack.apis))
    try:
        await until_listening(stack.redis.url, [a.id for a in accounts], len(stack.apis))
        before = await alerts_of(stack, accounts)
        prefix = await run_locust(stack, mix, user_class, plan)
        bulk = await until_bulk_ended(stack, accounts)
        after = await alerts_of(stack, accounts)
        raised = [later - earlier for earlier, later in zip(before, after, strict=True)]
        received = await what_each_received(subs, accounts, raised)
    finally:
        await subs.close()
    return received, bulk, prefix


def measure(stack: Stack, accounts: list[BenchAccount], mix: str, user_class: str) -> MixFigures:
    started = time.monotonic()
    received, bulk, prefix = asyncio.run(run_mix(stack, accounts, mix, user_class))
    operations, failures = read_stats(prefix)
    reconciled = stack.cli_json("usage", "reconcile")
    drifted = [r["account"] for r in reconciled["results"] if r["drifted"]]
    print(f"{mix}: measured in {time.monotonic() - started:.0f} s", flush=True)
    return MixFigures(mix, operations, failures, received, reconciled["accounts"], drifted, bulk)


def print_mix(figures: MixFigures) -> None:
    print_table(
        f"== {figures.name} mix: {USERS} users for {SECONDS} s over {APIS} API processes and "
        f"{WORKERS} workers, {ACCOUNTS} accounts; times in ms",
        ["operation", "requests", "errors", "req/s", "p50", "p99", "max"],
        [
            [o.name, o.requests, o.failures, f"{o.per_second:.1f}", o.p50_ms, o.p99_ms, o.max_ms]
            for o in figures.operations
        ],
    )
    errors = sum(count for _, _, count in figures.failures)
    print(f"errors: {errors}")
    for name, error, count in figures.failures[:10]:
        print(f"  {count} x {name}: {error[:160]}")
    print(
        f"drift after: {len(figures.drifted)} of {figures.reconciled} accounts drifted "
        f"(usage reconcile){': ' + ', '.join(figures.drifted) if figures.drifted else ''}"
    )
    print(f"bulk operations started and ended by the workers: {figures.bulk_operations}")
    rows = figures.subscribers
    print_table(
        "tierAlerts subscribers: the alerts each account stored during the mix, and what each "
        "subscriber received",
        ["API", "account", "stored", "received", "missing", "extra", "twice", "ended"],
        [
            [
                r.api,
                r.account,
                r.stored,
                r.received,
                r.missing,
                r.extra,
                r.duplicates,
                r.ended or "",
            ]
            for r in sorted(rows, key=lambda r: (r.api, r.account))
        ],
    )
    complete = sum(r.missing == 0 and r.extra == 0 and not r.ended for r in rows)
    print(f"subscribers with every alert: {complete} of {len(rows)}")


def main() -> int:
    with running_stack("load", apis=APIS, workers=WORKERS) as stack:
        started = time.monotonic()
        accounts = asyncio.run(open_accounts(stack.settings, "load", ACCOUNTS, PLAN))
        print(f"{ACCOUNTS} accounts opened in {time.monotonic() - started:.0f} s", flush=True)
        results = [measure(stack, accounts, mix, user_class) for mix, user_class in MIXES]
    for figures in results:
        print_mix(figures)
    return 0


if __name__ == "__main__":
    run_main(main)

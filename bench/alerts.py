"""Alert latency: from the commit of the change that raises a tier alert to its subscribers.

Starts its own SecantusDB (in memory), Redis, two API processes and one worker on free ports
(bench/harness/stack.py), and opens `tierAlerts` subscribers over WebSocket (graphql-transport-ws).

Where the time starts: the writer of a change takes the commit instant as soon as the database
acknowledges the transaction (`Committed.at`, to the microsecond) and publishes it with each alert
it raised (`committed_at` in the event message on Redis, internal: not in the GraphQL type). This
script listens to the same Redis channels to read that instant by alert id, and every subscriber
notes the wall-clock time each alert arrives; latency = arrival - commit (one machine, one
clock). For continuity with the earlier figure, the table also shows "sent -> first": from the
moment the mutation was sent to the first arrival at any subscriber of the account.

Crossings: for BENCH_ALERTS_CROSSINGS (default 200) createContact mutations over HTTP, round-robin
over up to 20 measured accounts and over the API processes, each crossing a threshold: the
account's ladder grows by 1 and its only threshold is 100, so each new marketing contact exceeds
the tier and upgrades it (TIER_EXCEEDED then TIER_UPGRADED: 2 alerts). Every arrival at every
subscriber of the crossing account is a sample, and the next crossing waits until all of them
have both alerts. Three set-ups:

- 1 subscriber on one API process;
- 500 subscribers on one API process: 50 accounts, 10 subscribers each;
- 5,000 subscribers over two API processes: 500 accounts, 10 subscribers each (5 per process).

Bulk pages: BULK_ACCOUNTS accounts of BULK_CONTACTS non-marketing contacts, tier 600, the default
thresholds (75, 90, 98, 100), 10 subscribers each over both API processes; a startBulkStatusChange
to MARKETING on each at once; the worker applies them in pages of 500, and the pages cross
thresholds (75% on the first page; 90%, 98%, exceeded, upgraded and 75% of the new tier on the
second). Latency is measured from the page's commit, and also from the alert's stored `at`, the
instant the page's decision was made, before its writes (what the earlier 2.4-7.7 s were
measured from). What bounds the latency from the commit: the worker publishes a page's alerts
right after that page's transaction commits, in the same coroutine and before it reads the next
page; so it is one Redis PUBLISH, the API process's event hub reading it, and the subscription's
WebSocket send, as for a change made over the API. The page's size, and how long its writes take,
only move the stored `at` away from the commit.

Every process shares the machine's cores with this script's 5,000 client sockets (and, on a shared
machine, with whatever else runs): the figures are upper bounds of what the service adds. Run from
the repository root: `.venv/bin/python bench/alerts.py` (about 3 minutes).
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field

import httpx

from harness.accounts import AccountPlan, BenchAccount, open_accounts, statuses
from harness.figures import latency_cells, print_table
from harness.stack import Stack, run_main, running_stack
from harness.subscribers import (
    AlertSubscriber,
    CommitMarks,
    Subscribers,
    graphql,
    open_subscribers,
    stored_alert_ids,
    until_listening,
)

CROSSINGS = int(os.environ.get("BENCH_ALERTS_CROSSINGS", "200"))
PER_ACCOUNT = 10
MEASURED_ACCOUNTS = 20
ALERTS_PER_CROSSING = 2
ARRIVAL_SECONDS = 30.0
BULK_ACCOUNTS = 3
BULK_CONTACTS = 1_000
BULK_TIER = 600
CREATE = "mutation { createContact(input: {marketingStatus: MARKETING}) { contact { id } } }"
START_BULK = """mutation($count: Int!) {
  startBulkStatusChange(input: {selection: {filter: {}}, status: MARKETING, confirmCount: $count}) {
    bulkOperation { id } userErrors { code message } } }"""
BULK_STATUS = "query($id: ID!) { bulkOperation(id: $id) { status } }"
#: each account at its tier with one marketing contact: the next one exceeds it
CROSSING_PLAN = AccountPlan(
    tier_limit=1, tier_step=1, contacts=statuses(1, 0), alert_thresholds=(100,)
)
BULK_PLAN = AccountPlan(
    tier_limit=BULK_TIER, tier_step=BULK_TIER, contacts=statuses(0, BULK_CONTACTS)
)


@dataclass(frozen=True)
class SetUp:
    label: str
    apis: int
    accounts: int
    per_account: int


SET_UPS = (
    SetUp("1 subscriber", 1, 1, 1),
    SetUp("500 subscribers", 1, 50, PER_ACCOUNT),
    SetUp("5,000 subscribers", 2, 500, PER_ACCOUNT),
)


@dataclass
class Samples:
    """Latencies in seconds."""

    from_commit: list[float] = field(default_factory=list)
    from_sent: list[float] = field(default_factory=list)
    from_at: list[float] = field(default_factory=list)
    alerts: int = 0


def arrivals(
    subscribers: list[AlertSubscriber], alert_ids: set[str], marks: CommitMarks, samples: Samples
) -> None:
    """Each alert's arrival at each subscriber, from its commit and from its stored `at`."""
    for subscriber in subscribers:
        for alert_id in alert_ids:
            arrived = subscriber.received[alert_id]
            samples.from_commit.append(arrived - marks.committed[alert_id])
            samples.from_at.append(arrived - subscriber.raised_at[alert_id])


async def cross(
    http: httpx.AsyncClient, api: str, account: BenchAccount, subs: Subscribers, marks: CommitMarks
) -> tuple[set[str], float]:
    """One crossing: the new alerts' ids, once every subscriber of the account has them, and
    the wall-clock time the mutation was sent."""
    subscribers = subs.of(account.id)
    seen = set(subscribers[0].received)
    sent = time.time()
    await graphql(http, api, account.token, CREATE)
    first = subscribers[0]
    async with asyncio.timeout(ARRIVAL_SECONDS):
        while len(first.received) < len(seen) + ALERTS_PER_CROSSING:
            first.arrived.clear()
            await first.arrived.wait()
    new = set(first.received) - seen
    for subscriber in subscribers:
        if not await subscriber.until_received(new, ARRIVAL_SECONDS):
            raise TimeoutError(f"a subscriber on API {subscriber.api + 1} missed {new}")
    await marks.until_marked(new, ARRIVAL_SECONDS)
    return new, sent


async def measure_crossings(stack: Stack, set_up: SetUp, accounts: list[BenchAccount]) -> Samples:
    apis = stack.apis[: set_up.apis]
    chosen = accounts[: set_up.accounts]
    measured = chosen[:MEASURED_ACCOUNTS]
    subs = await open_subscribers(apis, [(a.id, a.token) for a in chosen], set_up.per_account)
    marks = CommitMarks(stack.redis.url)
    samples = Samples()
    try:
        await until_listening(stack.redis.url, [a.id for a in chosen], len(apis))
        await marks.listen([a.id for a in measured])
        async with httpx.AsyncClient(timeout=30) as http:
            for number in range(CROSSINGS):
                account = measured[number % len(measured)]
                new, sent = await cross(http, apis[number % len(apis)], account, subs, marks)
                subscribers = subs.of(account.id)
                arrivals(subscribers, new, marks, samples)
                first = min(s.received[i] for s in subscribers for i in new)
                samples.from_sent.append(first - sent)
                samples.alerts += len(new)
    finally:
        await marks.close()
        await subs.close()
    return samples


async def measure_bulk_pages(stack: Stack, accounts: list[BenchAccount]) -> Samples:
    subs = await open_subscribers(stack.apis, [(a.id, a.token) for a in accounts], PER_ACCOUNT)
    marks = CommitMarks(stack.redis.url)
    samples = Samples()
    try:
        await until_listening(stack.redis.url, [a.id for a in accounts], len(stack.apis))
        await marks.listen([a.id for a in accounts])
        async with httpx.AsyncClient(timeout=30) as http:
            api = stack.apis[0]
            before = [await stored_alert_ids(http, api, a.token) for a in accounts]
            operations = []
            for account in accounts:
                started = await graphql(http, api, account.token, START_BULK, count=BULK_CONTACTS)
                payload = started["startBulkStatusChange"]
                assert payload["userErrors"] == [], payload
                operations.append(payload["bulkOperation"]["id"])
            for account, operation in zip(accounts, operations, strict=True):
                while True:
                    state = await graphql(http, api, account.token, BULK_STATUS, id=operation)
                    status = state["bulkOperation"]["status"]
                    if status not in ("QUEUED", "RUNNING"):
                        break
                    stack.check_alive()
                    await asyncio.sleep(0.2)
                assert status == "COMPLETED", state
            for account, earlier in zip(accounts, before, strict=True):
                raised = await stored_alert_ids(http, api, account.token) - earlier
                for subscriber in subs.of(account.id):
                    if not await subscriber.until_received(raised, ARRIVAL_SECONDS):
                        raise TimeoutError(f"a subscriber on API {subscriber.api + 1} missed some")
                await marks.until_marked(raised, ARRIVAL_SECONDS)
                arrivals(subs.of(account.id), raised, marks, samples)
                samples.alerts += len(raised)
    finally:
        await marks.close()
        await subs.close()
    return samples


def print_figures(rows: list[tuple[SetUp, Samples]], bulk: Samples) -> None:
    print_table(
        f"tierAlerts latency, ms: {CROSSINGS} crossings (createContact over HTTP, 2 alerts "
        "each); every arrival at every subscriber of the crossing account is a sample",
        [
            "subscribers",
            "API processes",
            "arrivals",
            "commit->arrival p50",
            "p99",
            "max",
            "sent->first p50",
            "p99",
            "max",
        ],
        [
            [
                set_up.label,
                set_up.apis,
                len(samples.from_commit),
                *latency_cells(samples.from_commit),
                *latency_cells(samples.from_sent),
            ]
            for set_up, samples in rows
        ],
    )
    print("target: p99 under 50 ms from the commit with 5,000 subscribers")
    print_table(
        f"alerts raised by bulk pages, ms: {BULK_ACCOUNTS} accounts at once, each a bulk "
        f"change of {BULK_CONTACTS:,} contacts to MARKETING (pages of 500) raising "
        f"{bulk.alerts // BULK_ACCOUNTS} alerts, {PER_ACCOUNT} subscribers each over 2 API "
        "processes",
        ["measured from", "arrivals", "p50", "p99", "max"],
        [
            ["the page's commit", len(bulk.from_commit), *latency_cells(bulk.from_commit)],
            ["the alert's stored `at`", len(bulk.from_at), *latency_cells(bulk.from_at)],
        ],
    )
    print(
        "the page's alerts are published right after its commit: from there a Redis PUBLISH, "
        "the API's event hub and a WebSocket send; `at` is the page's decision, before its writes"
    )


def main() -> int:
    with running_stack("alerts", apis=2, workers=1) as stack:
        started = time.monotonic()
        most = max(set_up.accounts for set_up in SET_UPS)
        accounts = asyncio.run(open_accounts(stack.settings, "crossing", most, CROSSING_PLAN))
        bulk_accounts = asyncio.run(open_accounts(stack.settings, "bulk", BULK_ACCOUNTS, BULK_PLAN))
        print(f"{most + BULK_ACCOUNTS} accounts opened in {time.monotonic() - started:.0f} s")
        rows = []
        for set_up in SET_UPS:
            started = time.monotonic()
            rows.append((set_up, asyncio.run(measure_crossings(stack, set_up, accounts))))
            print(f"{set_up.label}: measured in {time.monotonic() - started:.0f} s")
        started = time.monotonic()
        bulk = asyncio.run(measure_bulk_pages(stack, bulk_accounts))
        print(f"bulk pages: measured in {time.monotonic() - started:.0f} s")
        stack.check_alive()
    print_figures(rows, bulk)
    return 0


if __name__ == "__main__":
    run_main(main)

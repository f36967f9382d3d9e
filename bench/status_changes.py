"""setMarketingStatus: database commands per call, and service time against the raw driver.

Starts its own SecantusDB and Redis on free ports, opens the services over them with a PyMongo
CommandListener on the client, and for batches of 1, 10 and 100 contacts measures:

- the database commands one call issues (names and count), which must not grow with the batch;
- the median latency of `StatusService.set_marketing_status`;
- the median latency of the same database work done with raw PyMongo calls on the same client
  and server (read the account, read the contacts by $in, one transaction: conditional update of
  the account, a bulk write of the contacts, insert_many of history entries, commit);
- the ratio service / raw, a figure that does not depend on the server's speed.

Calls alternate MARKETING / NON_MARKETING so that every call changes every contact of its batch
(N -> M, M -> P, P -> M, ...). Run from the repository root:
`.venv/bin/python bench/status_changes.py`.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bson import ObjectId
from pymongo import UpdateOne, monitoring
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from marketing_contacts.dev.processes import free_port
from marketing_contacts.dev.servers import (
    IN_MEMORY,
    MongoServer,
    RedisServer,
    start_mongo,
    start_redis,
)
from marketing_contacts.domain.statuses import MarketingStatus
from marketing_contacts.runtime import open_runtime
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.services.registry import Services
from marketing_contacts.settings import Settings
from marketing_contacts.storage.database import (
    ACCOUNTS,
    CONTACTS,
    STATUS_HISTORY,
    Mongo,
)

CONTACTS_PER_ACCOUNT = 300
BATCH_SIZES = (1, 10, 100)
REPETITIONS = 30
WARM_UP = 2
Doc = dict[str, Any]


class CommandCounter(monitoring.CommandListener):
    """Names of the commands started while `recording` is on (one call at a time)."""

    def __init__(self) -> None:
        self.recording = False
        self.names: list[str] = []
        self.failures = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.recording:
            self.names.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        if self.recording:
            self.failures += 1

    async def measure(self, call: Callable[[], Awaitable[object]]) -> tuple[float, list[str]]:
        """Seconds the call took and the commands it issued."""
        self.names = []
        self.recording = True
        try:
            started = time.perf_counter()
            await call()
            elapsed = time.perf_counter() - started
        finally:
            self.recording = False
        return elapsed, self.names


@dataclass
class Measured:
    """What one way of doing the change measured for one batch size."""

    seconds: list[float] = field(default_factory=list)
    commands: list[Counter[str]] = field(default_factory=list)

    def add(self, seconds: float, names: list[str]) -> None:
        self.seconds.append(seconds)
        self.commands.append(Counter(names))

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    def commands_per_call(self) -> tuple[float, str]:
        """Mean commands per call, and the breakdown of the most frequent shape."""
        mean = statistics.mean(sum(c.values()) for c in self.commands)
        shapes = Counter(tuple(sorted(c.items())) for c in self.commands)
        shape = shapes.most_common(1)[0][0]
        breakdown = " ".join(f"{name}x{n}" for name, n in shape)
        if len(shapes) > 1:
            breakdown += f" (+{len(shapes) - 1} other shapes)"
        return mean, breakdown


def state_after(before: str, target: MarketingStatus) -> str:
    """S2 on the stored state letters: N/P -> M when MARKETING; M -> P when NON_MARKETING."""
    if target is MarketingStatus.MARKETING:
        return "M"
    return "P" if before == "M" else before


class RawStatusChange:
    """The service's database work for one call, written directly against PyMongo."""

    def __init__(self, mongo: Mongo, account_id: str, source_id: str) -> None:
        self.mongo = mongo
        self.account_id = ObjectId(account_id)
        self.source_id = source_id

    async def __call__(self, contact_ids: list[str], target: MarketingStatus) -> None:
        accounts, contacts = self.mongo[ACCOUNTS], self.mongo[CONTACTS]
        account = await accounts.find_one({"_id": self.account_id})
        assert account is not None
        keys = [ObjectId(cid) for cid in contact_ids]
        docs = await contacts.find({"_id": {"$in": keys}, "account_id": self.account_id}).to_list()
        now = datetime.now(UTC)
        operations: list[UpdateOne] = []
        history: list[Doc] = []
        counts = dict(account["counts"])
        for doc in docs:
            before = doc["state"]
            after = state_after(before, target)
            if after == before:
                continue
            counts["marketing"] += (after != "N") - (before != "N")
            counts["pending"] += (after == "P") - (before == "P")
            seq = doc["status_seq"] + 1
            operations.append(
                UpdateOne(
                    {"_id": doc["_id"], "account_id": self.account_id, "status_seq": seq - 1},
                    {
                        "$set": {
                            "state": after,
                            "status_seq": seq,
                            "pending_since": now if after == "P" else None,
                            "status_source_type": "USER",
                            "status_source_id": self.source_id,
                            "status_changed_at": now,
                            "updated_at": now,
                        }
                    },
                )
            )
            history.append(
                {
                    "account_id": self.account_id,
                    "contact_id": doc["_id"],
                    "seq": seq,
                    "at": now,
                    "from_state": before,
                    "to_state": after,
                    "source_type": "USER",
                    "source_id": self.source_id,
                }
            )
        if not operations:
            return
        async with (
            self.mongo.client.start_session() as session,
            await session.start_transaction(
                read_concern=ReadConcern("local"), write_concern=WriteConcern("majority")
            ),
        ):
            moved = await accounts.update_one(
                {"_id": self.account_id, "revision": account["revision"]},
                {"$set": {"counts": counts, "revision": account["revision"] + 1}},
                session=session,
            )
            assert moved.matched_count == 1
            written = await contacts.bulk_write(operations, session=session)
            assert written.matched_count == len(operations)
            await self.mongo[STATUS_HISTORY].insert_many(history, session=session)


async def open_account(services: Services, name: str) -> tuple[Caller, list[str]]:
    """An account with CONTACTS_PER_ACCOUNT non-marketing contacts, and a caller of it."""
    account = await services.accounts.open(AccountOpening(name=name))
    admin = await services.users.first_admin(account.id)
    _, secret = await services.tokens.issue(admin, "bench")
    caller = await services.tokens.authenticate(secret)
    assert caller is not None
    ids = []
    for n in range(CONTACTS_PER_ACCOUNT):
        contact = await services.contacts.create(
            caller, ContactDraft(email=f"{name}-{n}@example.com")
        )
        ids.append(contact.id)
    return caller, ids


async def run(mongo_uri: str, redis_url: str) -> None:
    counter = CommandCounter()
    settings = Settings(
        mongodb_uri=mongo_uri, mongodb_database="bench_status_changes", redis_url=redis_url
    )
    async with open_runtime(settings, event_listeners=[counter]) as runtime:
        mongo, services = runtime.mongo, runtime.services
        print(f"creating 2 accounts of {CONTACTS_PER_ACCOUNT} contacts ...", flush=True)
        caller, service_ids = await open_account(services, "service")
        raw_caller, raw_ids = await open_account(services, "raw")
        raw = RawStatusChange(mongo, raw_caller.account_id, raw_caller.token_id)
        statuses = services.statuses

        rows = []
        start = 0
        for size in BATCH_SIZES:
            batch, raw_batch = service_ids[start : start + size], raw_ids[start : start + size]
            start += size
            service, direct = Measured(), Measured()
            for n in range(WARM_UP + REPETITIONS):
                target = MarketingStatus.MARKETING if n % 2 == 0 else MarketingStatus.NON_MARKETING
                result = await counter.measure(
                    partial(statuses.set_marketing_status, caller, batch, target)
                )
                raw_result = await counter.measure(partial(raw, raw_batch, target))
                if n >= WARM_UP:
                    service.add(*result)
                    direct.add(*raw_result)
            rows.append((size, service, direct))
        if counter.failures:
            print(f"note: {counter.failures} commands failed during the measured calls")
        print_table(rows)


def print_table(rows: list[tuple[int, Measured, Measured]]) -> None:
    print()
    print(
        f"setMarketingStatus, {REPETITIONS} calls per batch size, alternating MARKETING / "
        "NON_MARKETING; every call changes every contact of its batch"
    )
    header = (
        f"{'batch':>5} | {'cmds/call':>9} | {'service commands':<54} | {'raw cmds':>8} | "
        f"{'median ms service':>17} | {'median ms raw':>13} | {'ratio':>5}"
    )
    print(header)
    print("-" * len(header))
    for size, service, direct in rows:
        commands, breakdown = service.commands_per_call()
        raw_commands, _ = direct.commands_per_call()
        ratio = service.median_ms / direct.median_ms
        print(
            f"{size:>5} | {commands:>9.1f} | {breakdown:<54} | {raw_commands:>8.1f} | "
            f"{service.median_ms:>17.1f} | {direct.median_ms:>13.1f} | {ratio:>5.2f}"
        )
    print()
    print(
        "raw = the same reads and transaction written directly with PyMongo on the same client "
        "(find account, find contacts $in, update account, bulk update, insert_many, commit)."
    )
    print("targets: commands per call bounded whatever the batch size; ratio under 1.5")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-status-") as work:
        work_dir = Path(work)
        mongo: MongoServer | None = None
        redis: RedisServer | None = None
        try:
            mongo = start_mongo(
                port=free_port(), storage_path=IN_MEMORY, log_path=work_dir / "secantusd.log"
            )
            redis = start_redis(
                port=free_port(),
                data_dir=work_dir / "redis",
                persistent=False,
                log_path=work_dir / "redis.log",
            )
            asyncio.run(run(mongo.uri, redis.url))
        finally:
            if redis is not None:
                redis.stop()
            if mongo is not None:
                mongo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

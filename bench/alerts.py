"""Alert latency: from the mutation that crosses a tier threshold to the message at a subscriber.

Starts its own SecantusDB, Redis and one API process (uvicorn), opens WebSocket subscribers of
`tierAlerts`, and for 200 crossings times a createContact mutation over HTTP until the alert
reaches the measured subscriber. Once with 1 subscriber, once with 500 connected subscribers
(50 accounts, 10 each: only the measured account's 10 receive the alert). Every crossing is real:
the measured account's ladder grows by 1 and its only threshold is 100 (exceeded), so each new
marketing contact exceeds the tier and upgrades it (TIER_EXCEEDED then TIER_UPGRADED).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from marketing_contacts.dev.processes import ManagedProcess, free_port, start_process, wait_until
from marketing_contacts.dev.servers import IN_MEMORY, start_mongo, start_redis
from marketing_contacts.domain.statuses import MarketingStatus
from marketing_contacts.runtime import open_runtime
from marketing_contacts.services.accounts import AccountOpening, AccountSettings
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.settings import Settings

CROSSINGS = 200
ACCOUNTS = 50
PER_ACCOUNT = 10
ALERTS_PER_CROSSING = 2
CREATE = "mutation { createContact(input: {marketingStatus: MARKETING}) { contact { id } } }"
SUBSCRIBE = "subscription { tierAlerts { kind } }"
CLI = str(Path(sys.executable).parent / "marketing-contacts")


async def open_accounts(settings: Settings, count: int) -> list[str]:
    """Tokens of `count` accounts; the first is the measured one (ladder 1, 2, 3, ...)."""
    tokens = []
    async with open_runtime(settings) as runtime:
        services = runtime.services
        for n in range(count):
            opening = AccountOpening(name=f"bench-{n}", tier_limit=1, tier_step=1)
            account = await services.accounts.open(opening)
            _, secret = await services.tokens.issue(account.id, "bench")
            caller = await services.tokens.authenticate(secret)
            assert caller is not None
            await services.accounts.update_settings(
                caller, AccountSettings(alert_thresholds=(100,))
            )
            draft = ContactDraft(marketing_status=MarketingStatus.MARKETING)
            await services.contacts.create(caller, draft)  # at the tier: the next one exceeds it
            tokens.append(secret)
    return tokens


async def subscriber(stack: AsyncExitStack, url: str, token: str) -> ClientConnection:
    socket = await stack.enter_async_context(
        connect(url, subprotocols=[Subprotocol("graphql-transport-ws")], max_queue=None)
    )
    await socket.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    )
    ack = json.loads(await socket.recv())
    assert ack["type"] == "connection_ack", ack
    await socket.send(json.dumps({"id": "a", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    return socket


async def read(socket: ClientConnection, arrivals: asyncio.Queue[float] | None) -> None:
    async for raw in socket:
        message = json.loads(raw)
        if message.get("type") == "next" and arrivals is not None:
            arrivals.put_nowait(time.perf_counter())


async def measure(api: str, tokens: list[str], per_account: int) -> list[float]:
    url = api.replace("http://", "ws://") + "/graphql"
    arrivals: asyncio.Queue[float] = asyncio.Queue()
    latencies: list[float] = []
    readers: list[asyncio.Task[None]] = []
    async with AsyncExitStack() as stack:
        for index, token in enumerate(tokens):
            for copy in range(per_account):
                socket = await subscriber(stack, url, token)
                measured = index == 0 and copy == 0
                readers.append(asyncio.create_task(read(socket, arrivals if measured else None)))
        await asyncio.sleep(1.0)  # every subscription listens
        async with httpx.AsyncClient(base_url=api, timeout=30) as http:
            headers = {"Authorization": f"Bearer {tokens[0]}"}
            for _ in range(CROSSINGS):
                started = time.perf_counter()
                response = await http.post("/graphql", json={"query": CREATE}, headers=headers)
                assert "errors" not in response.json(), response.text
                first = await asyncio.wait_for(arrivals.get(), 10)
                latencies.append(first - started)
                for _ in range(ALERTS_PER_CROSSING - 1):
                    await asyncio.wait_for(arrivals.get(), 10)
    for task in readers:  # the sockets are closed: their readers end
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    return latencies


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def start_api(env: dict[str, str], log: Path) -> tuple[ManagedProcess, str]:
    port = free_port()
    api = start_process("api", [CLI, "serve"], env={**env, "PORT": str(port)}, log_path=log)
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{base}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(healthy, timeout=60, what="the API", process=api)
    return api, base


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-alerts-") as work:
        work_dir = Path(work)
        mongo = start_mongo(
            port=free_port(), storage_path=IN_MEMORY, log_path=work_dir / "secantusd.log"
        )
        redis = start_redis(
            port=free_port(),
            data_dir=work_dir / "redis",
            persistent=False,
            log_path=work_dir / "redis.log",
        )
        api: ManagedProcess | None = None
        try:
            env = {
                **os.environ,
                "MONGODB_URI": mongo.uri,
                "REDIS_URL": redis.url,
                "MONGODB_DATABASE": "bench_alerts",
                "LOG_LEVEL": "WARNING",
            }
            settings = Settings(
                mongodb_uri=mongo.uri, redis_url=redis.url, mongodb_database="bench_alerts"
            )
            api, base = start_api(env, work_dir / "api.log")
            rows = []
            for label, accounts, per_account in (
                ("1 subscriber", 1, 1),
                ("500 subscribers", ACCOUNTS, PER_ACCOUNT),
            ):
                tokens = asyncio.run(open_accounts(settings, accounts))
                latencies = asyncio.run(measure(base, tokens, per_account))
                rows.append((label, latencies))
            print(
                f"\ntierAlerts latency, mutation sent -> first alert at the subscriber, "
                f"{CROSSINGS} crossings, one API process"
            )
            print(f"{'subscribers':<16} | {'p50 ms':>7} | {'p99 ms':>7} | {'max ms':>7}")
            print("-" * 46)
            for label, latencies in rows:
                ms = [1000 * value for value in latencies]
                print(
                    f"{label:<16} | {statistics.median(ms):7.1f} | {percentile(ms, 99):7.1f} | "
                    f"{max(ms):7.1f}"
                )
            print("target: p99 under 100 ms with 500 subscribers")
        finally:
            if api is not None:
                api.stop()
            redis.stop()
            mongo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

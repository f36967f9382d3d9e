"""tierAlerts subscribers over real WebSockets (graphql-transport-ws), the commit instants the
writers publish with their alerts, and the alerts an account has stored."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from marketing_contacts.events.messages import channel, decode
from marketing_contacts.services.ports.events import AlertRaised

PROTOCOL = Subprotocol("graphql-transport-ws")
SUBSCRIBE = "subscription { tierAlerts { id at } }"
#: WebSocket handshakes in flight at once (the servers' listen backlog stays short)
CONCURRENT_HANDSHAKES = 64
ALERTS_PAGE = "query($after: String) { account { alerts(first: 200, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }"  # noqa: E501


@dataclass
class AlertSubscriber:
    """One tierAlerts subscription on its own WebSocket: every alert it received, by id, with
    the wall-clock time (time.time) it arrived; what ended the subscription, if anything."""

    api: int
    account_id: str
    socket: ClientConnection
    received: dict[str, float] = field(default_factory=dict)
    #: the alert's `at` as the subscriber received it, by id
    raised_at: dict[str, float] = field(default_factory=dict)
    duplicates: int = 0
    ended: str | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.socket:
                now = time.time()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "next" and "errors" not in message["payload"]:
                    alert = message["payload"]["data"]["tierAlerts"]
                    if alert["id"] in self.received:
                        self.duplicates += 1
                    self.received.setdefault(alert["id"], now)
                    self.raised_at[alert["id"]] = _timestamp(alert["at"])
                    self.arrived.set()
                elif kind == "ping":
                    await self.socket.send(json.dumps({"type": "pong"}))
                elif kind in ("next", "error", "complete"):
                    self.ended = json.dumps(message)[:300]

    async def until_received(self, alert_ids: set[str], within: float) -> bool:
        """Whether every one of `alert_ids` arrived within `within` seconds."""
        deadline = time.monotonic() + within
        while not alert_ids <= self.received.keys():
            self.arrived.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), left)
        return True


def _timestamp(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def ws_url(api: str) -> str:
    return api.replace("http://", "ws://") + "/graphql"


async def _subscribe(api: int, url: str, account_id: str, token: str) -> AlertSubscriber:
    socket = await connect(url, subprotocols=[PROTOCOL], max_queue=None, open_timeout=60)
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
    await socket.send(json.dumps(init))
    ack = json.loads(await asyncio.wait_for(socket.recv(), 60))
    assert ack["type"] == "connection_ack", ack
    await socket.send(json.dumps({"id": "a", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    return AlertSubscriber(api, account_id, socket)


@dataclass
class Subscribers:
    """Subscribers and the tasks reading them; `close` ends them all."""

    all: list[AlertSubscriber] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)

    def of(self, account_id: str) -> list[AlertSubscriber]:
        return [s for s in self.all if s.account_id == account_id]

    async def close(self) -> None:
        gate = asyncio.Semaphore(CONCURRENT_HANDSHAKES)

        async def close_one(subscriber: AlertSubscriber) -> None:
            async with gate:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(subscriber.socket.close(), 10)

        await asyncio.gather(*(close_one(s) for s in self.all))
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)


async def open_subscribers(
    apis: Sequence[str], accounts: Sequence[tuple[str, str]], per_account: int
) -> Subscribers:
    """`per_account` subscribers for each (account id, token), spread evenly over `apis`."""
    gate = asyncio.Semaphore(CONCURRENT_HANDSHAKES)
    opened = Subscribers()

    async def one(index: int, account_id: str, token: str) -> None:
        api = index % len(apis)
        async with gate:
            subscriber = await _subscribe(api, ws_url(apis[api]), account_id, token)
        opened.all.append(subscriber)
        opened.readers.append(asyncio.create_task(subscriber.read()))

    try:
        await asyncio.gather(
            *(
                one(copy, account_id, token)
                for account_id, token in accounts
                for copy in range(per_account)
            )
        )
    except BaseException:
        await opened.close()
        raise
    return opened


async def until_listening(redis_url: str, account_ids: Sequence[str], processes: int) -> None:
    """Until `processes` listeners hear each account's channel in Redis (each API process's
    event hub listens once per account it has subscribers of), then a moment more for the
    subscriptions that joined a channel already heard."""
    redis = Redis.from_url(redis_url)
    try:
        names = [channel(account_id) for account_id in account_ids]
        deadline = time.monotonic() + 60
        while True:
            counts: list[tuple[Any, int]] = await redis.pubsub_numsub(*names)
            if all(count >= processes for _, count in counts):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"the channels are not all heard: {counts}")
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
    finally:
        await redis.aclose()


class CommitMarks:
    """The commit instant of every alert published on the accounts' channels, by alert id
    (the `committed_at` its writer publishes with it), as a time.time() value."""

    def __init__(self, redis_url: str) -> None:
        self.redis = Redis.from_url(redis_url)
        self.pubsub = self.redis.pubsub()
        self.committed: dict[str, float] = {}
        self.marked = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def listen(self, account_ids: Sequence[str]) -> None:
        await self.pubsub.subscribe(*(channel(account_id) for account_id in account_ids))
        self.task = asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        async for message in self.pubsub.listen():
            if message["type"] != "message":
                continue
            event = decode(message["data"])
            if isinstance(event, AlertRaised) and event.committed_at is not None:
                self.committed[event.alert.id] = event.committed_at.timestamp()
                self.marked.set()

    async def until_marked(self, alert_ids: set[str], within: float) -> None:
        """Until every one of `alert_ids` has its commit instant; TimeoutError past `within`."""
        async with asyncio.timeout(within):
            while not alert_ids <= self.committed.keys():
                self.marked.clear()
                await self.marked.wait()

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.pubsub.aclose()
        await self.redis.aclose()


async def stored_alert_ids(http: httpx.AsyncClient, api: str, token: str) -> set[str]:
    """Every alert the token's account has stored (Account.alerts, paged)."""
    ids: set[str] = set()
    after: str | None = None
    while True:
        body = await graphql(http, api, token, ALERTS_PAGE, after=after)
        alerts = body["account"]["alerts"]
        ids |= {edge["node"]["id"] for edge in alerts["edges"]}
        if not alerts["pageInfo"]["hasNextPage"]:
            return ids
        after = alerts["pageInfo"]["endCursor"]


async def graphql(
    http: httpx.AsyncClient, api: str, token: str, query: str, **variables: Any
) -> dict[str, Any]:
    """The data of a GraphQL request that must succeed."""
    response = await http.post(
        f"{api}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, response.text
    data: dict[str, Any] = body["data"]
    return data

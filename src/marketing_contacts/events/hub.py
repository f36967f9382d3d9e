"""One Redis subscription per API process, fanned out to its subscribers (A3).

The hub listens on an account's channel only while that account has a subscriber in this
process. A dropped connection is re-established with backoff; every subscriber notes when the
feed broke and, once it is back, reads afresh what it may have missed. A subscription starts
only while the feed is up and its channel listens (FeedUnavailable otherwise, within
LISTEN_TIMEOUT_SECONDS), so a subscriber never waits on a feed that is not there.

Access changes (P1: a revoked token, a changed or deactivated user) come on one channel every
hub listens to while the feed is up; each open socket watches those of its account, and
re-checks its token when one concerns it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from marketing_contacts.events.messages import ACCESS_CHANNEL, account_of, channel, decode
from marketing_contacts.services.ports.events import AccessChanged
from marketing_contacts.services.subscriptions import FeedUnavailable, Subscriber

log = logging.getLogger(__name__)
CONTROL = "mc:hub:control"
LISTEN_TIMEOUT_SECONDS = 5.0
MAX_RECONNECT_DELAY = 5.0
#: while the feed stays down, the log says so about once a minute
STILL_DOWN_REPORT_SECONDS = 60.0


class EventHub:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.subscribers: dict[str, set[Subscriber]] = {}
        self.watchers: dict[str, set[Callable[[AccessChanged], None]]] = {}
        self.pubsub: PubSub | None = None
        self.task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        #: channels Redis confirmed: a subscription starts once its channel listens
        self.confirmed: dict[str, asyncio.Event] = {}

    async def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name="event-hub")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self._close()

    @asynccontextmanager
    async def subscribe(self, account_id: str) -> AsyncIterator[Subscriber]:
        subscriber = Subscriber(account_id, started_at=datetime.now(UTC))
        first = account_id not in self.subscribers
        self.subscribers.setdefault(account_id, set()).add(subscriber)
        try:
            await self._listening(account_id, subscribe=first)
            yield subscriber
        finally:
            remaining = self.subscribers.get(account_id, set())
            remaining.discard(subscriber)
            if not remaining:
                self.subscribers.pop(account_id, None)
                await self._unlisten(account_id)

    @contextmanager
    def watch(self, account_id: str, notify: Callable[[AccessChanged], None]) -> Iterator[None]:
        """`notify` hears every access change of the account until the context ends."""
        self.watchers.setdefault(account_id, set()).add(notify)
        try:
            yield
        finally:
            remaining = self.watchers.get(account_id, set())
            remaining.discard(notify)
            if not remaining:
                self.watchers.pop(account_id, None)

    async def _listening(self, account_id: str, *, subscribe: bool) -> None:
        """Until the feed is up and Redis confirmed the account's channel (asking for it when
        this is the account's first subscriber here); FeedUnavailable past the timeout."""
        name = channel(account_id)
        confirmed = self.confirmed.setdefault(name, asyncio.Event())
        try:
            async with asyncio.timeout(LISTEN_TIMEOUT_SECONDS):
                await self.connected.wait()
                if subscribe and self.pubsub is not None:
                    await self.pubsub.subscribe(name)
                await confirmed.wait()
        except (TimeoutError, RedisError) as error:
            raise FeedUnavailable("live events are unavailable right now; retry shortly") from error

    async def _unlisten(self, account_id: str) -> None:
        self.confirmed.pop(channel(account_id), None)
        if self.pubsub is not None:
            with contextlib.suppress(Exception):
                await self.pubsub.unsubscribe(channel(account_id))

    async def _run(self) -> None:
        delay = 0.1
        broken_at: float | None = None  # monotonic time of the break, while broken
        report_at = 0.0
        while True:
            try:
                await self._connect()
                delay = 0.1
                if broken_at is not None:
                    down_for = time.monotonic() - broken_at
                    log.warning("the event feed from Redis is back after %.0f s", down_for)
                    self._restored()
                    broken_at = None
                await self._pump()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                now = time.monotonic()
                if broken_at is None:
                    log.warning("the event feed from Redis broke (%r); reconnecting", error)
                    broken_at, report_at = now, now + STILL_DOWN_REPORT_SECONDS
                    self._broken(datetime.now(UTC))
                elif now >= report_at:
                    log.warning("the event feed from Redis is still down (%r)", error)
                    report_at = now + STILL_DOWN_REPORT_SECONDS
            self.connected.clear()
            for confirmed in self.confirmed.values():
                confirmed.clear()
            await self._close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RECONNECT_DELAY)

    def _broken(self, at: datetime) -> None:
        for subscribers in self.subscribers.values():
            for subscriber in subscribers:
                subscriber.lost_events(at)

    def _restored(self) -> None:
        for subscribers in self.subscribers.values():
            for subscriber in subscribers:
                subscriber.feed_restored()

    async def _connect(self) -> None:
        self.pubsub = self.redis.pubsub()
        await self.pubsub.subscribe(
            CONTROL, ACCESS_CHANNEL, *(channel(a) for a in self.subscribers)
        )
        self.connected.set()

    async def _pump(self) -> None:
        assert self.pubsub is not None
        while True:
            message = await self.pubsub.get_message(timeout=1.0)
            if message is None:
                continue
            raw = message["channel"]
            name = raw.decode() if isinstance(raw, bytes) else str(raw)
            if message["type"] == "subscribe":
                self.confirmed.setdefault(name, asyncio.Event()).set()
                continue
            if message["type"] != "message":
                continue
            event = decode(message["data"])
            if isinstance(event, AccessChanged):
                for notify in tuple(self.watchers.get(event.account_id, ())):
                    notify(event)
                continue
            account_id = account_of(name)
            for subscriber in tuple(self.subscribers.get(account_id, ())):
                subscriber.offer(event)

    async def _close(self) -> None:
        if self.pubsub is not None:
            with contextlib.suppress(Exception):
                await self.pubsub.aclose()  # type: ignore[no-untyped-call]
            self.pubsub = None

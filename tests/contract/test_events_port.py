"""EventPublisher: the events published for an account reach the listeners of that account, as
they were published and in order; nothing reaches the listeners of another account.

A listener hears on the fake what the fake recorded, and on Redis what a subscriber of the
account's channel decodes (what the API's event hub does). Each test ends by publishing an end
mark to an account of its own: what was heard before the mark is all that was heard.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

import pytest_asyncio
from redis.asyncio import Redis

from marketing_contacts.domain.usage import Usage, UsageCounts
from marketing_contacts.events.messages import account_of, channel, decode
from marketing_contacts.services.paging import Stored
from marketing_contacts.services.ports.events import (
    AlertRaised,
    BulkProgressed,
    Event,
    UsageChanged,
)
from marketing_contacts.services.wiring import Ports
from tests.contract.implementations import FAKE
from tests.contract.records import alert, now
from tests.unit.services.fakes import FakePublisher

END = BulkProgressed("end of the test")
#: a commit instant to the microsecond, as a writer publishes it with its alerts
COMMITTED_AT = datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
#: how long a listener waits for what was published before the test fails
HEARING_SECONDS = 10.0

Heard = list[tuple[str, Event]]


class Listener(Protocol):
    async def heard(self) -> Heard:
        """What the listened accounts were told, in order, up to the end mark."""
        ...


class FakeListener:
    def __init__(self, publisher: FakePublisher, accounts: set[str], end: str) -> None:
        self.publisher, self.accounts, self.end = publisher, accounts, end

    async def heard(self) -> Heard:
        told = [
            (published.account_id, event)
            for published in self.publisher.published
            if published.account_id in self.accounts
            for event in published.events
        ]
        return told[: told.index((self.end, END))]


class RedisListener:
    def __init__(self, redis: Redis, end: str) -> None:
        self.pubsub = redis.pubsub()
        self.end = end

    async def listen(self, accounts: set[str]) -> None:
        """Until Redis confirmed every channel: what is published from then on is heard."""
        await self.pubsub.subscribe(*(channel(account_id) for account_id in accounts))
        confirmed = 0
        async with asyncio.timeout(HEARING_SECONDS):
            async for message in self.pubsub.listen():
                confirmed += message["type"] == "subscribe"
                if confirmed == len(accounts):
                    return

    async def heard(self) -> Heard:
        told: Heard = []
        async with asyncio.timeout(HEARING_SECONDS):
            async for message in self.pubsub.listen():
                if message["type"] != "message":
                    continue
                told.append((account_of(message["channel"].decode()), decode(message["data"])))
                if told[-1] == (self.end, END):
                    return told[:-1]
        raise AssertionError("the end mark never came")

    async def close(self) -> None:
        await self.pubsub.aclose()  # type: ignore[no-untyped-call]


Listen = Callable[..., Awaitable[Listener]]


@pytest_asyncio.fixture
async def listen(
    implementation: str, ports: Ports, contract_redis_url: str
) -> AsyncIterator[Listen]:
    """`await listen(*account_ids)`: a listener of those accounts, listening from then on; the
    test's publisher tells the end mark to the listener's own account when the test calls
    `heard`."""
    redis = Redis.from_url(contract_redis_url)
    opened: list[RedisListener] = []

    async def start(*account_ids: str) -> Listener:
        end = ports.ids.new_id()
        accounts = {*account_ids, end}
        listener: FakeListener | RedisListener
        if implementation == FAKE:
            assert isinstance(ports.events, FakePublisher)
            listener = FakeListener(ports.events, accounts, end)
        else:
            listener = RedisListener(redis, end)
            opened.append(listener)
            await listener.listen(accounts)
        return Ending(listener, ports, end)

    try:
        yield start
    finally:
        for listener in opened:
            await listener.close()
        await redis.aclose()


class Ending:
    """A listener whose `heard` first publishes the end mark."""

    def __init__(self, listener: Listener, ports: Ports, end: str) -> None:
        self.listener, self.ports, self.end = listener, ports, end

    async def heard(self) -> Heard:
        await self.ports.events.publish(self.end, [END])
        return await self.listener.heard()


def every_kind(ports: Ports) -> list[Event]:
    raised = alert(now(ports) - timedelta(minutes=1), threshold=90)
    return [
        UsageChanged(Usage(UsageCounts(marketing=9, pending=2, total=12), 10, date(2025, 3, 1))),
        AlertRaised(Stored(ports.ids.new_id(), raised)),
        AlertRaised(Stored(ports.ids.new_id(), raised), committed_at=COMMITTED_AT),
        BulkProgressed(ports.ids.new_id()),
    ]


async def test_published_events_reach_the_accounts_listeners_as_published(
    ports: Ports, listen: Listen
) -> None:
    account = ports.ids.new_id()
    listener = await listen(account)
    first, second = every_kind(ports), every_kind(ports)
    await ports.events.publish(account, first)
    await ports.events.publish(account, second)
    assert await listener.heard() == [(account, event) for event in first + second]


async def test_an_accounts_events_reach_no_listener_of_another_account(
    ports: Ports, listen: Listen
) -> None:
    mine, theirs = ports.ids.new_id(), ports.ids.new_id()
    listener = await listen(mine)
    events: Sequence[Event] = every_kind(ports)
    await ports.events.publish(theirs, events)
    await ports.events.publish(mine, events[:1])
    assert await listener.heard() == [(mine, events[0])]


async def test_publishing_no_event_tells_nothing(ports: Ports, listen: Listen) -> None:
    account = ports.ids.new_id()
    listener = await listen(account)
    await ports.events.publish(account, [])
    assert await listener.heard() == []

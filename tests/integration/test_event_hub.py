"""The per-process event hub on real Redis: bounded per subscriber, never silent about alerts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest_asyncio
from redis.asyncio import Redis

from marketing_contacts.dev.processes import free_port
from marketing_contacts.domain.alerts import TierAlert, TierAlertKind
from marketing_contacts.domain.statuses import MarketingStatus
from marketing_contacts.domain.usage import Usage, UsageCounts
from marketing_contacts.events.hub import EventHub
from marketing_contacts.events.messages import channel
from marketing_contacts.events.publisher import RedisEventPublisher
from marketing_contacts.runtime import SCHEMA as schema
from marketing_contacts.runtime import Runtime, open_runtime
from marketing_contacts.schema.context import RequestContext
from marketing_contacts.services.accounts import AccountSettings
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.services.paging import Stored
from marketing_contacts.services.ports.events import AccessChanged, AlertRaised, UsageChanged
from marketing_contacts.services.subscriptions import ALERT_CAPACITY
from marketing_contacts.settings import Settings
from tests.support import feed
from tests.support.graphql import Client, open_client
from tests.support.waiting import settle


def alert(n: int) -> AlertRaised:
    return AlertRaised(
        Stored(
            f"{n:024x}",
            TierAlert(
                TierAlertKind.THRESHOLD_REACHED,
                75,
                n,
                1000,
                datetime(2026, 11, 25, tzinfo=UTC),
                date(2026, 11, 1),
            ),
        )
    )


def usage(n: int) -> UsageChanged:
    return UsageChanged(Usage(UsageCounts(n, 0, n), 1000, date(2026, 12, 1)))


@pytest_asyncio.fixture(loop_scope="session")
async def hub(settings_for_tests: Settings) -> AsyncIterator[EventHub]:
    redis = Redis.from_url(settings_for_tests.redis_url)
    hub = EventHub(redis)
    await hub.start()
    yield hub
    await hub.stop()
    await redis.aclose()


async def test_a_slow_subscriber_holds_only_the_latest_usage_and_a_bounded_alert_queue(
    hub: EventHub, settings_for_tests: Settings
) -> None:
    publisher = RedisEventPublisher(Redis.from_url(settings_for_tests.redis_url))
    async with hub.subscribe("slow-account") as subscriber:
        await publisher.publish("slow-account", [usage(n) for n in range(1, 1001)])
        await publisher.publish("slow-account", [alert(n) for n in range(ALERT_CAPACITY + 10)])
        await settle(lambda: subscriber.missed_alerts == 10)
        assert subscriber.take_usage() == usage(1000).usage
        assert len(subscriber.alerts) == ALERT_CAPACITY
    assert "slow-account" not in hub.subscribers


async def listening(
    hub: EventHub, runtime: Runtime, document: str, tier_limit: int | None = None
) -> tuple[Client, AsyncGenerator[Any, None], asyncio.Future[Any]]:
    """A new account's subscription through the schema, its first result awaited in the
    background, once Redis confirmed the channel (nothing published from then on is lost)."""
    client = await open_client(runtime.services, tier_limit=tier_limit)
    context = RequestContext(services=runtime.services, authenticated=client.caller, hub=hub)
    stream = await schema.subscribe(document, context_value=context)
    assert isinstance(stream, AsyncGenerator)
    first = asyncio.ensure_future(stream.__anext__())
    confirmed = hub.confirmed.setdefault(channel(client.caller.account_id), asyncio.Event())
    await settle(confirmed.is_set)
    return client, stream, first


async def test_tier_alerts_tells_the_client_when_alerts_could_not_be_delivered(
    hub: EventHub, runtime: Runtime, settings_for_tests: Settings
) -> None:
    client, stream, first = await listening(
        hub, runtime, "subscription { tierAlerts { marketingContacts } }"
    )
    account_id = client.caller.account_id
    publisher = RedisEventPublisher(Redis.from_url(settings_for_tests.redis_url))
    await publisher.publish(account_id, [alert(n) for n in range(ALERT_CAPACITY + 5)])
    # a slow client: the stream stays suspended after its first alert until every alert has
    # reached the server's side of the subscription (one taken, the rest queued or missed)
    [subscriber] = hub.subscribers[account_id]
    await settle(lambda: first.done() and len(subscriber.alerts) + subscriber.missed_alerts == 260)
    assert subscriber.missed_alerts > 0
    async with asyncio.timeout(30):
        received = [await first]
        while True:
            result = await stream.__anext__()
            received.append(result)
            if result.errors:
                break
    delivered = [r.data["tierAlerts"]["marketingContacts"] for r in received if r.data]
    assert delivered == list(range(len(delivered)))  # in order, none twice
    errors = received[-1].errors
    assert errors is not None and "read Account.alerts" in errors[0].message
    assert errors[0].extensions == {"code": "TOO_MANY", "field": []}


async def test_the_hub_reconnects_and_subscribers_note_the_break(
    hub: EventHub, settings_for_tests: Settings
) -> None:
    admin = Redis.from_url(settings_for_tests.redis_url)
    publisher = RedisEventPublisher(admin)
    async with hub.subscribe("reconnect-account") as subscriber:
        await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        await settle(lambda: subscriber.broken_since is not None)
        await settle(lambda: subscriber.stale)  # the feed is back: read afresh what it missed
        assert subscriber.missed_alerts == 0  # a break by itself loses no alert

        # the hub subscribed the account's channel again on its new connection
        await feed.listening(settings_for_tests.redis_url, "reconnect-account")
        await publisher.publish("reconnect-account", [usage(7)])
        await settle(lambda: subscriber.usage is not None)
    await admin.aclose()


async def test_a3_alerts_published_while_the_feed_was_broken_reach_the_subscriber_once(
    hub: EventHub, runtime: Runtime, settings_for_tests: Settings
) -> None:
    """Alerts stored but never heard (their writer could not publish them), then the feed
    breaks: once it is back, the subscription reads from the store what was raised around the
    break. Each alert comes once, and the subscription goes on (no TOO_MANY: nothing was lost)."""
    client, stream, first = await listening(
        hub, runtime, "subscription { tierAlerts { id threshold marketingContacts } }", 4
    )
    [subscriber] = hub.subscribers[client.caller.account_id]
    await runtime.services.accounts.update_settings(
        client.caller, AccountSettings(alert_thresholds=(10, 20))
    )
    unheard = settings_for_tests.model_copy(
        update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"}
    )
    async with open_runtime(unheard) as writer:  # stores the alerts, cannot publish them
        marketing = ContactDraft(marketing_status=MarketingStatus.MARKETING)
        await writer.services.contacts.create(client.caller, marketing)
    assert not first.done()
    admin = Redis.from_url(settings_for_tests.redis_url)
    await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    async with asyncio.timeout(10):
        result = await first
        assert result.errors is None, result.errors
        heard = [result.data["tierAlerts"]]
        while len(heard) < 2:
            more = await stream.__anext__()
            assert more.errors is None, more.errors
            heard.append(more.data["tierAlerts"])
    assert sorted(a["threshold"] for a in heard) == [10, 20]
    assert len({a["id"] for a in heard}) == 2
    assert subscriber.missed_alerts == 0
    await stream.aclose()
    await admin.aclose()


async def test_usage_is_read_afresh_when_the_feed_comes_back(
    hub: EventHub, runtime: Runtime, settings_for_tests: Settings
) -> None:
    """Changes made while the feed was down were not heard: a usageChanged subscriber gets the
    counts as they are once the feed is back, not the ones from before the break."""
    client, stream, first = await listening(
        hub, runtime, "subscription { usageChanged { marketingContacts totalContacts } }"
    )
    # changes by a process that could not publish them: nothing was heard
    unheard = settings_for_tests.model_copy(
        update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"}
    )
    async with open_runtime(unheard) as writer:
        marketing = ContactDraft(marketing_status=MarketingStatus.MARKETING)
        await writer.services.contacts.create(client.caller, marketing)
        await writer.services.contacts.create(client.caller, ContactDraft())
    assert not first.done()  # those writers published nothing: there was nothing to hear
    admin = Redis.from_url(settings_for_tests.redis_url)
    await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    async with asyncio.timeout(10):
        result = await first
    assert result.errors is None, result.errors
    assert result.data == {"usageChanged": {"marketingContacts": 1, "totalContacts": 2}}
    await stream.aclose()
    await admin.aclose()


async def test_a_watch_hears_its_accounts_access_changes_and_subscribers_do_not(
    hub: EventHub, settings_for_tests: Settings
) -> None:
    """P1: every hub hears access changes on their own channel, with or without subscribers;
    a socket's watch hears its account's only, and a subscriber none."""
    redis = Redis.from_url(settings_for_tests.redis_url)
    publisher = RedisEventPublisher(redis)
    heard: list[AccessChanged] = []
    change, other = AccessChanged("watched", user_id="u1"), AccessChanged("other", token_id="t")
    try:
        with hub.watch("watched", heard.append):
            await settle(lambda: hub.connected.is_set())
            async with hub.subscribe("watched") as subscriber:
                await publisher.publish("other", [other])
                await publisher.publish("watched", [change, usage(3)])
                await settle(lambda: subscriber.usage is not None and heard != [])
                assert heard == [change]
                assert subscriber.take_usage() == usage(3).usage
                assert not subscriber.alerts
            await publisher.publish("watched", [change])
            await settle(lambda: len(heard) == 2)
        assert "watched" not in hub.watchers
    finally:
        await redis.aclose()

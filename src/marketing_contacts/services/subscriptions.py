"""Live subscriptions: the feed of an account's events, and what one subscription holds between
deliveries, bounded whatever the client's speed.

The feed (`EventFeed`, events.hub over Redis) hands each subscription a `Subscriber`; while it is
down a subscription cannot start (`FeedUnavailable`).

Usage keeps only the latest counts and bulk progress only the latest notice: a slow client
skips stale states. Alerts queue up to a bound; past it the subscriber is marked, and the client
is told, so it can re-read `Account.alerts`: an alert is never dropped silently.

When the feed from Redis breaks, the subscriber notes when. Once it is back, what the
subscription shows is read afresh: usage and progress as they are, and the alerts stored since
the break (an alert is stored before it is published, A3), so a break by itself loses nothing and
tells the client nothing. An alert heard twice (live and from the store) is delivered once.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from marketing_contacts.domain.alerts import TierAlert
from marketing_contacts.domain.usage import Usage
from marketing_contacts.services.paging import Stored
from marketing_contacts.services.ports.events import (
    AccessChanged,
    AlertRaised,
    BulkProgressed,
    Event,
    UsageChanged,
)

ALERT_CAPACITY = 256
#: stored alerts are read again from this long before a break (the writers' clocks may differ
#: a little from this process's, and a break is noticed a moment after it happens)
BREAK_MARGIN = timedelta(seconds=5)
#: ids of the alerts delivered last, remembered so that one heard twice is delivered once
REMEMBERED_DELIVERIES = 1024


class FeedUnavailable(Exception):
    """The feed of live events is not there: a subscription cannot start now."""


@dataclass(eq=False)
class Subscriber:
    account_id: str
    #: when the subscription began (the feed's clock): it catches up on nothing older
    started_at: datetime
    alert_capacity: int = ALERT_CAPACITY
    alerts: deque[Stored[TierAlert]] = field(default_factory=deque)
    usage: Usage | None = None
    progressed: set[str] = field(default_factory=set)
    #: alerts that could not be queued: the queue was full
    missed_alerts: int = 0
    #: when the feed broke, while it is broken or until the subscription read what it missed
    broken_since: datetime | None = None
    #: the feed came back after a break: what the subscription shows must be read afresh
    stale: bool = False
    delivered: deque[str] = field(default_factory=lambda: deque(maxlen=REMEMBERED_DELIVERIES))
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, event: Event) -> None:
        if isinstance(event, AlertRaised):
            self._queue([event.alert])
        elif isinstance(event, UsageChanged):
            self.usage = event.usage
        elif isinstance(event, BulkProgressed):
            self.progressed.add(event.operation_id)
        self.wake.set()

    def _queue(self, alerts: Iterable[Stored[TierAlert]]) -> None:
        known = set(self.delivered) | {alert.id for alert in self.alerts}
        for alert in alerts:
            if alert.id in known:
                continue
            if len(self.alerts) >= self.alert_capacity:
                self.missed_alerts += 1
            else:
                self.alerts.append(alert)
                known.add(alert.id)

    def lost_events(self, at: datetime) -> None:
        """The feed broke at `at`: events published from then on may not reach us."""
        if self.broken_since is None:
            self.broken_since = at
        self.wake.set()

    def feed_restored(self) -> None:
        """The feed is back after a break: usage and progress may have moved meanwhile."""
        self.stale = True
        self.wake.set()

    def take_break(self) -> datetime | None:
        """Once the feed is back after a break: from when the alerts stored may not have been
        heard (a margin before the break, not before the subscription began). None while the
        feed is down, or when nothing broke since the last call. Usage and progress read
        their state afresh instead."""
        if not self.stale or self.broken_since is None:
            return None
        since = max(self.broken_since - BREAK_MARGIN, self.started_at)
        self.broken_since, self.stale = None, False
        return since

    def caught_up(self, stored: Iterable[Stored[TierAlert]]) -> None:
        """The alerts stored since a break, oldest first, go before those heard live since."""
        heard = list(self.alerts)
        self.alerts.clear()
        self._queue([*stored, *heard])

    def next_alert(self) -> Stored[TierAlert] | None:
        if not self.alerts:
            return None
        alert = self.alerts.popleft()
        self.delivered.append(alert.id)
        return alert

    async def wait(self) -> None:
        await self.wake.wait()
        self.wake.clear()

    def take_usage(self) -> Usage | None:
        usage, self.usage = self.usage, None
        return usage

    def take_progress(self, operation_id: str) -> bool:
        if operation_id in self.progressed:
            self.progressed.discard(operation_id)
            return True
        return False


class EventFeed(Protocol):
    """Events of one account, as they happen, wherever they were published."""

    def subscribe(self, account_id: str) -> AbstractAsyncContextManager[Subscriber]:
        """A subscriber hearing the account's events from now on, until the context ends;
        FeedUnavailable when the feed is down."""
        ...

    def watch(
        self, account_id: str, notify: Callable[[AccessChanged], None]
    ) -> AbstractContextManager[None]:
        """`notify` hears the account's access changes (P1) until the context ends, as far as
        the feed is up."""
        ...

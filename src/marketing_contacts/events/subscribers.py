"""What one subscription holds between deliveries: bounded, whatever the client's speed.

Usage keeps only the latest counts and bulk progress only the latest notice: a slow client
skips stale states. When the feed comes back after a break, usage and progress subscriptions
read their state afresh (what changed meanwhile was not heard). Alerts queue up to a bound;
past it, or when events may have been missed (the Redis connection dropped), the subscriber is
marked and the client is told, so it can re-read `Account.alerts`: an alert is never dropped
silently.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from marketing_contacts.domain.alerts import TierAlert
from marketing_contacts.domain.usage import Usage
from marketing_contacts.services.ports import (
    AlertRaised,
    BulkProgressed,
    Event,
    Stored,
    UsageChanged,
)

ALERT_CAPACITY = 256


@dataclass(eq=False)
class Subscriber:
    account_id: str
    alert_capacity: int = ALERT_CAPACITY
    alerts: deque[Stored[TierAlert]] = field(default_factory=deque)
    usage: Usage | None = None
    progressed: set[str] = field(default_factory=set)
    #: alerts that could not be queued (overflow) or may have been missed (reconnect)
    missed_alerts: int = 0
    #: the feed came back after a break: what the subscription shows must be read afresh
    stale: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, event: Event) -> None:
        if isinstance(event, AlertRaised):
            if len(self.alerts) >= self.alert_capacity:
                self.missed_alerts += 1
            else:
                self.alerts.append(event.alert)
        elif isinstance(event, UsageChanged):
            self.usage = event.usage
        elif isinstance(event, BulkProgressed):
            self.progressed.add(event.operation_id)
        self.wake.set()

    def lost_events(self) -> None:
        """The feed was interrupted: alerts may have been raised meanwhile."""
        self.missed_alerts += 1
        self.wake.set()

    def feed_restored(self) -> None:
        """The feed is back after a break: usage and progress may have moved meanwhile."""
        self.stale = True
        self.wake.set()

    def take_stale(self) -> bool:
        stale, self.stale = self.stale, False
        return stale

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

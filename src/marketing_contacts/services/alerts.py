"""Delivering the alerts that were stored but never published (A3).

A change commits its alerts first and publishes them after; a process that dies in between, or
a broker that is briefly away, leaves them stored and awaiting delivery. A worker publishes what
has waited longer than `DELIVERY_GRACE` (the writer's own publish normally lands well within
it), so every alert reaches the live subscribers, at least once, and is marked delivered.
"""

from __future__ import annotations

from datetime import timedelta

from marketing_contacts.services.ports.alerts import UndeliveredAlert
from marketing_contacts.services.ports.events import AlertRaised
from marketing_contacts.services.wiring import Ports

#: how long an alert may wait for its writer's own publish before a worker delivers it
DELIVERY_GRACE = timedelta(seconds=5)
DELIVERY_BATCH = 500


class AlertDeliveryService:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports

    async def deliver_awaiting(self) -> int:
        """Publish every alert awaiting delivery past the grace, oldest first, per account;
        a publishing failure raises and leaves the rest awaiting for the next run."""
        delivered = 0
        while True:
            cutoff = self.ports.clock.now() - DELIVERY_GRACE
            awaiting = await self.ports.alert_outbox.awaiting(cutoff, DELIVERY_BATCH)
            for account_id, alerts in _by_account(awaiting).items():
                await self.ports.events.publish(
                    account_id, [AlertRaised(one.alert) for one in alerts]
                )
                await self.ports.alert_outbox.delivered([one.alert.id for one in alerts])
                delivered += len(alerts)
            if len(awaiting) < DELIVERY_BATCH:
                return delivered


def _by_account(awaiting: list[UndeliveredAlert]) -> dict[str, list[UndeliveredAlert]]:
    grouped: dict[str, list[UndeliveredAlert]] = {}
    for one in awaiting:
        grouped.setdefault(one.account_id, []).append(one)
    return grouped

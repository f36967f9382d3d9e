"""AlertOutbox (A3): an alert is stored awaiting delivery with its change; the worker finds what
still awaits, oldest first across accounts, and delivering clears it."""

from __future__ import annotations

from datetime import timedelta

from marketing_contacts.services.ports.alerts import UndeliveredAlert
from marketing_contacts.services.wiring import Ports
from tests.contract.records import LATER, alert, now, raise_alerts, stored_account

MINUTE = timedelta(minutes=1)


async def test_committed_alerts_await_delivery_oldest_first_across_accounts(
    ports: Ports,
) -> None:
    first, second = await stored_account(ports), await stored_account(ports)
    start = now(ports) - timedelta(hours=1)
    late = await raise_alerts(ports, first, alert(start + 2 * MINUTE))
    early = await raise_alerts(ports, second, alert(start), alert(start + MINUTE))
    awaiting = ports.alert_outbox.awaiting
    expected = [
        UndeliveredAlert(second.id, early.alerts[0]),
        UndeliveredAlert(second.id, early.alerts[1]),
        UndeliveredAlert(first.id, late.alerts[0]),
    ]
    assert await awaiting(now(ports) + LATER, 10) == expected
    assert await awaiting(now(ports) + LATER, 2) == expected[:2]
    assert await awaiting(start + MINUTE + MINUTE / 2, 10) == expected[:2]
    assert await awaiting(start - MINUTE, 10) == []


async def test_a_delivered_alert_no_longer_awaits(ports: Ports) -> None:
    account = await stored_account(ports)
    start = now(ports) - timedelta(hours=1)
    committed = await raise_alerts(ports, account, alert(start), alert(start + MINUTE))
    delivered, kept = committed.alerts
    await ports.alert_outbox.delivered([delivered.id])
    await ports.alert_outbox.delivered([])
    await ports.alert_outbox.delivered([ports.ids.new_id()])
    assert await ports.alert_outbox.awaiting(now(ports) + LATER, 10) == [
        UndeliveredAlert(account.id, kept)
    ]
    assert (await ports.tier_records.alerts(account.id, 10, None)).items == [kept, delivered]

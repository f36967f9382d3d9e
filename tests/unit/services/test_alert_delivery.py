"""A3 over the fakes: alerts a writer could not publish are delivered later, at least once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from marketing_contacts.domain.alerts import TierAlertKind
from marketing_contacts.domain.statuses import MarketingStatus
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.alerts import DELIVERY_BATCH, DELIVERY_GRACE
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.ports.events import AlertRaised
from marketing_contacts.services.registry import Services
from tests.unit.services.fakes import FakeWorld, fake_services, make_contacts, open_account

MARKETING = MarketingStatus.MARKETING


async def four_contact_tier() -> tuple[Services, FakeWorld, Caller]:
    services, world = fake_services()
    caller = await open_account(services, AccountOpening(name="Small", tier_limit=4, tier_step=4))
    return services, world, caller


async def raise_three_alerts(services: Services, caller: Caller) -> None:
    """3 of 4 marketing contacts: 75% reached; then 4 of 4: 90% and 98%."""
    contacts = await make_contacts(services, caller, 4)
    await services.statuses.set_marketing_status(caller, [c.id for c in contacts[:3]], MARKETING)
    await services.statuses.set_marketing_status(caller, [contacts[3].id], MARKETING)


async def test_a3_alerts_published_by_their_writer_are_not_delivered_again() -> None:
    services, world, caller = await four_contact_tier()
    await raise_three_alerts(services, caller)
    assert [a.item.threshold for a in world.raised_alerts(caller.account_id)] == [75, 90, 98]
    assert world.data.awaiting_delivery == set()
    world.clock.advance(minutes=5)
    published = len(world.events.published)
    assert await services.alert_delivery.deliver_awaiting() == 0
    assert len(world.events.published) == published


def alerts_published_to(world: FakeWorld, account_id: str) -> list[AlertRaised]:
    return [
        event
        for published in world.published_to(account_id)
        for event in published.events
        if isinstance(event, AlertRaised)
    ]


async def test_a3_alerts_published_by_their_writer_tell_when_their_change_committed() -> None:
    services, world, caller = await four_contact_tier()
    before = datetime.now(UTC)
    contacts = await make_contacts(services, caller, 4)
    await services.statuses.set_marketing_status(caller, [c.id for c in contacts[:3]], MARKETING)
    between = datetime.now(UTC)
    await services.statuses.set_marketing_status(caller, [contacts[3].id], MARKETING)
    after = datetime.now(UTC)

    first, *second = alerts_published_to(world, caller.account_id)
    assert first.committed_at is not None and before <= first.committed_at <= between
    assert len(second) == 2  # one commit raised both: one instant
    assert {alert.committed_at for alert in second} == {second[0].committed_at}
    assert second[0].committed_at is not None and between <= second[0].committed_at <= after


async def test_a3_alerts_delivered_later_by_a_worker_carry_no_commit_instant() -> None:
    services, world, caller = await four_contact_tier()
    world.events.failure = ConnectionError("broker down")
    await raise_three_alerts(services, caller)
    world.events.failure = None
    world.clock.advance(seconds=DELIVERY_GRACE.total_seconds())
    assert await services.alert_delivery.deliver_awaiting() == 3
    delivered = alerts_published_to(world, caller.account_id)
    assert [alert.committed_at for alert in delivered] == [None] * 3


async def test_a3_alerts_a_broker_outage_left_unpublished_are_delivered_after_the_grace() -> None:
    services, world, caller = await four_contact_tier()
    world.events.failure = ConnectionError("broker down")
    await raise_three_alerts(services, caller)
    stored = [alert.id for owner, alert in world.data.alerts if owner == caller.account_id]
    assert len(stored) == 3 and world.data.awaiting_delivery == set(stored)
    assert world.raised_alerts(caller.account_id) == []

    world.events.failure = None
    assert await services.alert_delivery.deliver_awaiting() == 0  # the writer may still publish
    world.clock.advance(seconds=DELIVERY_GRACE.total_seconds())
    assert await services.alert_delivery.deliver_awaiting() == 3
    delivered = world.raised_alerts(caller.account_id)
    assert [a.id for a in delivered] == stored
    assert [a.item.kind for a in delivered] == [TierAlertKind.THRESHOLD_REACHED] * 3
    assert world.data.awaiting_delivery == set()
    assert await services.alert_delivery.deliver_awaiting() == 0  # each alert once


async def test_a3_a_delivery_that_meets_the_broker_down_leaves_the_alerts_awaiting() -> None:
    services, world, caller = await four_contact_tier()
    world.events.failure = ConnectionError("broker down")
    await raise_three_alerts(services, caller)
    world.clock.advance(minutes=1)
    with pytest.raises(ConnectionError):  # the job fails, to be run again
        await services.alert_delivery.deliver_awaiting()
    assert len(world.data.awaiting_delivery) == 3
    world.events.failure = None
    assert await services.alert_delivery.deliver_awaiting() == 3
    assert world.data.awaiting_delivery == set()


async def test_a3_delivery_goes_to_each_alerts_own_account_oldest_first_past_one_batch() -> None:
    services, world = fake_services()
    callers = [
        await open_account(services, AccountOpening(name=f"A{n}", tier_limit=1, tier_step=1))
        for n in range(2)
    ]
    world.events.failure = ConnectionError("broker down")
    # every marketing contact past the first upgrades the tier: one TIER_UPGRADED each, and more
    for caller in callers:
        for contact in await make_contacts(services, caller, 60):
            await services.statuses.set_marketing_status(caller, [contact.id], MARKETING)
            world.clock.advance(seconds=1)
    awaiting = len(world.data.awaiting_delivery)
    assert awaiting > DELIVERY_BATCH
    world.events.failure = None
    world.clock.advance(minutes=1)
    assert await services.alert_delivery.deliver_awaiting() == awaiting
    for caller in callers:
        stored = [alert.id for owner, alert in world.data.alerts if owner == caller.account_id]
        assert [a.id for a in world.raised_alerts(caller.account_id)] == stored
    assert world.data.awaiting_delivery == set()

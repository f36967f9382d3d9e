"""UsageService over the fakes: T1 counts and R3's reconciliation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.statuses import MarketingStatus
from marketing_contacts.domain.usage import UsageCounts
from marketing_contacts.services.usage import Reconciliation
from tests.unit.services.fakes import codes_and_fields, fake_services, make_contacts, open_account

MARKETING = MarketingStatus.MARKETING
NON_MARKETING = MarketingStatus.NON_MARKETING


async def test_t1_usage_shows_the_counters_against_the_tier() -> None:
    services, _world = fake_services()
    caller = await open_account(services)
    contacts = await make_contacts(services, caller, 4, MARKETING)
    await make_contacts(services, caller, 2, prefix="cold")
    await services.statuses.set_marketing_status(caller, [contacts[0].id], NON_MARKETING)
    usage = await services.usage.usage(caller)
    assert usage.counts == UsageCounts(marketing=4, pending=1, total=6)
    assert (usage.marketing_contacts, usage.pending_non_marketing) == (4, 1)
    assert usage.non_marketing_contacts == 2
    assert usage.projected_after_next_update == 3
    assert usage.tier_limit == 1_000
    assert not usage.banner_visible


async def test_t1_reconcile_reports_drift_repairs_it_and_then_finds_none() -> None:
    services, world = fake_services()
    caller = await open_account(services)
    contacts = await make_contacts(services, caller, 3, MARKETING)
    await make_contacts(services, caller, 2, prefix="cold")
    await services.statuses.set_marketing_status(caller, [contacts[0].id], NON_MARKETING)
    actual = UsageCounts(marketing=3, pending=1, total=5)
    assert world.account(caller.account_id).counts == actual

    drifted = UsageCounts(marketing=7, pending=0, total=4)
    world.tamper_counts(caller.account_id, drifted)
    first = await services.usage.reconcile(caller.account_id)
    assert first == Reconciliation(caller.account_id, stored=drifted, actual=actual)
    assert first.drifted
    assert world.account(caller.account_id).counts == actual
    assert (await services.usage.usage(caller)).counts == actual

    second = await services.usage.reconcile(caller.account_id)
    assert second == Reconciliation(caller.account_id, stored=actual, actual=actual)
    assert not second.drifted


async def test_t1_reconcile_without_drift_writes_nothing() -> None:
    services, world = fake_services()
    caller = await open_account(services)
    await make_contacts(services, caller, 2, MARKETING)
    before = world.snapshot()
    result = await services.usage.reconcile(caller.account_id)
    assert not result.drifted
    assert world.snapshot() == before


async def test_t1_reconcile_retries_when_the_account_moves_between_read_and_repair() -> None:
    services, world = fake_services()
    caller = await open_account(services)
    (contact,) = await make_contacts(services, caller, 1)
    world.tamper_counts(caller.account_id, UsageCounts(5, 5, 5))

    elsewhere = world.another_process()

    async def another_writer() -> object:
        return await elsewhere.statuses.set_marketing_status(caller, [contact.id], MARKETING)

    world.writer.interfere(another_writer)
    await services.usage.reconcile(caller.account_id)
    assert world.account(caller.account_id).counts == UsageCounts(1, 0, 1)
    assert world.account(caller.account_id).counts == world.recount(caller.account_id)


async def test_t1_reconcile_all_covers_every_account() -> None:
    services, world = fake_services()
    one = await open_account(services)
    two = await open_account(services)
    await make_contacts(services, one, 2, MARKETING)
    await make_contacts(services, two, 1)
    world.tamper_counts(two.account_id, UsageCounts(9, 9, 9))
    results = await services.usage.reconcile_all()
    assert [(r.account_id, r.drifted) for r in results] == [
        (one.account_id, False),
        (two.account_id, True),
    ]
    assert world.account(two.account_id).counts == UsageCounts(0, 0, 1)


async def test_reconcile_of_an_unknown_account_is_not_found() -> None:
    services, _ = fake_services()
    with pytest.raises(DomainError) as refused:
        await services.usage.reconcile("nobody")
    assert codes_and_fields(refused.value)[0][0] is ErrorCode.NOT_FOUND


async def test_t1_the_workers_daily_run_enqueues_one_reconciliation_per_account() -> None:
    services, world = fake_services()
    one = await open_account(services)
    two = await open_account(services)
    day = world.clock.now().date()
    assert await services.usage.enqueue_all(day) == [one.account_id, two.account_id]
    assert world.jobs.line == [
        f"reconcile:{one.account_id}:{day.isoformat()}",
        f"reconcile:{two.account_id}:{day.isoformat()}",
    ]
    world.jobs.end(world.jobs.take())
    assert await services.usage.enqueue_all(day) == []  # a repeat that day adds none
    tomorrow = day + timedelta(days=1)
    assert await services.usage.enqueue_all(tomorrow) == [one.account_id, two.account_id]

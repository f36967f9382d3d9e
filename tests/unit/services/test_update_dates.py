"""UpdateDateService over the fakes: U3, U4 (S2 at the update date, exactly once, oldest first)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from marketing_contacts.domain.statuses import (
    MarketingState,
    MarketingStatus,
    StatusSource,
    StatusSourceType,
)
from marketing_contacts.domain.usage import UsageCounts
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.registry import Services
from marketing_contacts.services.update_dates import AppliedUpdateDate, UpdateDateService
from tests.unit.services.fakes import FakeWorld, fake_services, make_contacts, open_account

N = MarketingState.NON_MARKETING
M = MarketingState.MARKETING
P = MarketingState.MARKETING_UNTIL_NEXT_UPDATE
MARKETING = MarketingStatus.MARKETING
NON_MARKETING = MarketingStatus.NON_MARKETING

JAN_15 = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
FEB_1 = date(2025, 2, 1)
FEB_1_STARTS = datetime(2025, 2, 1, 0, 0, tzinfo=UTC)


async def annual(
    timezone: str = "UTC", now: datetime = JAN_15
) -> tuple[Services, FakeWorld, Caller]:
    """An ANNUAL account (update dates on every 1st) opened on 15 January 2025."""
    services, world = fake_services(now)
    caller = await open_account(services, AccountOpening(name="Acme", timezone=timezone))
    assert world.account(caller.account_id).next_update_date == FEB_1
    return services, world, caller


async def make_pending(services: Services, caller: Caller, count: int, prefix: str) -> list[str]:
    """`count` contacts in P, pending from the clock's now."""
    contacts = await make_contacts(services, caller, count, MARKETING, prefix=prefix)
    ids = [c.id for c in contacts]
    await services.statuses.set_marketing_status(caller, ids, NON_MARKETING)
    return ids


def update_date_entries(world: FakeWorld, contact_id: str) -> int:
    return sum(
        1
        for entry in world.history_of(contact_id)
        if entry.change.source.type is StatusSourceType.UPDATE_DATE
    )


async def test_u4_pending_contacts_become_non_marketing_and_the_next_date_comes_due() -> None:
    services, world, caller = await annual()
    pending = await make_pending(services, caller, 2, "leaving")
    (staying,) = await make_contacts(services, caller, 1, MARKETING, prefix="staying")
    (never,) = await make_contacts(services, caller, 1, prefix="never")
    assert world.account(caller.account_id).counts == UsageCounts(3, 2, 4)

    world.clock.set(datetime(2025, 2, 1, 1, 0, tzinfo=UTC))
    (late,) = await make_pending(services, caller, 1, "late")  # pending after the date started
    applied = await services.update_dates.apply_due(world.clock.now())

    assert applied == [AppliedUpdateDate(caller.account_id, FEB_1, 2, True)]
    for contact_id in pending:
        contact = world.contact(contact_id)
        assert contact.state is N
        assert contact.status_source == StatusSource(StatusSourceType.UPDATE_DATE, "2025-02-01")
        assert contact.status_changed_at == FEB_1_STARTS
        assert contact.pending_since is None
        last = world.history_of(contact_id)[-1].change
        assert (last.from_state, last.to_state, last.at) == (P, N, FEB_1_STARTS)
        assert last.source.type is StatusSourceType.UPDATE_DATE
    assert world.contact(staying.id).state is M
    assert world.contact(never.id).state is N
    assert world.contact(late).state is P  # it belongs to the new period
    account = world.account(caller.account_id)
    assert account.next_update_date == date(2025, 3, 1)
    assert account.alert_state.period_start == FEB_1
    assert account.counts == UsageCounts(marketing=2, pending=1, total=5)
    assert account.counts == world.recount(caller.account_id)
    assert world.data.applied_dates[(caller.account_id, FEB_1)].contacts_changed == 2


async def test_u4_nothing_is_applied_before_the_date_starts() -> None:
    services, world, caller = await annual()
    (contact_id,) = await make_pending(services, caller, 1, "p")
    world.clock.set(datetime(2025, 1, 31, 23, 59, 59, tzinfo=UTC))
    assert await services.update_dates.apply_due(world.clock.now()) == []
    assert world.contact(contact_id).state is P
    assert world.account(caller.account_id).next_update_date == FEB_1


async def test_u4_running_twice_applies_once() -> None:
    services, world, caller = await annual()
    pending = await make_pending(services, caller, 3, "p")
    world.clock.set(datetime(2025, 2, 1, 6, 0, tzinfo=UTC))
    first = await services.update_dates.apply_due(world.clock.now())
    counts = world.account(caller.account_id).counts
    before = world.snapshot()

    assert await services.update_dates.apply_due(world.clock.now()) == []
    again = await services.update_dates.apply_update_date(caller.account_id, FEB_1)

    assert [(a.contacts_changed, a.applied_here) for a in first] == [(3, True)]
    assert (again.contacts_changed, again.applied_here) == (0, False)
    assert world.snapshot() == before
    assert world.account(caller.account_id).counts == counts == UsageCounts(0, 0, 3)
    assert [update_date_entries(world, c) for c in pending] == [1, 1, 1]


async def test_u4_two_workers_at_once_apply_each_date_once() -> None:
    services, world, caller = await annual()
    pending = await make_pending(services, caller, 7, "p")
    world.clock.set(datetime(2025, 2, 1, 6, 0, tzinfo=UTC))
    workers = [UpdateDateService(services.ports, chunk=2) for _ in range(3)]
    results = await asyncio.gather(
        *(worker.apply_due(world.clock.now(), caller.account_id) for worker in workers)
    )
    applied = [a for result in results for a in result]
    assert sum(a.applied_here for a in applied) == 1
    assert sum(a.contacts_changed for a in applied) == 7
    assert [update_date_entries(world, c) for c in pending] == [1] * 7
    account = world.account(caller.account_id)
    assert account.next_update_date == date(2025, 3, 1)
    assert account.counts == world.recount(caller.account_id) == UsageCounts(0, 0, 7)
    assert list(world.data.applied_dates) == [(caller.account_id, FEB_1)]


async def test_u4_chunks_flip_every_pending_contact() -> None:
    services, world, caller = await annual()
    pending = await make_pending(services, caller, 5, "p")
    world.clock.set(datetime(2025, 2, 1, 6, 0, tzinfo=UTC))
    worker = UpdateDateService(services.ports, chunk=2)
    (applied,) = await worker.apply_due(world.clock.now(), caller.account_id)
    assert (applied.contacts_changed, applied.applied_here) == (5, True)
    assert {world.contact(c).state for c in pending} == {N}


async def test_u4_missed_dates_are_applied_oldest_first_each_once() -> None:
    services, world, caller = await annual()
    (january,) = await make_pending(services, caller, 1, "jan")
    world.clock.set(datetime(2025, 2, 15, tzinfo=UTC))  # the worker is down from here on
    (february,) = await make_pending(services, caller, 1, "feb")
    world.clock.set(datetime(2025, 3, 15, tzinfo=UTC))
    (march,) = await make_pending(services, caller, 1, "mar")
    world.clock.set(datetime(2025, 4, 15, tzinfo=UTC))
    (april,) = await make_pending(services, caller, 1, "apr")

    applied = await services.update_dates.apply_due(world.clock.now())

    dates = [date(2025, 2, 1), date(2025, 3, 1), date(2025, 4, 1)]
    assert applied == [AppliedUpdateDate(caller.account_id, d, 1, True) for d in dates]
    for contact_id, day in zip((january, february, march), dates, strict=True):
        contact = world.contact(contact_id)
        assert contact.state is N
        assert contact.status_source == StatusSource(StatusSourceType.UPDATE_DATE, day.isoformat())
        assert contact.status_changed_at == datetime(day.year, day.month, day.day, tzinfo=UTC)
    assert world.contact(april).state is P
    assert list(world.data.applied_dates) == [(caller.account_id, d) for d in dates]
    assert world.account(caller.account_id).next_update_date == date(2025, 5, 1)
    assert await services.update_dates.apply_due(world.clock.now()) == []
    assert [update_date_entries(world, c) for c in (january, february, march, april)] == [
        1,
        1,
        1,
        0,
    ]
    assert world.account(caller.account_id).counts == UsageCounts(1, 1, 4)


async def test_u3_an_update_date_starts_at_midnight_in_the_account_zone() -> None:
    services, world, caller = await annual("America/New_York")
    utc_services_caller = await open_account(services, AccountOpening(name="Utc"))
    (in_new_york,) = await make_pending(services, caller, 1, "ny")
    (in_utc,) = await make_pending(services, utc_services_caller, 1, "utc")

    world.clock.set(datetime(2025, 2, 1, 4, 59, tzinfo=UTC))  # 23:59 on 31 January in New York
    applied = await services.update_dates.apply_due(world.clock.now())
    assert [a.account_id for a in applied] == [utc_services_caller.account_id]
    assert world.contact(in_utc).state is N
    assert world.contact(in_new_york).state is P

    world.clock.set(datetime(2025, 2, 1, 5, 0, tzinfo=UTC))  # midnight in New York
    applied = await services.update_dates.apply_due(world.clock.now())
    assert [a.account_id for a in applied] == [caller.account_id]
    assert world.contact(in_new_york).state is N
    assert world.contact(in_new_york).status_changed_at == datetime(2025, 2, 1, 5, tzinfo=UTC)


async def test_u4_the_update_date_resets_the_alerts_of_the_period() -> None:
    services, world = fake_services(JAN_15)
    caller = await open_account(services, AccountOpening(name="Small", tier_limit=4, tier_step=4))
    ids = await make_pending(services, caller, 3, "p")  # 75% of 4: one alert
    raised = [a.threshold for a in world.alerts_of(caller.account_id)]
    assert raised == [75]
    world.clock.set(datetime(2025, 2, 1, 6, 0, tzinfo=UTC))
    await services.update_dates.apply_due(world.clock.now())
    assert world.account(caller.account_id).alert_state.raised == frozenset()
    await services.statuses.set_marketing_status(caller, ids, MARKETING)
    assert [a.threshold for a in world.alerts_of(caller.account_id)] == [75, 75]


async def test_u4_a_pending_contact_set_marketing_during_the_run_stays_marketing() -> None:
    services, world, caller = await annual()
    first, second = await make_pending(services, caller, 2, "p")
    world.clock.set(datetime(2025, 2, 1, 6, 0, tzinfo=UTC))

    elsewhere = world.another_process()

    async def user_sets_first_marketing_again() -> object:
        return await elsewhere.statuses.set_marketing_status(caller, [first], MARKETING)

    world.writer.interfere(user_sets_first_marketing_again)
    stale = world.writer.stale_writes
    (applied,) = await services.update_dates.apply_due(world.clock.now())

    assert world.writer.stale_writes == stale + 1
    assert (applied.contacts_changed, applied.applied_here) == (1, True)
    assert world.contact(first).state is M
    assert world.contact(second).state is N
    assert update_date_entries(world, first) == 0
    assert world.account(caller.account_id).counts == UsageCounts(1, 0, 2)
    assert world.account(caller.account_id).counts == world.recount(caller.account_id)


async def test_t3_the_update_date_drops_the_count_but_never_the_tier() -> None:
    services, world = fake_services(JAN_15)
    caller = await open_account(services, AccountOpening(name="Small", tier_limit=2, tier_step=2))
    await make_pending(services, caller, 3, "p")
    assert world.account(caller.account_id).tier_limit == 4
    world.clock.set(datetime(2025, 2, 1, 6, 0, tzinfo=UTC))
    await services.update_dates.apply_due(world.clock.now())
    account = world.account(caller.account_id)
    assert account.counts == UsageCounts(0, 0, 3)
    assert account.tier_limit == 4


async def test_u4_the_workers_run_enqueues_one_job_per_due_account_named_by_its_date() -> None:
    services, world, early = await annual()
    late = await open_account(services, AccountOpening(name="Later", timezone="Asia/Tokyo"))
    later = await open_account(services, AccountOpening(name="Latest", timezone="America/New_York"))
    world.clock.set(datetime(2025, 2, 1, 1, 0, tzinfo=UTC))  # the 1st in UTC and Tokyo
    due = await services.update_dates.enqueue_due(world.clock.now())
    assert sorted(d.account_id for d in due) == sorted([early.account_id, late.account_id])
    assert world.jobs.line == [f"update-dates:{d.account_id}:2025-02-01" for d in due]
    # the next run finds the jobs waiting (or ended, their result kept): it adds none
    assert await services.update_dates.enqueue_due(world.clock.now()) == []
    world.jobs.end(world.jobs.take())
    assert await services.update_dates.enqueue_due(world.clock.now()) == []
    # New York's 1st begins; then each job applies its own account's date
    world.clock.set(datetime(2025, 2, 1, 6, 0, tzinfo=UTC))
    assert [d.account_id for d in await services.update_dates.enqueue_due(world.clock.now())] == [
        later.account_id
    ]
    for caller in (early, late, later):
        (applied,) = await services.update_dates.apply_due_for(caller.account_id, world.clock.now())
        assert (applied.update_date, applied.applied_here) == (FEB_1, True)
    assert await services.update_dates.enqueue_due(world.clock.now()) == []
    # a month later the next date has a job of its own
    world.clock.set(datetime(2025, 3, 1, 6, 0, tzinfo=UTC))
    assert len(await services.update_dates.enqueue_due(world.clock.now())) == 3
    assert world.jobs.line[-1] == f"update-dates:{later.account_id}:2025-03-01"

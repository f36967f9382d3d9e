"""`retrying` and the conditional writes under concurrent writers (design principle 3, T1, T6)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest

from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.statuses import MarketingState, MarketingStatus
from marketing_contacts.domain.tiers import UpgradePolicy
from marketing_contacts.domain.usage import UsageCounts
from marketing_contacts.services import ledger
from marketing_contacts.services.accounts import AccountOpening, AccountSettings
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.services.locks import AccountLocks
from marketing_contacts.services.ports.changes import StaleWrite, StoreBusy
from marketing_contacts.services.ports.events import UsageChanged
from marketing_contacts.services.registry import Services
from tests.support.waiting import let_others_run
from tests.unit.services.fakes import (
    FakeWorld,
    Interference,
    codes_and_fields,
    fake_services,
    make_contacts,
    open_account,
)

N = MarketingState.NON_MARKETING
M = MarketingState.MARKETING
MARKETING = MarketingStatus.MARKETING
NON_MARKETING = MarketingStatus.NON_MARKETING


class NoJitter:
    """Stands in for `random` in the ledger module: back-off without waiting."""

    @staticmethod
    def uniform(low: float, high: float) -> float:
        return 0.0


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger, "random", NoJitter())


async def opened(
    policy: UpgradePolicy = UpgradePolicy.AUTO,
) -> tuple[Services, FakeWorld, Caller]:
    services, world = fake_services()
    caller = await open_account(
        services, AccountOpening(name="Acme", upgrade_policy=policy, tier_limit=2, tier_step=2)
    )
    return services, world, caller


def another_writer_renames(world: FakeWorld, caller: Caller) -> Interference:
    """A concurrent settings write from another process: it bumps the account's revision and
    nothing else."""
    renames = iter(range(1_000_000))
    elsewhere = world.another_process()

    async def rename() -> object:
        return await elsewhere.accounts.update_settings(
            caller, AccountSettings(name=f"Renamed {next(renames)}")
        )

    return rename


async def test_retrying_a_stale_write_decides_again_with_exact_counts() -> None:
    services, world, caller = await opened()
    a, b = await make_contacts(services, caller, 2)

    elsewhere = world.another_process()

    async def another_writer_creates_a_marketing_contact() -> object:
        return await elsewhere.contacts.create(
            caller, ContactDraft(email="concurrent@example.com", marketing_status=MARKETING)
        )

    world.writer.interfere(another_writer_creates_a_marketing_contact)
    stale = world.writer.stale_writes
    result = await services.statuses.set_marketing_status(caller, [a.id, b.id], MARKETING)

    assert world.writer.stale_writes == stale + 1
    assert [c.state for c in result.contacts] == [M, M]
    account = world.account(caller.account_id)
    assert account.counts == UsageCounts(marketing=3, pending=0, total=3)
    assert account.counts == world.recount(caller.account_id)
    assert result.usage.counts == account.counts
    assert account.tier_limit == 4  # decided again on 3 of 2: upgraded once
    assert len(world.tier_changes_of(caller.account_id)) == 1
    assert [len(world.history_of(c.id)) for c in (a, b)] == [1, 1]
    last = world.published_to(caller.account_id)[-1]
    usage = [e.usage for e in last.events if isinstance(e, UsageChanged)]
    assert [u.marketing_contacts for u in usage] == [3]


async def test_retrying_when_another_writer_changed_the_same_contact_first() -> None:
    services, world, caller = await opened()
    a, b = await make_contacts(services, caller, 2)

    elsewhere = world.another_process()

    async def another_writer_sets_a() -> object:
        return await elsewhere.statuses.set_marketing_status(caller, [a.id], MARKETING)

    world.writer.interfere(another_writer_sets_a)
    result = await services.statuses.set_marketing_status(caller, [a.id, b.id], MARKETING)
    assert [c.state for c in result.contacts] == [M, M]
    # a's change was the other writer's; this one found it done and stored nothing for it
    assert [len(world.history_of(c.id)) for c in (a, b)] == [1, 1]
    assert world.account(caller.account_id).counts == UsageCounts(2, 0, 2)


async def test_retrying_a_delete_that_met_a_concurrent_status_change() -> None:
    services, world, caller = await opened()
    a, _b = await make_contacts(services, caller, 2)

    elsewhere = world.another_process()

    async def another_writer_sets_a() -> object:
        return await elsewhere.statuses.set_marketing_status(caller, [a.id], MARKETING)

    world.writer.interfere(another_writer_sets_a)
    await services.contacts.delete(caller, a.id)
    assert world.account(caller.account_id).counts == UsageCounts(0, 0, 1)
    assert world.account(caller.account_id).counts == world.recount(caller.account_id)


async def test_retrying_gives_conflict_when_the_account_keeps_changing(no_backoff: None) -> None:
    services, world, caller = await opened()
    a, b = await make_contacts(services, caller, 2)
    contacts_before = dict(world.data.contacts)
    history_before = list(world.data.history)
    world.writer.always = another_writer_renames(world, caller)
    stale = world.writer.stale_writes

    with pytest.raises(DomainError) as refused:
        await services.statuses.set_marketing_status(caller, [a.id, b.id], MARKETING)

    assert codes_and_fields(refused.value) == [(ErrorCode.CONFLICT, ())]
    assert world.writer.stale_writes - stale == ledger.MAX_ATTEMPTS
    assert world.data.contacts == contacts_before
    assert world.data.history == history_before
    assert world.account(caller.account_id).counts == UsageCounts(0, 0, 2)

    with pytest.raises(DomainError) as refused:
        await services.contacts.create(caller, ContactDraft(email="late@example.com"))
    assert codes_and_fields(refused.value) == [(ErrorCode.CONFLICT, ())]
    assert world.data.contacts == contacts_before

    world.writer.always = None
    await services.statuses.set_marketing_status(caller, [a.id, b.id], MARKETING)
    assert world.account(caller.account_id).counts == UsageCounts(2, 0, 2)


async def test_retrying_stops_after_the_given_attempts() -> None:
    attempts: list[int] = []

    async def always_stale() -> int:
        attempts.append(len(attempts))
        raise StaleWrite("moved")

    with pytest.raises(DomainError) as refused:
        await ledger.retrying(always_stale, attempts=3)
    assert codes_and_fields(refused.value) == [(ErrorCode.CONFLICT, ())]
    assert attempts == [0, 1, 2]


async def test_retrying_returns_the_first_success_and_lets_other_errors_through() -> None:
    outcomes: list[Exception | int] = [StaleWrite("a"), StaleWrite("b"), 7]

    async def attempt() -> int:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert await ledger.retrying(attempt) == 7

    async def broken() -> int:
        raise ValueError("not a stale write")

    with pytest.raises(ValueError):
        await ledger.retrying(broken)


async def test_u4_recording_the_date_is_retried_when_the_account_moved() -> None:
    services, world, caller = await opened()
    world.writer.interfere(another_writer_renames(world, caller))
    world.clock.set(datetime(2025, 2, 1, 1, tzinfo=UTC))
    stale = world.writer.stale_writes
    applied = await services.update_dates.apply_due(world.clock.now())
    assert world.writer.stale_writes == stale + 1
    assert [(a.update_date, a.applied_here) for a in applied] == [(date(2025, 2, 1), True)]
    account = world.account(caller.account_id)
    assert account.next_update_date == date(2025, 3, 1)
    assert account.name == "Renamed 0"  # the other writer's change is kept


async def test_concurrent_writers_of_two_processes_keep_the_counts_exact() -> None:
    services, world, caller = await opened()
    elsewhere = world.another_process()
    contacts = await make_contacts(services, caller, 12)
    await asyncio.gather(
        *(
            (services if i % 2 else elsewhere).statuses.set_marketing_status(
                caller, [c.id], MARKETING
            )
            for i, c in enumerate(contacts)
        ),
        services.contacts.create(caller, ContactDraft(email="x@example.com")),
    )
    account = world.account(caller.account_id)
    assert account.counts == world.recount(caller.account_id) == UsageCounts(12, 0, 13)
    assert account.tier_limit == 12
    assert world.writer.stale_writes > 0  # they did meet


async def test_writers_of_one_process_queue_on_the_account_instead_of_retrying() -> None:
    services, world, caller = await opened()
    contacts = await make_contacts(services, caller, 12)
    await asyncio.gather(
        *(services.statuses.set_marketing_status(caller, [c.id], MARKETING) for c in contacts)
    )
    assert world.account(caller.account_id).counts == UsageCounts(12, 0, 12)
    assert world.writer.stale_writes == 0


async def test_t6_two_concurrent_writers_never_overshoot_a_blocked_tier() -> None:
    services, world, caller = await opened(UpgradePolicy.BLOCK)
    a, b, c = await make_contacts(services, caller, 3)
    await services.statuses.set_marketing_status(caller, [a.id], MARKETING)
    results = await asyncio.gather(
        services.statuses.set_marketing_status(caller, [b.id], MARKETING),
        services.statuses.set_marketing_status(caller, [c.id], MARKETING),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 1
    assert codes_and_fields(refused[0])[0][0] is ErrorCode.TIER_LIMIT_REACHED
    assert sorted(world.contact(x.id).state for x in (b, c)) == sorted([M, N])
    assert world.account(caller.account_id).counts == UsageCounts(2, 0, 3)


async def test_a_write_that_meets_a_held_account_gets_conflict_at_once() -> None:
    """StoreBusy: the store spent the patience on another transaction that holds the account
    (one a killed process left open); trying again at once would only wait as long again."""
    attempts: list[int] = []

    async def held() -> int:
        attempts.append(len(attempts))
        raise StoreBusy("held")

    with pytest.raises(DomainError) as refused:
        await ledger.retrying(held)
    assert codes_and_fields(refused.value) == [(ErrorCode.CONFLICT, ())]
    assert attempts == [0]


async def test_a_writer_waiting_for_its_account_gets_conflict_past_the_patience() -> None:
    """The account's lock is held by a writer of this process that does not finish: the next one
    waits for it only as long as its patience, then hears CONFLICT and has written nothing."""
    locks = AccountLocks()
    ran: list[str] = []

    async def write() -> str:
        ran.append("written")
        return "written"

    async with locks.holding("acct", patience=1.0):
        with pytest.raises(DomainError) as refused:
            await ledger.retrying(write, lock=locks.holding("acct", patience=0.05))
        assert len(locks) == 1  # the holder's
    assert codes_and_fields(refused.value) == [(ErrorCode.CONFLICT, ())]
    assert ran == []
    assert await ledger.retrying(write, lock=locks.holding("acct", patience=1.0)) == "written"
    assert len(locks) == 0  # no writer left: no lock kept


async def test_account_locks_are_kept_only_while_a_writer_holds_or_awaits_them() -> None:
    """One lock per account in use, shared by its writers, gone when the last one is done: a
    process that wrote to a million accounts does not keep a million locks."""
    locks = AccountLocks()
    order: list[str] = []

    async def writer(account_id: str, name: str) -> None:
        async with locks.holding(account_id, patience=5.0):
            order.append(f"{name} in")
            await let_others_run()
            order.append(f"{name} out")

    await asyncio.gather(writer("a", "a1"), writer("a", "a2"), writer("b", "b1"))
    assert order.index("a1 out") < order.index("a2 in")  # one account's writers one at a time
    assert order.index("b1 in") < order.index("a1 out")  # another account's run beside them
    assert len(locks) == 0


async def test_retrying_stops_at_the_patience_while_the_account_keeps_changing() -> None:
    attempts: list[int] = []

    async def always_stale() -> int:
        attempts.append(len(attempts))
        raise StaleWrite("moved")

    with pytest.raises(DomainError) as refused:
        await ledger.retrying(always_stale, patience=ledger.LAST_ATTEMPT_SECONDS + 0.05)
    assert codes_and_fields(refused.value) == [(ErrorCode.CONFLICT, ())]
    assert attempts[0] == 0  # tried at first, then gave up at the patience

    attempts.clear()
    with pytest.raises(DomainError) as refused:  # too little time left to try at all
        await ledger.retrying(always_stale, patience=ledger.LAST_ATTEMPT_SECONDS / 2)
    assert codes_and_fields(refused.value) == [(ErrorCode.CONFLICT, ())]
    assert attempts == []

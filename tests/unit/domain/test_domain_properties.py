"""Properties (hypothesis): counts never drift (T1), S3 never violated, tiers never go down (T3),
BLOCK never overshoots (T6), update dates are monotonic (U1, U2, U4).

A random history of operations is played against an account opened with `open_account`, every
change going through `plan_usage_change` as the services do: contacts created as N or M, deleted,
set MARKETING / NON_MARKETING (`change_status`, one or several at a time, synchronous or bulk),
time moving on, and the update-date worker (`due_update_dates`, `apply_update_date_to`,
`roll_over`) running now and then, possibly late.
"""

from __future__ import annotations

import calendar
import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import event, given, settings
from hypothesis import strategies as st

from marketing_contacts.domain.accounts import Account, open_account
from marketing_contacts.domain.changes import UsageChange, plan_usage_change, roll_over
from marketing_contacts.domain.contacts import (
    Contact,
    StatusUpdate,
    apply_update_date_to,
    change_status,
)
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.statuses import (
    MarketingState,
    MarketingStatus,
    StatusSource,
    StatusSourceType,
)
from marketing_contacts.domain.tiers import Ladder, UpgradePolicy
from marketing_contacts.domain.update_dates import (
    CommitmentTerm,
    UpdateSchedule,
    due_update_dates,
    update_instant,
)
from marketing_contacts.domain.usage import Transition, UsageCounts

N = MarketingState.NON_MARKETING
M = MarketingState.MARKETING
P = MarketingState.MARKETING_UNTIL_NEXT_UPDATE
#: a tiny ladder (3, 5, 7, ...) so that histories of a few dozen contacts meet the tier often
SMALL_LADDER = Ladder(3, 2, Decimal("10.00"), Decimal("5.00"))
BY_USER = StatusSource(StatusSourceType.USER, "user-1")
BY_UPDATE_DATE = StatusSource(StatusSourceType.UPDATE_DATE)
TIMEZONES = ["UTC", "Europe/Amsterdam", "America/New_York", "Pacific/Auckland"]


# ---------------------------------------------------------------- operations


@dataclass(frozen=True)
class Create:
    state: MarketingState
    count: int
    bulk: bool


@dataclass(frozen=True)
class Delete:
    pick: int


@dataclass(frozen=True)
class SetStatus:
    picks: tuple[int, ...]
    target: MarketingStatus
    bulk: bool


@dataclass(frozen=True)
class Advance:
    minutes: int
    #: the update-date worker runs right after (else it is late until a RunUpdateDates)
    worker_runs: bool


@dataclass(frozen=True)
class RunUpdateDates:
    pass


Operation = Create | Delete | SetStatus | Advance | RunUpdateDates

operations = st.one_of(
    st.builds(Create, st.sampled_from([N, M]), st.integers(1, 5), st.booleans()),
    st.builds(Delete, st.integers(0, 1_000)),
    st.builds(
        SetStatus,
        st.lists(st.integers(0, 1_000), min_size=1, max_size=6).map(tuple),
        st.sampled_from(list(MarketingStatus)),
        st.booleans(),
    ),
    st.builds(Advance, st.integers(1, 35 * 24 * 60), st.booleans()),
    st.just(RunUpdateDates()),
)


@dataclass
class World:
    account: Account
    now: datetime
    contacts: dict[str, Contact] = field(default_factory=dict)
    #: the last moment each contact was seen in M (S3: it cannot be N before the next update date)
    last_marketing_at: dict[str, datetime] = field(default_factory=dict)
    created: int = 0

    def pick(self, index: int) -> Contact | None:
        ids = sorted(self.contacts)
        return self.contacts[ids[index % len(ids)]] if ids else None

    def new_contact(self, state: MarketingState) -> Contact:
        self.created += 1
        return Contact(
            id=f"c{self.created:04d}",
            account_id=self.account.id,
            created_via=CreationSource.API,
            created_at=self.now,
            updated_at=self.now,
            state=state,
            status_source=StatusSource(StatusSourceType.CREATION_DEFAULT),
            status_changed_at=self.now,
        )


def play(
    world: World,
    transitions: list[Transition],
    after: dict[str, Contact | None],
    now: datetime,
    *,
    partial: bool,
) -> UsageChange:
    """Plan a batch and apply what the plan accepts, as a service would."""
    for transition in transitions:
        current = world.contacts.get(transition.contact_id)
        assert (current.state if current is not None else None) is transition.before
    change = plan_usage_change(world.account, transitions, now, partial=partial)
    # the plan partitions the batch, in order
    accepted_ids = {t.contact_id for t in change.accepted}
    assert list(change.accepted) == [t for t in transitions if t.contact_id in accepted_ids]
    assert list(change.refused) == [t for t in transitions if t.contact_id not in accepted_ids]
    for transition in change.accepted:
        contact = after[transition.contact_id]
        if contact is None:
            del world.contacts[transition.contact_id]
        else:
            world.contacts[transition.contact_id] = contact
    world.account = change.account
    if change.refused:
        event("refused (BLOCK)")
    if change.tier_change is not None:
        event("upgraded (AUTO)")
    return change


def assert_no_early_exit(transitions: tuple[Transition, ...]) -> None:
    """S3: outside the update date, nothing takes a counted contact to N."""
    for transition in transitions:
        assert not (transition.before in (M, P) and transition.after is N), transition


def run_update_dates(world: World) -> None:
    account = world.account
    due = due_update_dates(account.next_update_date, account.schedule, account.timezone, world.now)
    assert due == sorted(set(due))
    for update_date in due:
        starts = update_instant(update_date, world.account.timezone)
        updates = [
            update
            for contact in world.contacts.values()
            if (update := apply_update_date_to(contact, starts, BY_UPDATE_DATE)) is not None
        ]
        if updates:
            event("update date turned P into N")
        if len(updates) < sum(c.state is P for c in world.contacts.values()):
            event("P since after the update date started: kept for the next one")
        for update in updates:
            # S3: only P becomes N, and only when it was last M before the update date started
            assert (update.before.state, update.after.state) == (P, N)
            assert world.last_marketing_at[update.before.id] < starts
        change = play(
            world,
            [Transition(u.before.id, u.before.state, u.after.state) for u in updates],
            {u.before.id: u.after for u in updates},
            starts,
            partial=False,
        )
        assert change.refused == ()
        previous = world.account.next_update_date
        world.account = roll_over(world.account, update_date)
        assert world.account.next_update_date > previous
    # every started date has been applied: the next one is still ahead
    assert update_instant(world.account.next_update_date, world.account.timezone) > world.now


def step(world: World, operation: Operation) -> None:
    if isinstance(operation, Advance):
        world.now += timedelta(minutes=operation.minutes)
        if operation.worker_runs:
            run_update_dates(world)
    elif isinstance(operation, RunUpdateDates):
        run_update_dates(world)
    elif isinstance(operation, Create):
        contacts = [world.new_contact(operation.state) for _ in range(operation.count)]
        change = play(
            world,
            [Transition(c.id, None, c.state) for c in contacts],
            {c.id: c for c in contacts},
            world.now,
            partial=operation.bulk,
        )
        assert_no_early_exit(change.accepted)
    elif isinstance(operation, Delete):
        contact = world.pick(operation.pick)
        if contact is not None:
            change = play(
                world,
                [Transition(contact.id, contact.state, None)],
                {contact.id: None},
                world.now,
                partial=False,
            )
            assert change.refused == ()  # a delete never raises the count
    else:
        chosen = {c.id: c for i in operation.picks if (c := world.pick(i)) is not None}
        updates: list[StatusUpdate] = [
            update
            for contact in chosen.values()
            if (update := change_status(contact, operation.target, BY_USER, world.now)) is not None
        ]
        change = play(
            world,
            [Transition(u.before.id, u.before.state, u.after.state) for u in updates],
            {u.before.id: u.after for u in updates},
            world.now,
            partial=operation.bulk,
        )
        assert_no_early_exit(change.accepted)
    for contact in world.contacts.values():
        if contact.state is M:
            world.last_marketing_at[contact.id] = world.now


@settings(max_examples=200, deadline=None)
@given(
    policy=st.sampled_from(list(UpgradePolicy)),
    term=st.sampled_from(list(CommitmentTerm)),
    timezone=st.sampled_from(TIMEZONES),
    renewal_day=st.integers(1, 31),
    start_minutes=st.integers(0, 366 * 24 * 60),
    history=st.lists(operations, min_size=20, max_size=60),
)
def test_property_counts_s3_t3_t6_hold_over_any_history(
    policy: UpgradePolicy,
    term: CommitmentTerm,
    timezone: str,
    renewal_day: int,
    start_minutes: int,
    history: list[Operation],
) -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=start_minutes)
    account = open_account(
        id="acme",
        name="Acme",
        now=now,
        term=term,
        timezone=timezone,
        renewal_date=date(2023, 12, renewal_day),
        ladder=SMALL_LADDER,
        upgrade_policy=policy,
    )
    world = World(account=account, now=now)
    for operation in history:
        tier_before = world.account.tier_limit
        step(world, operation)
        counts = world.account.counts
        # (a) T1: the counters are exactly a recount of the live contacts
        assert counts == UsageCounts.of([c.state for c in world.contacts.values()])
        # (c) T3: the tier never goes down
        assert world.account.tier_limit >= tier_before
        # (d) T6: under BLOCK, marketing contacts never exceed the tier
        if policy is UpgradePolicy.BLOCK:
            assert counts.marketing <= world.account.tier_limit
            assert world.account.tier_limit == SMALL_LADDER.first_limit
        else:
            # T2: under AUTO the tier always holds the count at once
            assert counts.marketing <= world.account.tier_limit


# ---------------------------------------------------------------- update dates


@settings(max_examples=200, deadline=None)
@given(
    term=st.sampled_from(list(CommitmentTerm)),
    anchor=st.integers(1, 31),
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
)
def test_property_u1_u2_periods_are_one_month_and_hold_the_day(
    term: CommitmentTerm, anchor: int, day: date
) -> None:
    schedule = UpdateSchedule(term, anchor)
    start, end = schedule.on_or_before(day), schedule.next_after(day)
    assert start <= day < end
    assert schedule.next_after(start) == end
    assert schedule.on_or_before(end) == end
    assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == 1
    assert 28 <= (end - start).days <= 31
    for update_date in (start, end):
        last_day = calendar.monthrange(update_date.year, update_date.month)[1]
        expected_day = min(anchor, last_day) if term is CommitmentTerm.MONTHLY else 1
        assert update_date.day == expected_day


@settings(max_examples=200, deadline=None)
@given(
    anchor=st.integers(1, 31),
    timezone=st.sampled_from(TIMEZONES),
    first=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    days=st.integers(0, 400),
)
def test_property_u4_due_dates_are_increasing_started_and_complete(
    anchor: int, timezone: str, first: date, days: int
) -> None:
    schedule = UpdateSchedule(CommitmentTerm.MONTHLY, anchor)
    next_update = schedule.next_after(first)
    now = update_instant(next_update, timezone) + timedelta(days=days, hours=-12)
    due = due_update_dates(next_update, schedule, timezone, now)
    assert all(earlier < later for earlier, later in itertools.pairwise(due))
    assert all(update_instant(d, timezone) <= now for d in due)
    # nothing skipped: consecutive dates of the schedule, and the one after is not due yet
    assert all(schedule.next_after(a) == b for a, b in itertools.pairwise(due))
    following = schedule.next_after(due[-1]) if due else next_update
    assert update_instant(following, timezone) > now

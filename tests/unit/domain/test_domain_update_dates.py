"""Update dates and periods (U1-U4 in docs/rules.md): the parts the domain holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from marketing_contacts.domain.accounts import Account, open_account
from marketing_contacts.domain.alerts import AlertState
from marketing_contacts.domain.changes import plan_usage_change, roll_over
from marketing_contacts.domain.contacts import Contact, apply_update_date_to
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.statuses import MarketingState, StatusSource, StatusSourceType
from marketing_contacts.domain.update_dates import (
    CommitmentTerm,
    Period,
    UpdateSchedule,
    due_update_dates,
    local_date,
    update_instant,
    zone,
)
from marketing_contacts.domain.usage import Transition, UsageCounts

MONTHLY = CommitmentTerm.MONTHLY
ANNUAL = CommitmentTerm.ANNUAL
N = MarketingState.NON_MARKETING
M = MarketingState.MARKETING
P = MarketingState.MARKETING_UNTIL_NEXT_UPDATE
BY_UPDATE_DATE = StatusSource(StatusSourceType.UPDATE_DATE)


def monthly(anchor_day: int) -> UpdateSchedule:
    return UpdateSchedule(MONTHLY, anchor_day)


# ---------------------------------------------------------------- U1


def test_u1_monthly_anchor_clamped_to_month_end_and_back() -> None:
    schedule = UpdateSchedule.for_renewal(MONTHLY, date(2023, 1, 31))
    assert schedule.anchor_day == 31
    dates = [date(2023, 1, 31)]
    for _ in range(13):
        dates.append(schedule.next_after(dates[-1]))
    assert dates[1:] == [
        date(2023, 2, 28),  # February lacks the 31st: its last day
        date(2023, 3, 31),  # and March returns to the anchor
        date(2023, 4, 30),
        date(2023, 5, 31),
        date(2023, 6, 30),
        date(2023, 7, 31),
        date(2023, 8, 31),
        date(2023, 9, 30),
        date(2023, 10, 31),
        date(2023, 11, 30),
        date(2023, 12, 31),
        date(2024, 1, 31),
        date(2024, 2, 29),  # leap year
    ]


@pytest.mark.parametrize(
    ("anchor", "day", "next_after", "on_or_before"),
    [
        # the anchor day itself is the start of its period, the next date is a month later
        (15, date(2024, 1, 15), date(2024, 2, 15), date(2024, 1, 15)),
        # the day before the anchor still belongs to the previous period
        (15, date(2024, 1, 14), date(2024, 1, 15), date(2023, 12, 15)),
        # across the year end
        (15, date(2024, 12, 15), date(2025, 1, 15), date(2024, 12, 15)),
        (15, date(2024, 12, 31), date(2025, 1, 15), date(2024, 12, 15)),
        (1, date(2024, 12, 31), date(2025, 1, 1), date(2024, 12, 1)),
        (1, date(2025, 1, 1), date(2025, 2, 1), date(2025, 1, 1)),
        # anchor 31 in February (non-leap and leap) and back to the 31st
        (31, date(2023, 1, 31), date(2023, 2, 28), date(2023, 1, 31)),
        (31, date(2023, 2, 27), date(2023, 2, 28), date(2023, 1, 31)),
        (31, date(2023, 2, 28), date(2023, 3, 31), date(2023, 2, 28)),
        (31, date(2024, 1, 31), date(2024, 2, 29), date(2024, 1, 31)),
        (31, date(2024, 2, 29), date(2024, 3, 31), date(2024, 2, 29)),
        (31, date(2024, 3, 1), date(2024, 3, 31), date(2024, 2, 29)),
        (31, date(2024, 3, 30), date(2024, 3, 31), date(2024, 2, 29)),
        (31, date(2024, 4, 30), date(2024, 5, 31), date(2024, 4, 30)),
        # anchors 29 and 30 in February
        (30, date(2023, 2, 28), date(2023, 3, 30), date(2023, 2, 28)),
        (29, date(2023, 2, 28), date(2023, 3, 29), date(2023, 2, 28)),
        (29, date(2024, 2, 28), date(2024, 2, 29), date(2024, 1, 29)),
        (29, date(2024, 2, 29), date(2024, 3, 29), date(2024, 2, 29)),
    ],
)
def test_u1_monthly_next_after_and_on_or_before_at_boundaries(
    anchor: int, day: date, next_after: date, on_or_before: date
) -> None:
    schedule = monthly(anchor)
    assert schedule.next_after(day) == next_after
    assert schedule.on_or_before(day) == on_or_before
    assert schedule.period_containing(day) == Period(on_or_before, next_after)


def test_u1_period_days_and_period_ending() -> None:
    schedule = monthly(31)
    period = schedule.period_containing(date(2024, 2, 10))
    assert period == Period(date(2024, 1, 31), date(2024, 2, 29))
    assert period.days == 29
    assert period.days_left(date(2024, 2, 10)) == 19  # Feb 10 .. Feb 28, Feb 10 included
    assert schedule.period_ending(date(2024, 3, 31)) == Period(date(2024, 2, 29), date(2024, 3, 31))
    assert schedule.period_ending(date(2024, 3, 31)).days == 31


@pytest.mark.parametrize("anchor", [0, 32])
def test_u1_anchor_must_be_a_day_of_a_month(anchor: int) -> None:
    with pytest.raises(ValueError, match="anchor day"):
        UpdateSchedule(MONTHLY, anchor)


# ---------------------------------------------------------------- U2


@pytest.mark.parametrize(
    ("day", "next_after", "on_or_before"),
    [
        (date(2024, 5, 17), date(2024, 6, 1), date(2024, 5, 1)),
        (date(2024, 5, 31), date(2024, 6, 1), date(2024, 5, 1)),
        (date(2024, 6, 1), date(2024, 7, 1), date(2024, 6, 1)),
        (date(2024, 2, 29), date(2024, 3, 1), date(2024, 2, 1)),
        (date(2024, 12, 1), date(2025, 1, 1), date(2024, 12, 1)),
        (date(2024, 12, 31), date(2025, 1, 1), date(2024, 12, 1)),
    ],
)
def test_u2_annual_update_date_is_every_first_of_the_month(
    day: date, next_after: date, on_or_before: date
) -> None:
    # renewed on the 17th: the annual commitment ignores the renewal day
    schedule = UpdateSchedule.for_renewal(ANNUAL, date(2024, 5, 17))
    assert schedule.next_after(day) == next_after
    assert schedule.on_or_before(day) == on_or_before


def test_u2_annual_ignores_an_anchor_day() -> None:
    schedule = UpdateSchedule(ANNUAL, anchor_day=20)
    assert schedule.next_after(date(2024, 3, 5)) == date(2024, 4, 1)
    assert schedule.update_date_in(2024, 2) == date(2024, 2, 1)


# ---------------------------------------------------------------- U3


@pytest.mark.parametrize(
    ("update_date", "timezone", "starts_at"),
    [
        (date(2024, 2, 1), "UTC", datetime(2024, 2, 1, 0, 0, tzinfo=UTC)),
        # Amsterdam: +01:00 in winter, +02:00 in summer; DST starts 31 Mar 02:00, ends 27 Oct 03:00
        (date(2024, 3, 1), "Europe/Amsterdam", datetime(2024, 2, 29, 23, 0, tzinfo=UTC)),
        (date(2024, 3, 31), "Europe/Amsterdam", datetime(2024, 3, 30, 23, 0, tzinfo=UTC)),
        (date(2024, 4, 1), "Europe/Amsterdam", datetime(2024, 3, 31, 22, 0, tzinfo=UTC)),
        (date(2024, 10, 27), "Europe/Amsterdam", datetime(2024, 10, 26, 22, 0, tzinfo=UTC)),
        (date(2024, 10, 28), "Europe/Amsterdam", datetime(2024, 10, 27, 23, 0, tzinfo=UTC)),
        # New York: -05:00 / -04:00; DST starts 10 Mar 02:00, ends 3 Nov 02:00
        (date(2024, 3, 10), "America/New_York", datetime(2024, 3, 10, 5, 0, tzinfo=UTC)),
        (date(2024, 3, 11), "America/New_York", datetime(2024, 3, 11, 4, 0, tzinfo=UTC)),
        (date(2024, 11, 3), "America/New_York", datetime(2024, 11, 3, 4, 0, tzinfo=UTC)),
        (date(2024, 11, 4), "America/New_York", datetime(2024, 11, 4, 5, 0, tzinfo=UTC)),
        # Auckland: +13:00 in (southern) summer, +12:00 in winter; ahead of UTC, so the day
        # starts on the previous UTC date. DST ends 7 Apr 03:00, starts 29 Sep 02:00.
        (date(2024, 4, 7), "Pacific/Auckland", datetime(2024, 4, 6, 11, 0, tzinfo=UTC)),
        (date(2024, 4, 8), "Pacific/Auckland", datetime(2024, 4, 7, 12, 0, tzinfo=UTC)),
        (date(2024, 9, 29), "Pacific/Auckland", datetime(2024, 9, 28, 12, 0, tzinfo=UTC)),
        (date(2024, 9, 30), "Pacific/Auckland", datetime(2024, 9, 29, 11, 0, tzinfo=UTC)),
        # Midnight itself skipped by DST: the day starts at 01:00 local, the first instant of it
        (date(2018, 11, 4), "America/Sao_Paulo", datetime(2018, 11, 4, 3, 0, tzinfo=UTC)),
        (date(2024, 9, 8), "America/Santiago", datetime(2024, 9, 8, 4, 0, tzinfo=UTC)),
    ],
)
def test_u3_update_date_starts_at_local_midnight(
    update_date: date, timezone: str, starts_at: datetime
) -> None:
    instant = update_instant(update_date, timezone)
    assert instant == starts_at
    # it is the first instant of that local day: a microsecond earlier is still the day before
    assert local_date(instant, timezone) == update_date
    assert local_date(instant - timedelta(microseconds=1), timezone) == update_date - timedelta(
        days=1
    )


@pytest.mark.parametrize(
    "name",
    [
        "Mars/Olympus_Mons",
        "europe/amsterdam ",
        "",
        "../../etc/passwd",
        "localtime",  # the server's own zone, not the account's
        "Factory",
        "posix/Europe/Amsterdam",
    ],
)
def test_u3_unknown_time_zone_is_invalid(name: str) -> None:
    with pytest.raises(DomainError) as raised:
        zone(name)
    assert [(e.code, e.field) for e in raised.value.errors] == [(ErrorCode.INVALID, ("timezone",))]
    with pytest.raises(DomainError):
        update_instant(date(2024, 1, 1), name)


def test_u3_open_account_refuses_an_unknown_time_zone() -> None:
    with pytest.raises(DomainError) as raised:
        open_account(
            id="a", name="Acme", now=datetime(2024, 1, 1, tzinfo=UTC), timezone="Nowhere/Town"
        )
    assert raised.value.errors[0].code is ErrorCode.INVALID
    assert raised.value.errors[0].field == ("timezone",)


def test_u3_account_period_follows_its_local_date() -> None:
    # 31 Jan 2024 12:30 UTC is already 1 Feb 01:30 in Auckland: the February period.
    now = datetime(2024, 1, 31, 12, 30, tzinfo=UTC)
    account = open_account(id="a", name="Acme", now=now, timezone="Pacific/Auckland")
    assert account.today(now) == date(2024, 2, 1)
    assert account.period_at(now) == Period(date(2024, 2, 1), date(2024, 3, 1))
    assert account.next_update_date == date(2024, 3, 1)
    new_york = open_account(id="b", name="Acme", now=now, timezone="America/New_York")
    assert new_york.next_update_date == date(2024, 2, 1)


# ---------------------------------------------------------------- U4: due dates


AMSTERDAM_FEB_1 = datetime(2024, 1, 31, 23, 0, tzinfo=UTC)  # 1 Feb 2024 00:00 in Amsterdam


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (AMSTERDAM_FEB_1 - timedelta(microseconds=1), []),
        (AMSTERDAM_FEB_1, [date(2024, 2, 1)]),
        (datetime(2024, 2, 29, 22, 59, tzinfo=UTC), [date(2024, 2, 1)]),
        # the worker was down for two months: every missed date, oldest first, each once
        (datetime(2024, 4, 15, tzinfo=UTC), [date(2024, 2, 1), date(2024, 3, 1), date(2024, 4, 1)]),
    ],
)
def test_u4_due_update_dates_oldest_first(now: datetime, due: list[date]) -> None:
    schedule = UpdateSchedule(ANNUAL)
    assert due_update_dates(date(2024, 2, 1), schedule, "Europe/Amsterdam", now) == due


def test_u4_monthly_due_dates_follow_the_clamped_anchor() -> None:
    schedule = monthly(31)
    now = datetime(2024, 5, 1, tzinfo=UTC)
    assert due_update_dates(date(2024, 1, 31), schedule, "UTC", now) == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
    ]


def make_account(now: datetime) -> Account:
    return open_account(id="a", name="Acme", now=now, timezone="Europe/Amsterdam")


def test_u4_roll_over_moves_to_the_next_date_resets_alerts_and_keeps_tier() -> None:
    now = datetime(2024, 1, 20, tzinfo=UTC)
    account = replace(
        make_account(now),
        tier_limit=4000,
        counts=UsageCounts(marketing=3000, pending=10, total=3500),
        alert_state=AlertState(date(2024, 1, 1), 4000, frozenset({75}), upgrade_blocked=True),
    )
    rolled = roll_over(account, date(2024, 2, 1))
    assert rolled.next_update_date == date(2024, 3, 1)
    assert rolled.alert_state == AlertState(period_start=date(2024, 2, 1), tier_limit=4000)
    assert rolled.tier_limit == 4000  # T3: no downgrade on update dates
    assert rolled.counts == account.counts
    assert rolled.revision == account.revision + 1


def test_u4_applied_dates_are_not_due_again() -> None:
    opened = datetime(2024, 1, 20, tzinfo=UTC)
    account = make_account(opened)
    now = datetime(2024, 4, 15, tzinfo=UTC)
    applied: list[date] = []
    for _ in range(2):  # run the worker twice: the second run finds nothing
        for due in due_update_dates(
            account.next_update_date, account.schedule, account.timezone, now
        ):
            applied.append(due)
            account = roll_over(account, due)
    assert applied == [date(2024, 2, 1), date(2024, 3, 1), date(2024, 4, 1)]
    assert account.next_update_date == date(2024, 5, 1)


def pending_contact(contact_id: str, since: datetime) -> Contact:
    return Contact(
        id=contact_id,
        account_id="a",
        created_via=CreationSource.MANUAL,
        created_at=since - timedelta(days=30),
        updated_at=since,
        state=P,
        status_source=StatusSource(StatusSourceType.USER, "user-1"),
        status_changed_at=since,
        pending_since=since,
        status_seq=2,
    )


def test_u4_missed_dates_applied_oldest_first_each_pending_contact_once() -> None:
    # Worker down from late January to 5 March (UTC account, annual: every 1st).
    early = pending_contact("early", datetime(2024, 1, 20, tzinfo=UTC))
    late = pending_contact("late", datetime(2024, 2, 10, tzinfo=UTC))
    contacts = {c.id: c for c in (early, late)}
    now = datetime(2024, 3, 5, tzinfo=UTC)
    due = due_update_dates(date(2024, 2, 1), UpdateSchedule(ANNUAL), "UTC", now)
    assert due == [date(2024, 2, 1), date(2024, 3, 1)]

    turned: dict[date, list[str]] = {}
    for update_date in due:
        starts = update_instant(update_date, "UTC")
        for contact in list(contacts.values()):
            update = apply_update_date_to(contact, starts, BY_UPDATE_DATE)
            if update is not None:
                contacts[contact.id] = update.after
                turned.setdefault(update_date, []).append(contact.id)
                assert update.after.status_changed_at == starts

    # "late" became pending after 1 Feb: it waits for 1 Mar, not the missed 1 Feb
    assert turned == {date(2024, 2, 1): ["early"], date(2024, 3, 1): ["late"]}
    assert all(c.state is N for c in contacts.values())
    # applying a date again changes nothing
    again = update_instant(date(2024, 3, 1), "UTC")
    assert all(apply_update_date_to(c, again, BY_UPDATE_DATE) is None for c in contacts.values())


def test_u4_update_date_lowers_the_count_but_never_the_tier() -> None:
    now = datetime(2024, 1, 10, tzinfo=UTC)
    account = replace(
        make_account(now),
        tier_limit=3000,
        counts=UsageCounts(marketing=2500, pending=2000, total=2600),
    )
    starts = update_instant(date(2024, 2, 1), "Europe/Amsterdam")
    change = plan_usage_change(account, [Transition(f"c{i}", P, N) for i in range(2000)], starts)
    assert change.refused == ()
    assert change.account.counts == UsageCounts(marketing=500, pending=0, total=2600)
    after = roll_over(change.account, date(2024, 2, 1))
    assert after.tier_limit == 3000
    assert after.usage.projected_after_next_update == 500

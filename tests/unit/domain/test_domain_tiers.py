"""Counting, ladders, upgrades and proration (T1, T2, T4, T5 in docs/rules.md).

T3 and T6 act through `plan_usage_change`: see test_domain_changes.py.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from marketing_contacts.domain.statuses import MarketingState
from marketing_contacts.domain.tiers import (
    DEFAULT_LADDERS,
    Edition,
    Ladder,
    prorate,
    upgrade,
)
from marketing_contacts.domain.update_dates import Period
from marketing_contacts.domain.usage import Transition, Usage, UsageCounts

N = MarketingState.NON_MARKETING
M = MarketingState.MARKETING
P = MarketingState.MARKETING_UNTIL_NEXT_UPDATE
STARTER = DEFAULT_LADDERS[Edition.STARTER]
PROFESSIONAL = DEFAULT_LADDERS[Edition.PROFESSIONAL]
ENTERPRISE = DEFAULT_LADDERS[Edition.ENTERPRISE]
JANUARY_2024 = Period(date(2024, 1, 1), date(2024, 2, 1))  # 31 days
FEBRUARY_2024 = Period(date(2024, 2, 1), date(2024, 3, 1))  # 29 days (leap year)
APRIL_2024 = Period(date(2024, 4, 1), date(2024, 5, 1))  # 30 days
AT = datetime(2024, 1, 15, 10, 0, tzinfo=UTC)


# ---------------------------------------------------------------- T1


def test_t1_counts_marketing_pending_and_projection() -> None:
    counts = UsageCounts.of([M, P, N, P, M, N])
    assert counts == UsageCounts(marketing=4, pending=2, total=6)
    usage = Usage(counts, tier_limit=1000, next_update_date=date(2024, 2, 1))
    assert usage.marketing_contacts == 4  # M or P
    assert usage.pending_non_marketing == 2  # P
    assert usage.projected_after_next_update == 2  # M only
    assert usage.non_marketing_contacts == 2
    assert usage.total_contacts == 6
    assert usage.percent_of_tier == pytest.approx(0.4)


@pytest.mark.parametrize(
    ("marketing", "tier_limit", "percent"), [(7, 100, 7.0), (243, 400, 60.75), (1, 3, 100 / 3)]
)
def test_t1_percent_of_tier_is_the_closest_float_to_the_exact_ratio(
    marketing: int, tier_limit: int, percent: float
) -> None:
    usage = Usage(UsageCounts(marketing, 0, marketing), tier_limit, date(2024, 2, 1))
    assert usage.percent_of_tier == percent  # exact: no float noise from dividing first


STATES: list[MarketingState | None] = [None, N, M, P]


@pytest.mark.parametrize(
    ("before", "after"),
    [pair for pair in itertools.product(STATES, STATES) if pair != (None, None)],
)
def test_t1_every_transition_moves_the_counters_like_a_recount(
    before: MarketingState | None, after: MarketingState | None
) -> None:
    others = [M, P, N]
    start = UsageCounts.of(others + ([before] if before is not None else []))
    expected = UsageCounts.of(others + ([after] if after is not None else []))
    assert start.apply(Transition("c", before, after)) == expected


# ---------------------------------------------------------------- T5


def test_t5_default_ladders() -> None:
    assert (STARTER.first_limit, STARTER.step) == (1_000, 1_000)
    assert (PROFESSIONAL.first_limit, PROFESSIONAL.step) == (2_000, 5_000)
    assert (ENTERPRISE.first_limit, ENTERPRISE.step) == (10_000, 10_000)


@pytest.mark.parametrize(
    ("edition", "marketing_contacts", "limit"),
    [
        (Edition.STARTER, 0, 1_000),
        (Edition.STARTER, 1_000, 1_000),
        (Edition.STARTER, 1_001, 2_000),
        (Edition.STARTER, 3_500, 4_000),
        (Edition.STARTER, 4_000, 4_000),
        (Edition.STARTER, 4_001, 5_000),
        (Edition.PROFESSIONAL, 1, 2_000),
        (Edition.PROFESSIONAL, 2_000, 2_000),
        (Edition.PROFESSIONAL, 2_001, 7_000),
        (Edition.PROFESSIONAL, 7_001, 12_000),
        (Edition.PROFESSIONAL, 20_000, 22_000),
        (Edition.ENTERPRISE, 10_000, 10_000),
        (Edition.ENTERPRISE, 10_001, 20_000),
        (Edition.ENTERPRISE, 25_000, 30_000),
    ],
)
def test_t5_smallest_step_holding_the_count(
    edition: Edition, marketing_contacts: int, limit: int
) -> None:
    assert DEFAULT_LADDERS[edition].limit_for(marketing_contacts) == limit


@pytest.mark.parametrize(("first_limit", "step"), [(0, 1), (1, 0), (-5, 10)])
def test_t5_a_ladder_starts_and_grows_by_one_or_more(first_limit: int, step: int) -> None:
    with pytest.raises(ValueError, match="ladder"):
        Ladder(first_limit, step, Decimal("1.00"), Decimal("1.00"))


# ---------------------------------------------------------------- T2


def test_t2_upgrade_skips_steps_999_to_3500_on_starter_goes_to_4000() -> None:
    change = upgrade(
        ladder=STARTER,
        tier_limit=1_000,
        marketing_contacts=3_500,
        at=AT,
        today=date(2024, 1, 15),
        period=JANUARY_2024,
    )
    assert change is not None
    assert (change.from_limit, change.to_limit) == (1_000, 4_000)
    assert change.marketing_contacts == 3_500
    assert change.at == AT
    assert change.charge_date == date(2024, 1, 16)  # the next day
    # 1,000 costs 20.00, 4,000 costs 20.00 + 3 x 20.00 = 80.00: difference 60.00;
    # 15 Jan .. 31 Jan, the upgrade day included, is 17 of January's 31 days:
    # 60.00 x 17 / 31 = 32.9032... -> 32.90
    assert change.prorated_amount == Decimal("32.90")


@pytest.mark.parametrize("marketing_contacts", [0, 999, 1_000])
def test_t2_no_upgrade_until_strictly_greater(marketing_contacts: int) -> None:
    assert (
        upgrade(
            ladder=STARTER,
            tier_limit=1_000,
            marketing_contacts=marketing_contacts,
            at=AT,
            today=date(2024, 1, 15),
            period=JANUARY_2024,
        )
        is None
    )


def test_t2_upgrade_from_a_higher_tier_never_goes_down() -> None:
    # T3 inside upgrade(): a tier above the count is kept (None), never recomputed downwards
    assert (
        upgrade(
            ladder=STARTER,
            tier_limit=4_000,
            marketing_contacts=1_200,
            at=AT,
            today=date(2024, 1, 15),
            period=JANUARY_2024,
        )
        is None
    )


def test_t2_charge_date_is_the_next_day_across_a_month_end() -> None:
    change = upgrade(
        ladder=STARTER,
        tier_limit=1_000,
        marketing_contacts=1_001,
        at=AT,
        today=date(2024, 1, 31),
        period=JANUARY_2024,
    )
    assert change is not None
    assert change.charge_date == date(2024, 2, 1)


# ---------------------------------------------------------------- T4


@pytest.mark.parametrize(
    ("old", "new", "today", "period", "amount"),
    [
        # 60.00 x 17 / 31 = 32.9032... (15 Jan .. 31 Jan, the upgrade day included)
        pytest.param("20.00", "80.00", date(2024, 1, 15), JANUARY_2024, "32.90", id="mid-month"),
        # first day of the period: the whole difference, 60.00 x 31 / 31
        pytest.param("20.00", "80.00", date(2024, 1, 1), JANUARY_2024, "60.00", id="first-day"),
        # last day: one day of 31, 60.00 / 31 = 1.9354... -> 1.94
        pytest.param("20.00", "80.00", date(2024, 1, 31), JANUARY_2024, "1.94", id="last-day"),
        # PROFESSIONAL 2,000 -> 7,000: 890.00 -> 1,140.00; 20 Feb .. 29 Feb = 10 of 29 days:
        # 250.00 x 10 / 29 = 86.2068... -> 86.21
        pytest.param("890.00", "1140.00", date(2024, 2, 20), FEBRUARY_2024, "86.21", id="leap"),
    ],
)
def test_t4_proration_by_days_left_including_today(
    old: str, new: str, today: date, period: Period, amount: str
) -> None:
    assert prorate(Decimal(old), Decimal(new), today, period) == Decimal(amount)


@pytest.mark.parametrize(
    ("difference", "amount"),
    [
        # one day of April's 30: difference / 30 lands exactly on half a cent
        pytest.param("0.15", "0.00", id="0.005-down-to-even"),  # half-up would give 0.01
        pytest.param("0.45", "0.02", id="0.015-up-to-even"),
        pytest.param("3.75", "0.12", id="0.125-down-to-even"),  # half-up would give 0.13
        pytest.param("4.05", "0.14", id="0.135-up-to-even"),  # half-down would give 0.13
    ],
)
def test_t4_proration_half_even_to_cents(difference: str, amount: str) -> None:
    old = Decimal("10.00")
    result = prorate(old, old + Decimal(difference), date(2024, 4, 30), APRIL_2024)
    assert result == Decimal(amount)
    assert result.as_tuple().exponent == -2  # always to cents


def test_t4_upgrade_prorates_with_the_ladder_prices_half_even() -> None:
    # a configured ladder: 100 contacts for 10.00, each further 100 for 3.75 more.
    ladder = Ladder(100, 100, Decimal("10.00"), Decimal("3.75"))
    assert ladder.monthly_price(100) == Decimal("10.00")
    assert ladder.monthly_price(300) == Decimal("17.50")
    change = upgrade(
        ladder=ladder,
        tier_limit=100,
        marketing_contacts=150,
        at=datetime(2024, 4, 30, 12, tzinfo=UTC),
        today=date(2024, 4, 30),
        period=APRIL_2024,
    )
    assert change is not None
    assert change.to_limit == 200
    # 13.75 - 10.00 = 3.75 for 1 day of 30: 0.125 -> 0.12 (half-even)
    assert change.prorated_amount == Decimal("0.12")


def test_t4_default_ladder_prices_grow_per_step() -> None:
    assert STARTER.monthly_price(1_000) == Decimal("20.00")
    assert STARTER.monthly_price(4_000) == Decimal("80.00")
    assert PROFESSIONAL.monthly_price(7_000) - PROFESSIONAL.monthly_price(2_000) == Decimal(
        "250.00"
    )
    assert ENTERPRISE.monthly_price(30_000) > ENTERPRISE.monthly_price(20_000)


def test_t4_periods_of_every_length_prorate_today_included() -> None:
    # a full period always prorates to the whole difference, whatever its length
    for start in [date(2023, 2, 1), date(2024, 2, 1), date(2024, 4, 1), date(2024, 5, 1)]:
        end = (start + timedelta(days=32)).replace(day=1)
        period = Period(start, end)
        assert prorate(Decimal("100.00"), Decimal("130.00"), start, period) == Decimal("30.00")

"""Tier alerts (A1, A2, A4 in docs/rules.md), alone and through `plan_usage_change`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from marketing_contacts.domain.accounts import Account, open_account
from marketing_contacts.domain.alerts import (
    DEFAULT_THRESHOLDS,
    AlertState,
    TierAlert,
    TierAlertKind,
    banner_visible,
    raise_threshold_alerts,
    raise_upgrade_blocked,
    threshold_reached,
    validate_thresholds,
)
from marketing_contacts.domain.changes import UsageChange, plan_usage_change, roll_over
from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.statuses import MarketingState
from marketing_contacts.domain.tiers import UpgradePolicy
from marketing_contacts.domain.update_dates import update_instant
from marketing_contacts.domain.usage import Transition

N = MarketingState.NON_MARKETING
M = MarketingState.MARKETING
P = MarketingState.MARKETING_UNTIL_NEXT_UPDATE
REACHED = TierAlertKind.THRESHOLD_REACHED
EXCEEDED = TierAlertKind.TIER_EXCEEDED
UPGRADED = TierAlertKind.TIER_UPGRADED
BLOCKED = TierAlertKind.UPGRADE_BLOCKED
JAN_10 = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)
JAN_20 = datetime(2024, 1, 20, 9, 0, tzinfo=UTC)
FEB_2 = datetime(2024, 2, 2, 9, 0, tzinfo=UTC)
PERIOD_START = date(2024, 1, 1)


def new_account(policy: UpgradePolicy = UpgradePolicy.AUTO) -> Account:
    """STARTER (1,000 contacts), annual commitment, UTC: the period is January 2024."""
    return open_account(id="acme", name="Acme", now=JAN_10, upgrade_policy=policy)


def add(account: Account, count: int, now: datetime = JAN_20) -> UsageChange:
    """`count` contacts created as marketing in one batch."""
    transitions = [Transition(f"new-{i}", None, M) for i in range(count)]
    return plan_usage_change(account, transitions, now)


def remove(account: Account, count: int, now: datetime = JAN_20) -> UsageChange:
    transitions = [Transition(f"old-{i}", M, None) for i in range(count)]
    return plan_usage_change(account, transitions, now)


def kinds(alerts: tuple[TierAlert, ...] | list[TierAlert]) -> list[tuple[TierAlertKind, int]]:
    return [(alert.kind, alert.threshold) for alert in alerts]


# ---------------------------------------------------------------- A1


def test_a1_default_thresholds() -> None:
    assert DEFAULT_THRESHOLDS == (75, 90, 98, 100)
    assert new_account().alert_thresholds == (75, 90, 98, 100)


@pytest.mark.parametrize(
    ("threshold", "marketing_contacts", "tier_limit", "reached"),
    [
        (75, 749, 1_000, False),
        (75, 750, 1_000, True),
        (90, 899, 1_000, False),
        (90, 900, 1_000, True),
        (98, 979, 1_000, False),
        (98, 980, 1_000, True),
        # 75% of 1,001 is 750.75: 750 is short, 751 reaches it
        (75, 750, 1_001, False),
        (75, 751, 1_001, True),
        (1, 0, 1_000, False),
        (1, 10, 1_000, True),
        # 100 means exceeded, strictly more
        (100, 1_000, 1_000, False),
        (100, 1_001, 1_000, True),
        (100, 7_000, 7_000, False),
    ],
)
def test_a1_threshold_reached_and_100_means_strictly_exceeded(
    threshold: int, marketing_contacts: int, tier_limit: int, reached: bool
) -> None:
    assert threshold_reached(threshold, marketing_contacts, tier_limit) is reached


def test_a1_exactly_at_the_limit_is_not_exceeded_through_a_change() -> None:
    change = add(new_account(UpgradePolicy.BLOCK), 1_000)
    assert change.refused == ()
    assert kinds(change.alerts) == [(REACHED, 75), (REACHED, 90), (REACHED, 98)]
    auto = add(new_account(), 1_000)
    assert auto.tier_change is None
    assert kinds(auto.alerts) == [(REACHED, 75), (REACHED, 90), (REACHED, 98)]


def test_a1_kinds_and_contents_of_threshold_alerts() -> None:
    state = AlertState(PERIOD_START, 1_000)
    _, alerts = raise_threshold_alerts(
        state, (100, 75), marketing_contacts=1_001, tier_limit=1_000, at=JAN_20
    )
    assert alerts == [
        TierAlert(REACHED, 75, 1_001, 1_000, JAN_20, PERIOD_START),
        TierAlert(EXCEEDED, 100, 1_001, 1_000, JAN_20, PERIOD_START),
    ]


# ---------------------------------------------------------------- A4


@pytest.mark.parametrize(
    ("marketing_contacts", "tier_limit", "visible"),
    [
        (0, 1_000, False),
        (979, 1_000, False),
        (980, 1_000, True),
        (1_000, 1_000, True),
        (1_959, 2_000, False),
        (1_960, 2_000, True),
        (6_860, 7_000, True),
        (6_859, 7_000, False),
    ],
)
def test_a4_banner_visible_from_98_percent(
    marketing_contacts: int, tier_limit: int, visible: bool
) -> None:
    assert banner_visible(marketing_contacts, tier_limit) is visible


def test_a4_account_usage_shows_the_banner_at_98_percent() -> None:
    account = add(new_account(), 979).account
    assert account.usage.banner_visible is False
    account = add(account, 1).account
    assert account.usage.banner_visible is True


# ---------------------------------------------------------------- A2 (pure)


def test_a2_threshold_raised_once_then_never_again_for_the_same_period_and_limit() -> None:
    state = AlertState(PERIOD_START, 1_000)
    state, first = raise_threshold_alerts(
        state, DEFAULT_THRESHOLDS, marketing_contacts=760, tier_limit=1_000, at=JAN_20
    )
    assert kinds(first) == [(REACHED, 75)]
    state, again = raise_threshold_alerts(
        state, DEFAULT_THRESHOLDS, marketing_contacts=800, tier_limit=1_000, at=JAN_20
    )
    assert again == []
    # a new tier limit forgets the thresholds, a new period forgets everything
    assert state.current(PERIOD_START, 2_000).raised == frozenset()
    assert state.current(date(2024, 2, 1), 1_000) == AlertState(date(2024, 2, 1), 1_000)
    assert state.current(PERIOD_START, 1_000) is state
    # an older period (an update date applied late) never undoes the current one
    assert state.current(date(2023, 12, 1), 1_000) is state


def test_a2_upgrade_blocked_once_per_period_pure() -> None:
    state = AlertState(PERIOD_START, 1_000)
    state, first = raise_upgrade_blocked(
        state, marketing_contacts=1_001, tier_limit=1_000, at=JAN_20
    )
    assert kinds(first) == [(BLOCKED, 100)]
    state, second = raise_upgrade_blocked(
        state, marketing_contacts=1_002, tier_limit=1_000, at=JAN_20
    )
    assert second == []
    # a new tier limit does not repeat it; a new period does
    assert state.current(PERIOD_START, 2_000).upgrade_blocked is True
    assert state.current(date(2024, 2, 1), 1_000).upgrade_blocked is False


# ---------------------------------------------------------------- A2 (through changes)


def test_a2_each_threshold_once_per_period_crossing_down_and_up_raises_nothing() -> None:
    change = add(new_account(), 750)
    assert kinds(change.alerts) == [(REACHED, 75)]
    assert change.alerts[0].tier_limit == 1_000
    assert change.alerts[0].period_start == PERIOD_START
    change = add(change.account, 149)  # 899
    assert change.alerts == ()
    change = add(change.account, 1)  # 900
    assert kinds(change.alerts) == [(REACHED, 90)]
    change = remove(change.account, 300)  # 600: back under 75 %
    assert change.alerts == ()
    change = add(change.account, 310)  # 910: up again past 75 % and 90 %
    assert change.alerts == ()
    change = add(change.account, 70)  # 980
    assert kinds(change.alerts) == [(REACHED, 98)]


def test_a2_a_new_period_raises_again() -> None:
    january = add(new_account(), 910).account
    # the update date of 1 Feb has been applied
    rolled = roll_over(january, date(2024, 2, 1))
    change = add(rolled, 1, FEB_2)
    assert kinds(change.alerts) == [(REACHED, 75), (REACHED, 90)]
    assert {alert.period_start for alert in change.alerts} == {date(2024, 2, 1)}
    # the same holds before the worker applied it: the period is February all the same
    change = add(january, 1, FEB_2)
    assert kinds(change.alerts) == [(REACHED, 75), (REACHED, 90)]


def test_a2_after_an_upgrade_thresholds_count_against_the_new_limit() -> None:
    account = add(new_account(), 900).account  # 75 and 90 of 1,000 raised
    change = add(account, 700)  # 1,600 > 1,000: upgrade to 2,000
    assert change.tier_change is not None
    assert change.tier_change.to_limit == 2_000
    against_new = [alert for alert in change.alerts if alert.tier_limit == 2_000]
    # 1,600 is 80 % of 2,000: 75 reached again, against the new limit
    assert kinds(against_new) == [(UPGRADED, 100), (REACHED, 75)]
    assert against_new[0].marketing_contacts == 1_600
    change = add(change.account, 200)  # 1,800 = 90 % of 2,000
    assert kinds(change.alerts) == [(REACHED, 90)]
    assert change.alerts[0].tier_limit == 2_000
    change = add(change.account, 160)  # 1,960 = 98 %
    assert kinds(change.alerts) == [(REACHED, 98)]


def test_a2_every_upgrade_raises_tier_upgraded() -> None:
    first = add(new_account(), 1_001)
    assert first.tier_change is not None
    second = add(first.account, 1_000)  # 2,001 > 2,000
    assert second.tier_change is not None
    third = add(second.account, 5)  # 2,006 fits 3,000: no upgrade, no TIER_UPGRADED
    for change, limit, count in [(first, 2_000, 1_001), (second, 3_000, 2_001)]:
        upgraded = [alert for alert in change.alerts if alert.kind is UPGRADED]
        assert len(upgraded) == 1
        assert (upgraded[0].tier_limit, upgraded[0].marketing_contacts) == (limit, count)
    assert third.tier_change is None
    assert UPGRADED not in {alert.kind for alert in third.alerts}


def test_a2_upgrade_blocked_once_per_period_through_changes() -> None:
    full = add(new_account(UpgradePolicy.BLOCK), 1_000).account
    first = add(full, 1)
    assert first.refused != ()
    assert kinds(first.alerts) == [(BLOCKED, 100)]
    assert first.alerts[0].tier_limit == 1_000
    second = add(first.account, 3)
    assert second.refused != ()
    assert second.alerts == ()
    next_period = add(second.account, 1, FEB_2)
    assert next_period.refused != ()
    assert kinds(next_period.alerts) == [(BLOCKED, 100)]
    assert next_period.alerts[0].period_start == date(2024, 2, 1)


def test_a2_custom_thresholds_are_honoured() -> None:
    account = replace(new_account(), alert_thresholds=(50, 100))
    change = add(account, 500)
    assert kinds(change.alerts) == [(REACHED, 50)]
    change = add(change.account, 400)  # 90 %: not a threshold of this account
    assert change.alerts == ()


def test_a2_late_update_date_worker_does_not_reraise_alerts_of_the_new_period() -> None:
    # 75 % was reached in January; the worker applying 1 Feb runs late, at 1 Feb 06:00.
    account = add(new_account(), 760).account
    feb_1 = date(2024, 2, 1)
    early_feb = update_instant(feb_1, "UTC") + timedelta(hours=1)
    # at 01:00 on 1 Feb, before the worker ran, a change reached 75 % of the new period
    change = add(account, 1, early_feb)
    assert kinds(change.alerts) == [(REACHED, 75)]
    # the worker now applies 1 Feb: the period's alert state must not forget that alert
    rolled = roll_over(change.account, feb_1)
    assert rolled.next_update_date == date(2024, 3, 1)
    again = add(rolled, 1, early_feb + timedelta(hours=5))
    assert again.alerts == (), "75 % was already raised in the period starting 1 Feb"


def test_a2_missed_update_dates_applied_late_keep_alerts_of_the_current_period() -> None:
    # 75 % reached in January with 10 contacts pending; the worker is down until 3 March.
    january = plan_usage_change(
        new_account(), [Transition(f"p-{i}", None, M) for i in range(760)], JAN_20
    ).account
    january = plan_usage_change(
        january, [Transition(f"p-{i}", M, P) for i in range(10)], JAN_20
    ).account
    march_3 = datetime(2024, 3, 3, 9, 0, tzinfo=UTC)
    change = add(january, 1, march_3)  # 761: 75 % of the March period
    assert kinds(change.alerts) == [(REACHED, 75)]
    account = change.account
    # the worker returns and applies 1 Feb then 1 Mar, oldest first
    for update_date, pending in [(date(2024, 2, 1), 10), (date(2024, 3, 1), 0)]:
        starts = update_instant(update_date, "UTC")
        transitions = [Transition(f"p-{i}", P, N) for i in range(pending)]
        account = plan_usage_change(account, transitions, starts).account
        account = roll_over(account, update_date)
    assert account.counts.marketing == 751
    assert account.next_update_date == date(2024, 4, 1)
    # 75 % of March was raised already: 752 raises nothing
    again = add(account, 1, march_3)
    assert again.alerts == (), "75 % was already raised in the period starting 1 Mar"


# ---------------------------------------------------------------- thresholds input


@pytest.mark.parametrize(
    ("thresholds", "field"),
    [
        ([0], ("alert_thresholds", "0")),
        ([101], ("alert_thresholds", "0")),
        ([75, -5], ("alert_thresholds", "1")),
        ([75, 90, 150], ("alert_thresholds", "2")),
        ([75, 75], ("alert_thresholds",)),
    ],
)
def test_a1_invalid_thresholds_name_the_field(
    thresholds: list[int], field: tuple[str, ...]
) -> None:
    with pytest.raises(DomainError) as raised:
        validate_thresholds(thresholds)
    assert [(e.code, e.field) for e in raised.value.errors] == [(ErrorCode.INVALID, field)]


def test_a1_valid_thresholds_sorted() -> None:
    assert validate_thresholds([100, 1, 50]) == (1, 50, 100)
    assert validate_thresholds([]) == ()

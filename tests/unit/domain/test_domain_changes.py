"""`plan_usage_change`: what a batch of transitions does to an account (T1-T3, T6, D4, S2)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from marketing_contacts.domain.accounts import Account, open_account
from marketing_contacts.domain.alerts import TierAlertKind
from marketing_contacts.domain.changes import UsageChange, plan_usage_change, roll_over
from marketing_contacts.domain.statuses import MarketingState
from marketing_contacts.domain.tiers import Edition, UpgradePolicy
from marketing_contacts.domain.update_dates import update_instant
from marketing_contacts.domain.usage import Transition, UsageCounts

N = MarketingState.NON_MARKETING
M = MarketingState.MARKETING
P = MarketingState.MARKETING_UNTIL_NEXT_UPDATE
AUTO = UpgradePolicy.AUTO
BLOCK = UpgradePolicy.BLOCK
OPENED = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)
JAN_15 = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)


def new_account(policy: UpgradePolicy = AUTO, timezone: str = "UTC") -> Account:
    """STARTER (1,000 contacts; 20.00 a month, each further 1,000 20.00 more), annual, January."""
    return open_account(
        id="acme", name="Acme", now=OPENED, timezone=timezone, upgrade_policy=policy
    )


def creates(count: int, state: MarketingState = M, prefix: str = "new") -> list[Transition]:
    return [Transition(f"{prefix}-{i}", None, state) for i in range(count)]


def deletes(count: int, state: MarketingState = M, prefix: str = "old") -> list[Transition]:
    return [Transition(f"{prefix}-{i}", state, None) for i in range(count)]


def filled(policy: UpgradePolicy, marketing: int, pending: int = 0) -> Account:
    """An account holding `marketing` contacts in M or P (`pending` of them in P)."""
    account = new_account(policy)
    batch = creates(marketing - pending) + creates(pending, P, prefix="pending")
    change = plan_usage_change(account, batch, OPENED)
    assert change.accepted == tuple(batch)
    return change.account


def alert_kinds(change: UsageChange) -> list[TierAlertKind]:
    return [alert.kind for alert in change.alerts]


# ---------------------------------------------------------------- T1


def test_t1_counts_move_with_the_batch() -> None:
    account = filled(AUTO, 10, pending=4)
    assert account.counts == UsageCounts(marketing=10, pending=4, total=10)
    batch = [
        Transition("pending-0", P, M),  # set MARKETING on P: no change to the count
        Transition("new-0", M, P),  # set NON_MARKETING on M: still counts
        Transition("pending-1", P, N),  # update date: leaves the count
        Transition("new-1", M, None),  # delete
        Transition("extra", None, N),  # created non-marketing
    ]
    change = plan_usage_change(account, batch, JAN_15)
    assert change.account.counts == UsageCounts(marketing=8, pending=3, total=10)
    assert change.account.usage.projected_after_next_update == 5
    assert change.account.revision == account.revision + 1


def test_t1_an_empty_batch_changes_nothing() -> None:
    account = filled(AUTO, 10)
    change = plan_usage_change(account, [], JAN_15)
    assert change.account == account
    assert (change.accepted, change.refused, change.alerts) == ((), (), ())


# ---------------------------------------------------------------- T2


def test_t2_auto_upgrade_at_once_to_the_smallest_step_skipping_steps() -> None:
    account = filled(AUTO, 999)
    change = plan_usage_change(account, creates(2_501), JAN_15)  # 3,500 contacts
    assert change.accepted == tuple(creates(2_501))
    assert change.refused == ()
    assert change.account.tier_limit == 4_000
    assert change.account.counts.marketing == 3_500
    tier_change = change.tier_change
    assert tier_change is not None
    assert (tier_change.from_limit, tier_change.to_limit) == (1_000, 4_000)
    assert tier_change.marketing_contacts == 3_500
    assert tier_change.at == JAN_15
    assert tier_change.charge_date == date(2024, 1, 16)
    # 80.00 - 20.00 = 60.00 for 15..31 Jan, 17 of 31 days: 32.9032... -> 32.90
    assert tier_change.prorated_amount == Decimal("32.90")
    assert TierAlertKind.TIER_UPGRADED in alert_kinds(change)


def test_t2_no_upgrade_while_the_count_is_not_strictly_greater() -> None:
    change = plan_usage_change(filled(AUTO, 999), creates(1), JAN_15)
    assert change.tier_change is None
    assert change.account.tier_limit == 1_000
    change = plan_usage_change(change.account, creates(1, prefix="one-more"), JAN_15)
    assert change.tier_change is not None
    assert change.account.tier_limit == 2_000


@pytest.mark.parametrize(
    ("timezone", "charge_date", "amount"),
    [
        # 15 Jan 23:30 UTC is 16 Jan 12:30 in Auckland: 16..31 Jan = 16 of 31 days;
        # 2,000 costs 40.00, 1,000 20.00: 20.00 x 16 / 31 = 10.3225... -> 10.32
        ("Pacific/Auckland", date(2024, 1, 17), "10.32"),
        # and 15 Jan 18:30 in New York: 17 of 31 days, 20.00 x 17 / 31 = 10.9677... -> 10.97
        ("America/New_York", date(2024, 1, 16), "10.97"),
    ],
)
def test_t2_charge_date_is_the_next_day_in_the_account_zone(
    timezone: str, charge_date: date, amount: str
) -> None:
    now = datetime(2024, 1, 15, 23, 30, tzinfo=UTC)
    change = plan_usage_change(new_account(AUTO, timezone), creates(1_001), now)
    assert change.tier_change is not None
    assert change.tier_change.charge_date == charge_date
    assert change.tier_change.prorated_amount == Decimal(amount)


def test_s2_p_to_m_does_not_change_the_count_so_it_never_upgrades() -> None:
    account = filled(AUTO, 1_000, pending=10)
    change = plan_usage_change(
        account, [Transition(f"pending-{i}", P, M) for i in range(10)], JAN_15
    )
    assert change.tier_change is None
    assert change.account.counts == UsageCounts(marketing=1_000, pending=0, total=1_000)


@pytest.mark.parametrize(
    "transition",
    [
        pytest.param(Transition("created", None, M), id="created-as-marketing"),
        pytest.param(Transition("existing", N, M), id="set-MARKETING"),
    ],
)
def test_d4_created_as_marketing_counts_and_upgrades_like_set_marketing(
    transition: Transition,
) -> None:
    account = replace(filled(AUTO, 1_000), counts=UsageCounts(marketing=1_000, total=1_001))
    change = plan_usage_change(account, [transition], JAN_15)
    assert change.account.counts.marketing == 1_001
    assert change.tier_change is not None
    assert change.account.tier_limit == 2_000


def test_d4_created_as_marketing_is_tier_checked_under_block() -> None:
    change = plan_usage_change(filled(BLOCK, 1_000), [Transition("created", None, M)], JAN_15)
    assert change.blocked
    assert change.account.counts.marketing == 1_000
    created_non_marketing = plan_usage_change(
        filled(BLOCK, 1_000), [Transition("created", None, N)], JAN_15
    )
    assert not created_non_marketing.blocked
    assert created_non_marketing.account.counts == UsageCounts(marketing=1_000, total=1_001)


# ---------------------------------------------------------------- T3


def test_t3_no_downgrade_on_deletes_nor_update_dates() -> None:
    change = plan_usage_change(filled(AUTO, 999, pending=400), creates(2_501), JAN_15)
    account = change.account
    assert account.tier_limit == 4_000
    account = plan_usage_change(account, deletes(2_000), JAN_15).account
    assert account.counts.marketing == 1_500
    assert account.tier_limit == 4_000
    # the update date of 1 Feb turns the 400 pending contacts non-marketing
    starts = update_instant(date(2024, 2, 1), "UTC")
    update = plan_usage_change(
        account, [Transition(f"pending-{i}", P, N) for i in range(400)], starts
    )
    assert update.tier_change is None
    account = roll_over(update.account, date(2024, 2, 1))
    assert account.counts.marketing == 1_100
    assert account.tier_limit == 4_000
    # the next upgrade starts from the tier kept, to the step holding the count
    change = plan_usage_change(
        account, creates(2_901, prefix="feb"), datetime(2024, 2, 5, tzinfo=UTC)
    )
    assert change.tier_change is not None
    assert (change.tier_change.from_limit, change.tier_change.to_limit) == (4_000, 5_000)


# ---------------------------------------------------------------- T6


def test_t6_block_refuses_a_whole_synchronous_batch_that_would_exceed() -> None:
    account = filled(BLOCK, 990)
    batch = [*creates(20), Transition("harmless", None, N)]
    change = plan_usage_change(account, batch, JAN_15)
    assert change.accepted == ()
    assert change.refused == tuple(batch)
    assert change.blocked
    assert change.account.counts == account.counts  # nothing applied
    assert change.account.tier_limit == 1_000
    assert change.tier_change is None
    assert alert_kinds(change) == [TierAlertKind.UPGRADE_BLOCKED]
    assert change.alerts[0].tier_limit == 1_000


def test_t6_block_accepts_a_batch_that_fits_exactly() -> None:
    change = plan_usage_change(filled(BLOCK, 990), creates(10), JAN_15)
    assert change.refused == ()
    assert change.account.counts.marketing == 1_000
    assert TierAlertKind.UPGRADE_BLOCKED not in alert_kinds(change)


def test_t6_block_judges_a_synchronous_batch_by_its_outcome() -> None:
    # 990 - 5 + 15 = 1,000: the change as a whole does not exceed the tier
    batch = [*deletes(5), *creates(15)]
    change = plan_usage_change(filled(BLOCK, 990), batch, JAN_15)
    assert change.accepted == tuple(batch)
    assert change.account.counts.marketing == 1_000


def test_t6_block_partial_applies_what_fits_in_order_and_refuses_the_rest() -> None:
    account = filled(BLOCK, 990, pending=1)
    fits = creates(10)
    too_many = Transition("too-many", None, M)
    back_to_m = Transition("pending-0", P, M)  # no count change: always fits
    non_marketing = Transition("non-marketing", None, N)
    also_too_many = Transition("also-too-many", N, M)
    batch = [*fits, too_many, back_to_m, non_marketing, also_too_many]

    change = plan_usage_change(account, batch, JAN_15, partial=True)

    assert change.accepted == (*fits, back_to_m, non_marketing)
    assert change.refused == (too_many, also_too_many)
    assert change.account.counts == UsageCounts(marketing=1_000, pending=0, total=1_001)
    assert change.account.tier_limit == 1_000
    assert change.tier_change is None
    assert TierAlertKind.UPGRADE_BLOCKED in alert_kinds(change)


def test_t6_block_partial_uses_room_freed_earlier_in_the_selection() -> None:
    account = filled(BLOCK, 1_000)
    first, second = Transition("first", None, M), Transition("second", None, M)
    freed = Transition("old-0", M, None)
    change = plan_usage_change(account, [first, freed, second], JAN_15, partial=True)
    assert change.refused == (first,)
    assert change.accepted == (freed, second)
    assert change.account.counts.marketing == 1_000


@pytest.mark.parametrize("partial", [False, True])
@pytest.mark.parametrize(
    "batch",
    [
        pytest.param(deletes(3), id="deletes"),
        pytest.param([Transition("m", M, P)] * 3, id="set-NON_MARKETING"),
        pytest.param([Transition("p", P, N)] * 3, id="update-date"),
        pytest.param([Transition("p", P, None), Transition("n", N, None)], id="mixed"),
    ],
)
def test_t6_decreasing_batches_under_block_are_always_allowed(
    batch: list[Transition], partial: bool
) -> None:
    # the tier was lowered by configuration below the count: still over the limit after
    account = replace(
        filled(BLOCK, 1_000, pending=10),
        tier_limit=900,
        counts=UsageCounts(marketing=1_000, pending=10, total=1_010),
    )
    change = plan_usage_change(account, batch, JAN_15, partial=partial)
    assert change.accepted == tuple(batch)
    assert change.refused == ()
    assert TierAlertKind.UPGRADE_BLOCKED not in alert_kinds(change)
    assert change.account.counts.marketing <= account.counts.marketing


@pytest.mark.parametrize("partial", [False, True])
def test_t6_block_never_upgrades(partial: bool) -> None:
    change = plan_usage_change(filled(BLOCK, 1_000), creates(5_000), JAN_15, partial=partial)
    assert change.tier_change is None
    assert change.account.tier_limit == 1_000
    assert change.account.counts.marketing == 1_000
    assert len(change.refused) == 5_000


def test_t6_block_applies_to_every_edition() -> None:
    account = open_account(
        id="pro", name="Pro", now=OPENED, edition=Edition.PROFESSIONAL, upgrade_policy=BLOCK
    )
    assert account.tier_limit == 2_000
    change = plan_usage_change(account, creates(2_001), JAN_15)
    assert change.accepted == ()
    assert change.account.counts.marketing == 0

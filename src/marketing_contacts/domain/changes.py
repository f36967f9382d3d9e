"""What a batch of contact transitions does to an account: counts, tier, alerts (T1-T6, A1-A2).

Every write that moves the counters goes through `plan_usage_change`, whatever the path (create,
delete, setMarketingStatus, bulk chunks, update dates), so the rules hold the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.alerts import (
    EXCEEDED,
    AlertState,
    TierAlert,
    TierAlertKind,
    raise_threshold_alerts,
    raise_upgrade_blocked,
)
from marketing_contacts.domain.tiers import TierChange, UpgradePolicy, upgrade
from marketing_contacts.domain.usage import Transition, UsageCounts


@dataclass(frozen=True)
class UsageChange:
    """The decided outcome: the account after, which transitions apply, and what they raise."""

    account: Account
    accepted: tuple[Transition, ...]
    refused: tuple[Transition, ...] = ()
    tier_change: TierChange | None = None
    alerts: tuple[TierAlert, ...] = ()

    @property
    def blocked(self) -> bool:
        return bool(self.refused)


def plan_usage_change(
    account: Account,
    transitions: Sequence[Transition],
    now: datetime,
    *,
    partial: bool = False,
) -> UsageChange:
    """Decide a batch of transitions against the account's tier.

    AUTO (T2): everything applies; a count past the tier upgrades it to the smallest step that
    holds it. BLOCK (T6): a batch that would exceed the tier is refused whole, or with `partial`
    (bulk operations) applies what fits in order and refuses the rest; either way the account
    records an UPGRADE_BLOCKED alert once per period.
    """
    if not transitions:
        return UsageChange(account=account, accepted=())
    period = account.period_at(now)
    accepted, refused, counts = _admit(account, transitions, partial=partial)
    alert_state = account.alert_state.current(period.start, account.tier_limit)
    alerts: list[TierAlert] = []
    if refused:
        attempted = counts.marketing + sum(max(t.marketing_delta, 0) for t in refused)
        alert_state, raised = raise_upgrade_blocked(
            alert_state, marketing_contacts=attempted, tier_limit=account.tier_limit, at=now
        )
        alerts += raised
    tier_limit = account.tier_limit
    tier_change = None
    if counts.marketing > account.counts.marketing:
        alert_state, raised = raise_threshold_alerts(
            alert_state,
            account.alert_thresholds,
            marketing_contacts=counts.marketing,
            tier_limit=tier_limit,
            at=now,
        )
        alerts += raised
        if account.upgrade_policy is UpgradePolicy.AUTO:
            tier_change = upgrade(
                ladder=account.ladder,
                tier_limit=tier_limit,
                marketing_contacts=counts.marketing,
                at=now,
                today=account.today(now),
                period=period,
            )
    if tier_change is not None:
        tier_limit = tier_change.to_limit
        alert_state, raised = _after_upgrade(account, alert_state, tier_change, period.start)
        alerts += raised
    return UsageChange(
        account=replace(
            account,
            counts=counts,
            tier_limit=tier_limit,
            alert_state=alert_state,
            revision=account.revision + 1,
        ),
        accepted=tuple(accepted),
        refused=tuple(refused),
        tier_change=tier_change,
        alerts=tuple(alerts),
    )


def _admit(
    account: Account, transitions: Sequence[Transition], *, partial: bool
) -> tuple[list[Transition], list[Transition], UsageCounts]:
    counts = account.counts
    if account.upgrade_policy is UpgradePolicy.AUTO:
        for transition in transitions:
            counts = counts.apply(transition)
        return list(transitions), [], counts
    if not partial:
        final = counts
        for transition in transitions:
            final = final.apply(transition)
        if final.marketing > account.tier_limit and final.marketing > counts.marketing:
            return [], list(transitions), counts
        return list(transitions), [], final
    accepted: list[Transition] = []
    refused: list[Transition] = []
    for transition in transitions:
        after = counts.apply(transition)
        if transition.marketing_delta > 0 and after.marketing > account.tier_limit:
            refused.append(transition)
        else:
            accepted.append(transition)
            counts = after
    return accepted, refused, counts


def _after_upgrade(
    account: Account, alert_state: AlertState, tier_change: TierChange, period_start: date
) -> tuple[AlertState, list[TierAlert]]:
    """A2: every upgrade raises TIER_UPGRADED; the thresholds then count against the new limit."""
    upgraded = TierAlert(
        kind=TierAlertKind.TIER_UPGRADED,
        threshold=EXCEEDED,
        marketing_contacts=tier_change.marketing_contacts,
        tier_limit=tier_change.to_limit,
        at=tier_change.at,
        period_start=period_start,
    )
    state, raised = raise_threshold_alerts(
        alert_state.current(period_start, tier_change.to_limit),
        account.alert_thresholds,
        marketing_contacts=tier_change.marketing_contacts,
        tier_limit=tier_change.to_limit,
        at=tier_change.at,
    )
    return state, [upgraded, *raised]


def roll_over(account: Account, update_date: date) -> Account:
    """U4: after `update_date` is applied, the next one is due and the period's alerts reset."""
    return replace(
        account,
        next_update_date=account.schedule.next_after(update_date),
        # a late run keeps what changes since the date began raised in the new period
        alert_state=account.alert_state.current(update_date, account.tier_limit),
        revision=account.revision + 1,
    )

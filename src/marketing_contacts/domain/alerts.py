"""Tier alerts (A1, A2, A4)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from marketing_contacts.domain.errors import ErrorCode, refuse

DEFAULT_THRESHOLDS: tuple[int, ...] = (75, 90, 98, 100)
BANNER_THRESHOLD = 98
EXCEEDED = 100


class TierAlertKind(StrEnum):
    THRESHOLD_REACHED = "THRESHOLD_REACHED"
    TIER_EXCEEDED = "TIER_EXCEEDED"
    TIER_UPGRADED = "TIER_UPGRADED"
    UPGRADE_BLOCKED = "UPGRADE_BLOCKED"


@dataclass(frozen=True)
class TierAlert:
    kind: TierAlertKind
    threshold: int
    marketing_contacts: int
    tier_limit: int
    at: datetime
    period_start: date


@dataclass(frozen=True)
class AlertState:
    """What a period has raised already: thresholds per tier limit, and UPGRADE_BLOCKED once."""

    period_start: date
    tier_limit: int
    raised: frozenset[int] = frozenset()
    upgrade_blocked: bool = False

    def current(self, period_start: date, tier_limit: int) -> AlertState:
        """A2: a new period forgets everything; a new tier limit forgets the thresholds."""
        if period_start < self.period_start:  # a late update date never undoes a newer period
            return self
        if period_start != self.period_start:
            return AlertState(period_start=period_start, tier_limit=tier_limit)
        if tier_limit != self.tier_limit:
            return replace(self, tier_limit=tier_limit, raised=frozenset())
        return self


def threshold_reached(threshold: int, marketing_contacts: int, tier_limit: int) -> bool:
    """A1: below 100 a threshold is reached at t% of the tier; 100 means strictly exceeded."""
    if threshold >= EXCEEDED:
        return marketing_contacts > tier_limit
    return marketing_contacts * 100 >= tier_limit * threshold


def banner_visible(marketing_contacts: int, tier_limit: int) -> bool:
    """A4: the banner shows from 98% of the tier on."""
    return marketing_contacts * 100 >= tier_limit * BANNER_THRESHOLD


def raise_threshold_alerts(
    state: AlertState,
    thresholds: Iterable[int],
    *,
    marketing_contacts: int,
    tier_limit: int,
    at: datetime,
) -> tuple[AlertState, list[TierAlert]]:
    """A2: one alert per threshold reached and not yet raised for this period and tier limit."""
    alerts = [
        TierAlert(
            kind=TierAlertKind.TIER_EXCEEDED if t >= EXCEEDED else TierAlertKind.THRESHOLD_REACHED,
            threshold=t,
            marketing_contacts=marketing_contacts,
            tier_limit=tier_limit,
            at=at,
            period_start=state.period_start,
        )
        for t in sorted(thresholds)
        if t not in state.raised and threshold_reached(t, marketing_contacts, tier_limit)
    ]
    raised = state.raised | {alert.threshold for alert in alerts}
    return replace(state, raised=raised), alerts


def raise_upgrade_blocked(
    state: AlertState, *, marketing_contacts: int, tier_limit: int, at: datetime
) -> tuple[AlertState, list[TierAlert]]:
    """A2/T6: UPGRADE_BLOCKED once per period."""
    if state.upgrade_blocked:
        return state, []
    alert = TierAlert(
        kind=TierAlertKind.UPGRADE_BLOCKED,
        threshold=EXCEEDED,
        marketing_contacts=marketing_contacts,
        tier_limit=tier_limit,
        at=at,
        period_start=state.period_start,
    )
    return replace(state, upgrade_blocked=True), [alert]


def validate_thresholds(thresholds: Iterable[int]) -> tuple[int, ...]:
    """Each threshold is a percent from 1 to 100, none twice; returned in ascending order."""
    values = list(thresholds)
    for index, value in enumerate(values):
        if not 1 <= value <= 100:
            raise refuse(
                ErrorCode.INVALID,
                f"threshold {value} is not a percent from 1 to 100",
                "alert_thresholds",
                str(index),
            )
    if len(set(values)) != len(values):
        raise refuse(ErrorCode.INVALID, "thresholds repeat", "alert_thresholds")
    return tuple(sorted(values))

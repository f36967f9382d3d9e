"""Counting (T1): the account's counters and how a transition moves them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from marketing_contacts.domain.alerts import banner_visible
from marketing_contacts.domain.statuses import MarketingState


@dataclass(frozen=True)
class Transition:
    """A contact moving between states; None before means created, None after means deleted."""

    contact_id: str
    before: MarketingState | None
    after: MarketingState | None

    @property
    def marketing_delta(self) -> int:
        return _counts(self.after) - _counts(self.before)


def _counts(state: MarketingState | None) -> int:
    return 1 if state is not None and state.counts_toward_tier else 0


def _pending(state: MarketingState | None) -> int:
    return 1 if state is MarketingState.MARKETING_UNTIL_NEXT_UPDATE else 0


def _exists(state: MarketingState | None) -> int:
    return 0 if state is None else 1


@dataclass(frozen=True)
class UsageCounts:
    """The counters an account keeps: marketing = M + P, pending = P, total = all contacts."""

    marketing: int = 0
    pending: int = 0
    total: int = 0

    def apply(self, transition: Transition) -> UsageCounts:
        before, after = transition.before, transition.after
        return UsageCounts(
            marketing=self.marketing + _counts(after) - _counts(before),
            pending=self.pending + _pending(after) - _pending(before),
            total=self.total + _exists(after) - _exists(before),
        )

    @classmethod
    def of(cls, states: list[MarketingState]) -> UsageCounts:
        """A recount from the contacts' states (R3's reconciliation uses the same rule)."""
        return cls.tally(Counter(states))

    @classmethod
    def tally(cls, by_state: Mapping[MarketingState, int]) -> UsageCounts:
        """T1 from the number of contacts in each state: marketing = M + P, pending = P."""
        pending = by_state.get(MarketingState.MARKETING_UNTIL_NEXT_UPDATE, 0)
        return cls(
            marketing=by_state.get(MarketingState.MARKETING, 0) + pending,
            pending=pending,
            total=sum(by_state.values()),
        )


@dataclass(frozen=True)
class Usage:
    """What `Usage` shows: the counters against the tier."""

    counts: UsageCounts
    tier_limit: int
    next_update_date: date

    @property
    def marketing_contacts(self) -> int:
        return self.counts.marketing

    @property
    def pending_non_marketing(self) -> int:
        return self.counts.pending

    @property
    def non_marketing_contacts(self) -> int:
        return self.counts.total - self.counts.marketing

    @property
    def total_contacts(self) -> int:
        return self.counts.total

    @property
    def percent_of_tier(self) -> float:
        # one division of exact integers: 243 of 400 is 60.75, not 60.75000000000001
        return self.counts.marketing * 100 / self.tier_limit

    @property
    def projected_after_next_update(self) -> int:
        return self.counts.marketing - self.counts.pending

    @property
    def banner_visible(self) -> bool:
        return banner_visible(self.counts.marketing, self.tier_limit)

"""Tiers: the ladder, upgrades, proration and the BLOCK policy (T2-T6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from marketing_contacts.domain.update_dates import Period

CENT = Decimal("0.01")


class Edition(StrEnum):
    STARTER = "STARTER"
    PROFESSIONAL = "PROFESSIONAL"
    ENTERPRISE = "ENTERPRISE"


class UpgradePolicy(StrEnum):
    AUTO = "AUTO"
    BLOCK = "BLOCK"


@dataclass(frozen=True)
class Ladder:
    """The tier steps of an account: first_limit, first_limit + step, ... with monthly prices."""

    first_limit: int
    step: int
    first_price: Decimal
    step_price: Decimal

    def __post_init__(self) -> None:
        if self.first_limit < 1 or self.step < 1:
            raise ValueError("a ladder starts at 1 or more and grows by 1 or more")

    def limit_for(self, marketing_contacts: int) -> int:
        """T2: the smallest step that holds `marketing_contacts`."""
        if marketing_contacts <= self.first_limit:
            return self.first_limit
        steps = -(-(marketing_contacts - self.first_limit) // self.step)
        return self.first_limit + steps * self.step

    def monthly_price(self, tier_limit: int) -> Decimal:
        steps = -(-max(tier_limit - self.first_limit, 0) // self.step)
        return self.first_price + self.step_price * steps


#: T5 defaults. The reference publishes no ladder; prices are configuration.
DEFAULT_LADDERS: dict[Edition, Ladder] = {
    Edition.STARTER: Ladder(1_000, 1_000, Decimal("20.00"), Decimal("20.00")),
    Edition.PROFESSIONAL: Ladder(2_000, 5_000, Decimal("890.00"), Decimal("250.00")),
    Edition.ENTERPRISE: Ladder(10_000, 10_000, Decimal("3600.00"), Decimal("100.00")),
}


@dataclass(frozen=True)
class TierChange:
    """T2: the record of one upgrade."""

    from_limit: int
    to_limit: int
    at: datetime
    charge_date: date
    prorated_amount: Decimal
    marketing_contacts: int


def prorate(old_price: Decimal, new_price: Decimal, today: date, period: Period) -> Decimal:
    """T4: the price difference for the days left in the period (today included), to cents."""
    amount = (new_price - old_price) * period.days_left(today) / period.days
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def upgrade(
    *,
    ladder: Ladder,
    tier_limit: int,
    marketing_contacts: int,
    at: datetime,
    today: date,
    period: Period,
) -> TierChange | None:
    """T2/T3: the upgrade a count calls for, or None when the tier holds it (never a downgrade)."""
    if marketing_contacts <= tier_limit:
        return None
    new_limit = ladder.limit_for(marketing_contacts)
    return TierChange(
        from_limit=tier_limit,
        to_limit=new_limit,
        at=at,
        charge_date=today + timedelta(days=1),
        prorated_amount=prorate(
            ladder.monthly_price(tier_limit), ladder.monthly_price(new_limit), today, period
        ),
        marketing_contacts=marketing_contacts,
    )

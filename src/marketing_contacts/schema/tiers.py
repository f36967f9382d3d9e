"""Tiers: the upgrades of an account's tier and the alerts about it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import strawberry

from marketing_contacts.domain.alerts import TierAlert as DomainTierAlert
from marketing_contacts.domain.alerts import TierAlertKind
from marketing_contacts.domain.tiers import TierChange as DomainTierChange
from marketing_contacts.services.paging import Stored


@strawberry.type(description="An upgrade of the account's tier, and what it costs.")
class TierChange:
    id: strawberry.ID = strawberry.field(description="The change's id.")
    from_limit: int = strawberry.field(description="The tier limit before the upgrade.")
    to_limit: int = strawberry.field(
        description="The tier limit after it: the smallest tier of the edition that holds "
        "the count (tiers may be skipped)."
    )
    at: datetime = strawberry.field(description="When the tier was upgraded.")
    charge_date: date = strawberry.field(
        description="The day after the upgrade, in the account's time zone."
    )
    prorated_amount: Decimal = strawberry.field(
        description="What the upgrade costs until the next update date: the new tier's monthly "
        "price less the old one's, times the days left in the period (the upgrade day "
        "included), over the period's days; rounded half to even, to the cent."
    )
    marketing_contacts: int = strawberry.field(
        description="The marketing count that triggered the change."
    )

    @classmethod
    def of(cls, stored: Stored[DomainTierChange]) -> TierChange:
        change = stored.item
        return cls(
            id=strawberry.ID(stored.id),
            from_limit=change.from_limit,
            to_limit=change.to_limit,
            at=change.at,
            charge_date=change.charge_date,
            prorated_amount=change.prorated_amount,
            marketing_contacts=change.marketing_contacts,
        )


@strawberry.type(
    description="A notice about the account's tier: a threshold reached, the tier exceeded, "
    "upgraded, or an upgrade refused. Stored, and sent to tierAlerts subscribers at once."
)
class TierAlert:
    id: strawberry.ID = strawberry.field(description="The alert's id.")
    kind: TierAlertKind = strawberry.field(description="What the alert is about.")
    threshold: int = strawberry.field(
        description="Percent of the tier the alert is about (75, 90, 98, 100); 100 with "
        "TIER_EXCEEDED, TIER_UPGRADED and UPGRADE_BLOCKED."
    )
    marketing_contacts: int = strawberry.field(
        description="The marketing count when the alert was raised."
    )
    tier_limit: int = strawberry.field(
        description="The tier limit when the alert was raised (after the upgrade, for "
        "TIER_UPGRADED)."
    )
    at: datetime = strawberry.field(description="When the alert was raised.")
    period_start: date = strawberry.field(
        description="First day of the update period the alert belongs to."
    )

    @classmethod
    def of(cls, stored: Stored[DomainTierAlert]) -> TierAlert:
        alert = stored.item
        return cls(
            id=strawberry.ID(stored.id),
            kind=alert.kind,
            threshold=alert.threshold,
            marketing_contacts=alert.marketing_contacts,
            tier_limit=alert.tier_limit,
            at=alert.at,
            period_start=alert.period_start,
        )

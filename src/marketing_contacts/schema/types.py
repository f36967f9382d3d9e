"""The contract's object types, built from domain objects."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry

from marketing_contacts.domain.alerts import TierAlert as DomainTierAlert
from marketing_contacts.domain.alerts import TierAlertKind
from marketing_contacts.domain.statuses import HistoryEntry, MarketingStatus, StatusSourceType
from marketing_contacts.domain.tiers import TierChange as DomainTierChange
from marketing_contacts.domain.usage import Usage as DomainUsage
from marketing_contacts.services.paging import Page, Stored


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None

    @classmethod
    def of(cls, page: Page[Any]) -> PageInfo:
        return cls(
            has_next_page=page.has_next_page, end_cursor=page.cursors[-1] if page.cursors else None
        )


@strawberry.type
class Usage:
    marketing_contacts: int = strawberry.field(
        description="Contacts counted toward the tier now; contacts waiting to become "
        "non-marketing are included."
    )
    pending_non_marketing: int = strawberry.field(
        description="Marketing contacts that become non-marketing at the next update date."
    )
    non_marketing_contacts: int
    total_contacts: int
    tier_limit: int
    percent_of_tier: float = strawberry.field(description="marketingContacts / tierLimit * 100.")
    projected_after_next_update: int = strawberry.field(
        description="marketingContacts - pendingNonMarketing: the count right after the next "
        "update date."
    )
    next_update_date: date
    banner_visible: bool = strawberry.field(description="True from 98% of the tier on.")

    @classmethod
    def of(cls, usage: DomainUsage) -> Usage:
        return cls(
            marketing_contacts=usage.marketing_contacts,
            pending_non_marketing=usage.pending_non_marketing,
            non_marketing_contacts=usage.non_marketing_contacts,
            total_contacts=usage.total_contacts,
            tier_limit=usage.tier_limit,
            percent_of_tier=usage.percent_of_tier,
            projected_after_next_update=usage.projected_after_next_update,
            next_update_date=usage.next_update_date,
            banner_visible=usage.banner_visible,
        )


@strawberry.type
class TierChange:
    id: strawberry.ID
    from_limit: int
    to_limit: int
    at: datetime
    charge_date: date = strawberry.field(
        description="The day after the upgrade, in the account's time zone."
    )
    prorated_amount: Decimal
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


@strawberry.type
class TierAlert:
    id: strawberry.ID
    kind: TierAlertKind
    threshold: int = strawberry.field(
        description="Percent of the tier the alert is about (75, 90, 98, 100); 100 with "
        "TIER_EXCEEDED."
    )
    marketing_contacts: int
    tier_limit: int
    at: datetime
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


@strawberry.type
class StatusChange:
    at: datetime
    from_status: MarketingStatus
    to_status: MarketingStatus
    pending: bool = strawberry.field(
        description="True when the change was scheduled for the next update date instead of "
        "applied."
    )
    source_type: StatusSourceType
    source_id: str | None

    @classmethod
    def of(cls, entry: HistoryEntry) -> StatusChange:
        change = entry.change
        return cls(
            at=change.at,
            from_status=change.from_status,
            to_status=change.to_status,
            pending=change.pending,
            source_type=change.source.type,
            source_id=change.source.id,
        )


@strawberry.type
class StatusChangeEdge:
    cursor: str
    node: StatusChange


@strawberry.type
class StatusChangeConnection:
    edges: list[StatusChangeEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[HistoryEntry]) -> StatusChangeConnection:
        edges = [
            StatusChangeEdge(cursor=cursor, node=StatusChange.of(entry))
            for entry, cursor in zip(page.items, page.cursors, strict=True)
        ]
        return cls(edges=edges, page_info=PageInfo.of(page))


@strawberry.type
class TierChangeEdge:
    cursor: str
    node: TierChange


@strawberry.type
class TierChangeConnection:
    edges: list[TierChangeEdge]
    page_info: PageInfo


@strawberry.type
class TierAlertEdge:
    cursor: str
    node: TierAlert


@strawberry.type
class TierAlertConnection:
    edges: list[TierAlertEdge]
    page_info: PageInfo

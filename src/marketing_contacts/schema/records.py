"""Account and Contact: the types whose fields read more through the services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime

import strawberry

from marketing_contacts.domain.accounts import Account as DomainAccount
from marketing_contacts.domain.contacts import Contact as DomainContact
from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.statuses import MarketingStatus, StatusSourceType
from marketing_contacts.domain.tiers import Edition, UpgradePolicy
from marketing_contacts.domain.update_dates import CommitmentTerm
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.types import (
    PageInfo,
    StatusChangeConnection,
    TierAlert,
    TierAlertConnection,
    TierAlertEdge,
    TierChange,
    TierChangeConnection,
    TierChangeEdge,
    Usage,
)


@strawberry.type(description="The marketing status a creation source gives new contacts.")
class CreationDefault:
    source: CreationSource
    marketing_status: MarketingStatus


@strawberry.type
class Account:
    id: strawberry.ID
    name: str
    edition: Edition
    commitment_term: CommitmentTerm
    timezone: str = strawberry.field(
        description="IANA zone name, e.g. Europe/Amsterdam; update dates start at 00:00 there."
    )
    tier_limit: int
    next_update_date: date
    upgrade_policy: UpgradePolicy
    alert_thresholds: list[int] = strawberry.field(
        description="Percents of the tier that raise an alert once per update period."
    )
    usage: Usage
    creation_defaults: list[CreationDefault] = strawberry.field(
        description="The default marketing status of every creation source (D1, D2)."
    )

    @strawberry.field
    async def tier_changes(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> TierChangeConnection:
        page = await info.context.services.accounts.tier_changes(
            info.context.caller, _first(first, 20), after
        )
        edges = [
            TierChangeEdge(cursor=cursor, node=TierChange.of(item))
            for item, cursor in zip(page.items, page.cursors, strict=True)
        ]
        return TierChangeConnection(edges=edges, page_info=PageInfo.of(page))

    @strawberry.field
    async def alerts(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> TierAlertConnection:
        page = await info.context.services.accounts.alerts(
            info.context.caller, _first(first, 20), after
        )
        edges = [
            TierAlertEdge(cursor=cursor, node=TierAlert.of(item))
            for item, cursor in zip(page.items, page.cursors, strict=True)
        ]
        return TierAlertConnection(edges=edges, page_info=PageInfo.of(page))

    @classmethod
    def of(cls, account: DomainAccount) -> Account:
        return cls(
            id=strawberry.ID(account.id),
            name=account.name,
            edition=account.edition,
            commitment_term=account.commitment_term,
            timezone=account.timezone,
            tier_limit=account.tier_limit,
            next_update_date=account.next_update_date,
            upgrade_policy=account.upgrade_policy,
            alert_thresholds=list(account.alert_thresholds),
            usage=Usage.of(account.usage),
            creation_defaults=[
                CreationDefault(source=source, marketing_status=status)
                for source, status in account.creation_defaults.all().items()
            ],
        )


def _first(first: int | None, default: int) -> int:
    """`first: Int = N` in the contract: an explicit null means the default."""
    return default if first is None else first


@strawberry.type
class Contact:
    id: strawberry.ID
    email: str | None
    first_name: str | None
    last_name: str | None
    job_title: str | None
    company_name: str | None = strawberry.field(
        description="Free text; independent of company associations."
    )
    owner_id: strawberry.ID | None
    lifecycle_stage: LifecycleStage | None
    created_via: CreationSource
    created_at: datetime
    updated_at: datetime
    marketing_status: MarketingStatus
    marketing_until_next_update: bool = strawberry.field(
        description="True while the contact is marketing but becomes non-marketing at the next "
        "update date."
    )
    status_source_type: StatusSourceType
    status_source_id: str | None = strawberry.field(
        description="Id of the user, operation, form, import or integration that set the "
        "status last."
    )
    status_changed_at: datetime
    email_hard_bounced: bool
    unsubscribed_from_all: bool
    #: the sequence of its newest history entry, as read: where its first history page starts
    status_seq: strawberry.Private[int]

    @strawberry.field
    async def status_history(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> StatusChangeConnection:
        size = _first(first, 20)
        if after is None:
            page = await info.context.first_history_pages.load(
                (str(self.id), self.status_seq, size)
            )
        else:
            page = await info.context.services.contacts.history(
                info.context.caller, str(self.id), size, after
            )
        return StatusChangeConnection.of(page)

    @classmethod
    def of(cls, contact: DomainContact) -> Contact:
        return cls(
            id=strawberry.ID(contact.id),
            email=contact.email,
            first_name=contact.first_name,
            last_name=contact.last_name,
            job_title=contact.job_title,
            company_name=contact.company_name,
            owner_id=None if contact.owner_id is None else strawberry.ID(contact.owner_id),
            lifecycle_stage=contact.lifecycle_stage,
            created_via=contact.created_via,
            created_at=contact.created_at,
            updated_at=contact.updated_at,
            marketing_status=contact.marketing_status,
            marketing_until_next_update=contact.marketing_until_next_update,
            status_source_type=contact.status_source.type,
            status_source_id=contact.status_source.id,
            status_changed_at=contact.status_changed_at,
            email_hard_bounced=contact.email_hard_bounced,
            unsubscribed_from_all=contact.unsubscribed_from_all,
            status_seq=contact.status_seq,
        )


@strawberry.type
class ContactEdge:
    cursor: str
    node: Contact


@strawberry.type
class ContactConnection:
    edges: list[ContactEdge]
    page_info: PageInfo
    #: counted only when a client asks for totalCount
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    async def total_count(self) -> int:
        return await self.count()

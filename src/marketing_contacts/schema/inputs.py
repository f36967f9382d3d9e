"""The contract's input types, and their translation into service requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import MarketingStatus, StatusSourceType
from marketing_contacts.domain.tiers import UpgradePolicy
from marketing_contacts.services.accounts import AccountSettings
from marketing_contacts.services.contacts import EDITABLE_FIELDS, ContactDraft, ContactEdit


@strawberry.input(name="ContactFilter")
class ContactFilterInput:
    marketing_status: MarketingStatus | None = None
    marketing_until_next_update: bool | None = None
    email_domain: str | None = strawberry.field(
        default=None, description="Exact domain after the @, case-insensitive."
    )
    lifecycle_stage: LifecycleStage | None = None
    owner_id: strawberry.ID | None = None
    created_via: CreationSource | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    email_hard_bounced: bool | None = None
    unsubscribed_from_all: bool | None = None
    list_id: strawberry.ID | None = strawberry.field(
        default=None, description="Members of this list."
    )

    def to_filter(self) -> ContactFilter:
        return ContactFilter(
            marketing_status=self.marketing_status,
            marketing_until_next_update=self.marketing_until_next_update,
            email_domain=self.email_domain,
            lifecycle_stage=self.lifecycle_stage,
            owner_id=self.owner_id,
            created_via=self.created_via,
            created_after=self.created_after,
            created_before=self.created_before,
            email_hard_bounced=self.email_hard_bounced,
            unsubscribed_from_all=self.unsubscribed_from_all,
            list_id=self.list_id,
        )


@strawberry.input
class CreateContactInput:
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    job_title: str | None = None
    company_name: str | None = None
    owner_id: strawberry.ID | None = None
    lifecycle_stage: LifecycleStage | None = None
    created_via: CreationSource | None = CreationSource.API
    marketing_status: MarketingStatus | None = strawberry.field(
        default=None, description="Omitted: the default for createdVia (D1, D2 in docs/rules.md)."
    )
    email_hard_bounced: bool | None = False
    unsubscribed_from_all: bool | None = False

    def to_draft(self) -> ContactDraft:
        return ContactDraft(
            created_via=self.created_via or CreationSource.API,
            marketing_status=self.marketing_status,
            email=self.email,
            first_name=self.first_name,
            last_name=self.last_name,
            job_title=self.job_title,
            company_name=self.company_name,
            owner_id=self.owner_id,
            lifecycle_stage=self.lifecycle_stage,
            email_hard_bounced=bool(self.email_hard_bounced),
            unsubscribed_from_all=bool(self.unsubscribed_from_all),
        )


@strawberry.input
class UpdateContactInput:
    """Fields left out stay as they are; null clears a field."""

    email: str | None = strawberry.UNSET
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    job_title: str | None = strawberry.UNSET
    company_name: str | None = strawberry.UNSET
    owner_id: strawberry.ID | None = strawberry.UNSET
    lifecycle_stage: LifecycleStage | None = strawberry.UNSET
    email_hard_bounced: bool | None = strawberry.UNSET
    unsubscribed_from_all: bool | None = strawberry.UNSET
    marketing_status: MarketingStatus | None = strawberry.field(
        default=strawberry.UNSET,
        description="Changes the status by the same rules as setMarketingStatus (source USER).",
    )

    def to_edit(self) -> ContactEdit:
        given: dict[str, Any] = {
            name: getattr(self, name)
            for name in EDITABLE_FIELDS
            if getattr(self, name) is not strawberry.UNSET
        }
        for flag in ("email_hard_bounced", "unsubscribed_from_all"):
            if given.get(flag, False) is None:
                given[flag] = False
        status = None if self.marketing_status is strawberry.UNSET else self.marketing_status
        return ContactEdit(changes=given, marketing_status=status)


@strawberry.input
class SetMarketingStatusInput:
    contact_ids: list[strawberry.ID] = strawberry.field(
        description="At most 100 ids; more is a TOO_MANY error and nothing changes."
    )
    status: MarketingStatus
    source_type: StatusSourceType | None = StatusSourceType.USER
    source_id: str | None = None


@strawberry.input(description="The default marketing status of one creation source (D2).")
class CreationDefaultInput:
    source: CreationSource
    marketing_status: MarketingStatus


@strawberry.input
class AccountSettingsInput:
    name: str | None = None
    timezone: str | None = None
    upgrade_policy: UpgradePolicy | None = None
    alert_thresholds: list[int] | None = None
    creation_defaults: list[CreationDefaultInput] | None = strawberry.field(
        default=None,
        description="Default statuses to change; contacts created afterwards take them. The "
        "sources that always create non-marketing contacts cannot be MARKETING.",
    )

    def to_settings(self) -> AccountSettings:
        return AccountSettings(
            name=self.name,
            timezone=self.timezone,
            upgrade_policy=self.upgrade_policy,
            alert_thresholds=None
            if self.alert_thresholds is None
            else tuple(self.alert_thresholds),
            creation_defaults=None
            if self.creation_defaults is None
            else tuple((d.source, d.marketing_status) for d in self.creation_defaults),
        )

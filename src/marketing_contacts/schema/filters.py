"""The contact filter: which contacts a page, a count or a bulk selection reads."""

from __future__ import annotations

from datetime import datetime

import strawberry

from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import MarketingStatus


@strawberry.input(
    name="ContactFilter",
    description="Contacts for which every field given holds; fields left out or null select "
    "every contact.",
)
class ContactFilterInput:
    marketing_status: MarketingStatus | None = strawberry.field(
        default=None, description="Contacts with this marketing status."
    )
    marketing_until_next_update: bool | None = strawberry.field(
        default=None,
        description="True: marketing contacts that become non-marketing at the next update "
        "date; false: every other contact.",
    )
    email_domain: str | None = strawberry.field(
        default=None, description="Exact domain after the @, case-insensitive."
    )
    lifecycle_stage: LifecycleStage | None = strawberry.field(
        default=None, description="Contacts at this lifecycle stage."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="Contacts this user owns."
    )
    created_via: CreationSource | None = strawberry.field(
        default=None, description="Contacts that came in this way."
    )
    created_after: datetime | None = strawberry.field(
        default=None, description="Contacts created after this instant (not at it)."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Contacts created before this instant (not at it)."
    )
    email_hard_bounced: bool | None = strawberry.field(
        default=None, description="Contacts whose email hard-bounced (true) or did not (false)."
    )
    unsubscribed_from_all: bool | None = strawberry.field(
        default=None,
        description="Contacts that unsubscribed from all email (true) or did not (false).",
    )
    list_id: strawberry.ID | None = strawberry.field(
        default=None, description="Members of this list."
    )
    company_id: strawberry.ID | None = strawberry.field(
        default=None, description="Contacts associated with this company."
    )
    search: str | None = strawberry.field(
        default=None,
        description="Case-insensitive prefix of the email, first name or last name; finds a "
        "record as soon as it is written (C11).",
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
            search=self.search,
            company_id=self.company_id,
        )

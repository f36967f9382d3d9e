"""Usage: an account's marketing contacts against its tier, now."""

from __future__ import annotations

from datetime import date

import strawberry

from marketing_contacts.domain.usage import Usage as DomainUsage
from marketing_contacts.schema.context import Info


@strawberry.type(
    description="An account's contacts counted against its tier, exact at the moment it is read."
)
class Usage:
    marketing_contacts: int = strawberry.field(
        description="Contacts counted toward the tier now; contacts waiting to become "
        "non-marketing are included."
    )
    pending_non_marketing: int = strawberry.field(
        description="Marketing contacts that become non-marketing at the next update date."
    )
    non_marketing_contacts: int = strawberry.field(
        description="Contacts that do not count toward the tier."
    )
    total_contacts: int = strawberry.field(description="Every contact of the account.")
    tier_limit: int = strawberry.field(description="How many marketing contacts the tier holds.")
    percent_of_tier: float = strawberry.field(description="marketingContacts / tierLimit * 100.")
    projected_after_next_update: int = strawberry.field(
        description="marketingContacts - pendingNonMarketing: the count right after the next "
        "update date."
    )
    next_update_date: date = strawberry.field(
        description="The day pending contacts become non-marketing; it starts at 00:00 in the "
        "account's time zone."
    )
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
class UsageQueries:
    @strawberry.field(description="The usage of the caller's account.")
    async def usage(self, info: Info) -> Usage:
        return Usage.of(await info.context.services.usage.usage(info.context.caller))

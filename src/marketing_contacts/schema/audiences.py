"""Channel audiences in the schema (H1, H2): the counts, and the reachable contacts as a
connection."""

from __future__ import annotations

from typing import Annotated

import strawberry

from marketing_contacts.domain.bulk import Selection
from marketing_contacts.domain.channels import AudienceCounts, Channel, Exclusion
from marketing_contacts.schema.bulk import ContactSelection
from marketing_contacts.schema.connections import After, Connection, First, connection, first_or
from marketing_contacts.schema.contacts import Contact
from marketing_contacts.schema.context import Info


@strawberry.type(
    description="Who of a selection a channel may reach, and how many it leaves out for each "
    "reason; a contact left out for several reasons is counted under the first of "
    "non-marketing, unengaged, no email. matched = reachable + the three exclusions. Only the "
    "contacts the caller sees are counted."
)
class Audience:
    channel: Channel = strawberry.field(description="The channel asked about.")
    matched: int = strawberry.field(description="Contacts of the selection.")
    reachable: int = strawberry.field(description="Contacts the channel may reach.")
    excluded_non_marketing: int = strawberry.field(
        description="Left out for being non-marketing (H1)."
    )
    excluded_unengaged: int = strawberry.field(
        description="Left out for having unsubscribed from all email or hard-bounced (H2)."
    )
    excluded_no_email: int = strawberry.field(
        description="Left out for having no email address, on email channels (H2)."
    )
    selection: strawberry.Private[Selection]

    @strawberry.field(description="The reachable contacts.")
    async def contacts(
        self, info: Info, first: First = 50, after: After = None
    ) -> Connection[Contact]:
        audiences, caller = info.context.services.audiences, info.context.caller
        page = await audiences.reachable(
            caller, self.channel, self.selection, first_or(first, 50), after
        )
        reachable = self.reachable

        async def count() -> int:
            return reachable

        return connection(page, Contact.of, count)

    @classmethod
    def of(cls, channel: Channel, selection: Selection, counts: AudienceCounts) -> Audience:
        return cls(
            channel=channel,
            matched=counts.matched,
            reachable=counts.reachable,
            excluded_non_marketing=counts.excluded_for(Exclusion.NON_MARKETING),
            excluded_unengaged=counts.excluded_for(Exclusion.UNENGAGED),
            excluded_no_email=counts.excluded_for(Exclusion.NO_EMAIL),
            selection=selection,
        )


@strawberry.type
class AudienceQueries:
    @strawberry.field(
        description="Who of the selection the channel may reach, and who it leaves out and "
        "why (H1, H2)."
    )
    async def audience(
        self,
        info: Info,
        channel: Annotated[Channel, strawberry.argument(description="The channel to reach.")],
        selection: Annotated[
            ContactSelection,
            strawberry.argument(description="The contacts the channel would be used on."),
        ],
    ) -> Audience:
        ctx = info.context
        selected = selection.to_selection()
        counts = await ctx.services.audiences.counts(ctx.caller, channel, selected)
        return Audience.of(channel, selected, counts)

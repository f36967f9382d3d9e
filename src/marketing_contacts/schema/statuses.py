"""Marketing statuses: setting them on a few contacts at once, all or nothing."""

from __future__ import annotations

from typing import Annotated

import strawberry

from marketing_contacts.domain.statuses import MarketingStatus, StatusSourceType
from marketing_contacts.schema.contacts import Contact
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.errors import UserError, attempt
from marketing_contacts.schema.usage import Usage


@strawberry.input(description="A marketing status for up to 100 contacts.")
class SetMarketingStatusInput:
    contact_ids: list[strawberry.ID] = strawberry.field(
        description="At most 100 ids; more is a TOO_MANY error and nothing changes."
    )
    status: MarketingStatus = strawberry.field(
        description="MARKETING counts at once (marketing access needed, the tier checked); "
        "NON_MARKETING makes marketing contacts pending until the next update date."
    )
    source_type: StatusSourceType | None = strawberry.field(
        default=StatusSourceType.USER,
        description="The kind of tool making the change; the kinds the service sets itself "
        "(BULK_OPERATION, CREATION_DEFAULT, UPDATE_DATE, MERGE) are INVALID.",
    )
    source_id: str | None = strawberry.field(
        default=None,
        description="Id of the form, import, integration or workflow making the change; with "
        "USER, the id of the token's user is recorded instead.",
    )


@strawberry.type(description="The result of setMarketingStatus.")
class SetMarketingStatusPayload:
    contacts: list[Contact] = strawberry.field(
        description="The contacts as they are after the change, in the order of contactIds "
        "(each once); empty on a userError."
    )
    usage: Usage | None = strawberry.field(
        description="The account's usage after the change; null on a userError."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing changed; empty on success."
    )


@strawberry.type
class StatusMutations:
    @strawberry.mutation(
        description="Applies at once (within the update-date rule) to at most 100 contacts; "
        "all or nothing on a userError."
    )
    async def set_marketing_status(
        self,
        info: Info,
        input: Annotated[
            SetMarketingStatusInput,
            strawberry.argument(description="The contacts and the status to set."),
        ],
    ) -> SetMarketingStatusPayload:
        ctx = info.context
        result = await attempt(
            info,
            ctx.services.statuses.set_marketing_status(
                ctx.caller,
                [str(cid) for cid in input.contact_ids],
                input.status,
                input.source_type or StatusSourceType.USER,
                input.source_id,
            ),
        )
        if isinstance(result, list):
            return SetMarketingStatusPayload(contacts=[], usage=None, user_errors=result)
        return SetMarketingStatusPayload(
            contacts=[Contact.of(c) for c in result.contacts],
            usage=Usage.of(result.usage),
            user_errors=[],
        )

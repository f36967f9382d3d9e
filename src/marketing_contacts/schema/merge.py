"""Merging two contacts (C10): mergeContacts, whose rules are services.merge's."""

from __future__ import annotations

from typing import Annotated

import strawberry

from marketing_contacts.schema.contacts import ContactPayload, contact_payload
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.errors import attempt


@strawberry.input(description="The two contacts of a merge (C10), both seen by the caller.")
class MergeContactsInput:
    primary_id: strawberry.ID = strawberry.field(
        description="The contact that stays, with its id: the secondary is merged into it."
    )
    secondary_id: strawberry.ID = strawberry.field(
        description="The contact merged into the primary: it leaves the count, its id is not "
        "found afterwards and its address is free (unless the primary, having none, takes it); "
        "another contact than the primary (INVALID otherwise)."
    )


@strawberry.type
class MergeMutations:
    @strawberry.mutation(
        description="C10: the primary stays; the secondary is merged into it and leaves the count."
    )
    async def merge_contacts(
        self,
        info: Info,
        input: Annotated[
            MergeContactsInput, strawberry.argument(description="The primary and the secondary.")
        ],
    ) -> ContactPayload:
        ctx = info.context
        merging = ctx.services.merger.merge(
            ctx.caller, str(input.primary_id), str(input.secondary_id)
        )
        return contact_payload(await attempt(info, merging))

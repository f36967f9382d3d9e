"""The audit log (P4): its entries, and the query admins read them with."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from marketing_contacts.domain.audit import AuditEntry as DomainAuditEntry
from marketing_contacts.schema.connections import After, Connection, First, connection, first_or
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.users import Loaders, User


@strawberry.type(description="One write: who made it, what it wrote, when, in which request.")
class AuditEntry:
    id: strawberry.ID = strawberry.field(description="The entry's id.")
    at: datetime = strawberry.field(description="When the write was made.")
    token_id: strawberry.ID | None = strawberry.field(
        description="The token the write came with; null for a background write."
    )
    action: str = strawberry.field(
        description="The mutation or background job that wrote, e.g. setMarketingStatus, "
        "bulkOperation (a page of an operation), updateDate, deleteList."
    )
    record_ids: list[strawberry.ID] = strawberry.field(description="Ids of the records written.")
    request_id: str | None = strawberry.field(
        description="The request's id (the X-Request-Id of its answer); null for a background "
        "write."
    )
    user_id: strawberry.Private[str | None]
    loaders: strawberry.Private[Loaders]

    @strawberry.field(
        description="The user who wrote, or who started the background work that wrote; null "
        "for the service's own work (update dates)."
    )
    async def user(self) -> User | None:
        if self.user_id is None:
            return None
        user = await self.loaders.users.load(self.user_id)
        return None if user is None else User.of(user, self.loaders)

    @classmethod
    def of(cls, entry: DomainAuditEntry, loaders: Loaders) -> AuditEntry:
        actor = entry.actor
        return cls(
            id=strawberry.ID(entry.id),
            at=entry.at,
            token_id=None if actor.token_id is None else strawberry.ID(actor.token_id),
            action=entry.action,
            record_ids=[strawberry.ID(record_id) for record_id in entry.record_ids],
            request_id=actor.request_id,
            user_id=actor.user_id,
            loaders=loaders,
        )


RecordId = Annotated[
    strawberry.ID | None,
    strawberry.argument(description="Only the entries that wrote this record."),
]


@strawberry.type
class AuditQueries:
    @strawberry.field(
        description="Admins only (FORBIDDEN otherwise); newest first; recordId keeps the "
        "entries that wrote that record."
    )
    async def audit_log(
        self, info: Info, first: First = 50, after: After = None, record_id: RecordId = None
    ) -> Connection[AuditEntry]:
        ctx = info.context
        record = None if record_id is None else str(record_id)
        page = await ctx.services.audit.page(ctx.caller, record, first_or(first, 50), after)
        loaders = Loaders.of(info)
        return connection(
            page,
            lambda entry: AuditEntry.of(entry, loaders),
            lambda: ctx.services.audit.count(ctx.caller, record),
        )

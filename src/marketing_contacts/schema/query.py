"""The Query root: thin resolvers over the services."""

from __future__ import annotations

from typing import Annotated

import strawberry

from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.inputs import ContactFilterInput
from marketing_contacts.schema.records import Account, Contact, ContactConnection, ContactEdge
from marketing_contacts.schema.types import PageInfo, Usage


@strawberry.type
class Query:
    @strawberry.field(description="The account of the caller's token.")
    async def account(self, info: Info) -> Account:
        return Account.of(await info.context.services.accounts.get(info.context.caller))

    @strawberry.field
    async def usage(self, info: Info) -> Usage:
        return Usage.of(await info.context.services.usage.usage(info.context.caller))

    @strawberry.field
    async def contact(self, info: Info, id: strawberry.ID) -> Contact | None:
        found = await info.context.services.contacts.get(info.context.caller, str(id))
        return None if found is None else Contact.of(found)

    @strawberry.field(description="first: 1 to 200.")
    async def contacts(
        self,
        info: Info,
        where: Annotated[ContactFilterInput | None, strawberry.argument(name="filter")] = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> ContactConnection:
        contacts = info.context.services.contacts
        caller = info.context.caller
        selection = where.to_filter() if where is not None else ContactFilter()
        page = await contacts.page(caller, selection, 50 if first is None else first, after)
        edges = [
            ContactEdge(cursor=cursor, node=Contact.of(item))
            for item, cursor in zip(page.items, page.cursors, strict=True)
        ]
        return ContactConnection(
            edges=edges,
            page_info=PageInfo.of(page),
            count=lambda: contacts.count(caller, selection),
        )

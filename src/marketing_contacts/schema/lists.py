"""Static lists of contacts: their type, queries and mutations.

A list's `size` is stored with the list and moved with its membership (services.lists), so a
page of lists and their sizes is one read of the lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

import strawberry

from marketing_contacts.schema.connections import After, Connection, First, connection, first_or
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.errors import UserError, attempt
from marketing_contacts.services.ports.lists import ContactList as DomainContactList

ListId = Annotated[strawberry.ID, strawberry.argument(description="The list's id.")]
ContactIds = Annotated[
    list[strawberry.ID],
    strawberry.argument(
        description="Contacts of the caller's account, at most 10,000 (an id given twice is "
        "one contact); one that is not found is NOT_FOUND and nothing changes."
    ),
]


@strawberry.type(description="A static list: the contacts added to it, until they are removed.")
class ContactList:
    id: strawberry.ID = strawberry.field(description="The list's id.")
    name: str = strawberry.field(description="The list's name.")
    created_at: datetime = strawberry.field(description="When the list was created.")
    size: int = strawberry.field(description="How many contacts are in the list.")

    @classmethod
    def of(cls, contact_list: DomainContactList) -> ContactList:
        return cls(
            id=strawberry.ID(contact_list.id),
            name=contact_list.name,
            created_at=contact_list.created_at,
            size=contact_list.size,
        )


@strawberry.type(description="The result of a change to a list.")
class ContactListPayload:
    contact_list: ContactList | None = strawberry.field(
        name="list", description="The list after the change; null when userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing changed; empty on success."
    )


@strawberry.type(description="The result of deleteList.")
class DeleteContactListPayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        description="The id of the deleted list; null when userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was deleted; empty on success."
    )


def _payload(info: Info, result: DomainContactList | list[UserError]) -> ContactListPayload:
    if isinstance(result, list):
        return ContactListPayload(contact_list=None, user_errors=result)
    return ContactListPayload(contact_list=ContactList.of(result), user_errors=[])


def _ids(contact_ids: Sequence[strawberry.ID]) -> list[str]:
    return [str(cid) for cid in contact_ids]


@strawberry.type
class ListQueries:
    @strawberry.field(
        name="list", description="A list of the caller's account; null when none has this id."
    )
    async def contact_list(self, info: Info, id: ListId) -> ContactList | None:
        found = await info.context.services.lists.get(info.context.caller, str(id))
        return None if found is None else ContactList.of(found)

    @strawberry.field(description="The caller's lists, newest first.")
    async def lists(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[ContactList]:
        lists, caller = info.context.services.lists, info.context.caller
        page = await lists.page(caller, first_or(first, 20), after)
        return connection(page, ContactList.of, lambda: lists.count(caller))


@strawberry.type
class ListMutations:
    @strawberry.mutation(
        description="A static list of the caller's contacts; at most 10,000 contact ids, each a "
        "contact of the account, else nothing is created."
    )
    async def create_list(
        self,
        info: Info,
        name: Annotated[
            str,
            strawberry.argument(
                description="The list's name: 1 to 200 characters once trimmed, no control "
                "characters."
            ),
        ],
        contact_ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(
                description="The first members, at most 10,000, each a contact of the account."
            ),
        ] = [],  # noqa: B006 (a GraphQL default, never mutated)
    ) -> ContactListPayload:
        ctx = info.context
        result = await attempt(info, ctx.services.lists.create(ctx.caller, name, _ids(contact_ids)))
        return _payload(info, result)

    @strawberry.mutation(
        description="Contacts already in the list stay; at most 10,000 ids, all or nothing."
    )
    async def add_contacts_to_list(
        self, info: Info, list_id: ListId, contact_ids: ContactIds
    ) -> ContactListPayload:
        ctx = info.context
        result = await attempt(
            info, ctx.services.lists.add(ctx.caller, str(list_id), _ids(contact_ids))
        )
        return _payload(info, result)

    @strawberry.mutation(
        description="Contacts not in the list are ignored; at most 10,000 ids, all or nothing."
    )
    async def remove_contacts_from_list(
        self, info: Info, list_id: ListId, contact_ids: ContactIds
    ) -> ContactListPayload:
        ctx = info.context
        result = await attempt(
            info, ctx.services.lists.remove(ctx.caller, str(list_id), _ids(contact_ids))
        )
        return _payload(info, result)

    @strawberry.mutation(description="Deletes the list and every contact's membership of it.")
    async def delete_list(self, info: Info, id: ListId) -> DeleteContactListPayload:
        ctx = info.context
        result = await attempt(info, ctx.services.lists.delete(ctx.caller, str(id)))
        if isinstance(result, list):
            return DeleteContactListPayload(deleted_id=None, user_errors=result)
        return DeleteContactListPayload(deleted_id=strawberry.ID(result), user_errors=[])

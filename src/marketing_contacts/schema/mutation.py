"""The Mutation root: expected failures come back as userErrors, nothing half-applied."""

from __future__ import annotations

import strawberry

from marketing_contacts.domain.statuses import StatusSourceType
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.errors import UserError, attempt
from marketing_contacts.schema.inputs import (
    AccountSettingsInput,
    CreateContactInput,
    SetMarketingStatusInput,
    UpdateContactInput,
)
from marketing_contacts.schema.records import Account, Contact
from marketing_contacts.schema.types import Usage


@strawberry.type
class ContactPayload:
    contact: Contact | None
    user_errors: list[UserError]


@strawberry.type
class DeleteContactPayload:
    deleted_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.type
class SetMarketingStatusPayload:
    contacts: list[Contact]
    usage: Usage | None
    user_errors: list[UserError]


@strawberry.type
class AccountPayload:
    account: Account | None
    user_errors: list[UserError]


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_contact(self, info: Info, input: CreateContactInput) -> ContactPayload:
        ctx = info.context
        result = await attempt(info, ctx.services.contacts.create(ctx.caller, input.to_draft()))
        if isinstance(result, list):
            return ContactPayload(contact=None, user_errors=result)
        return ContactPayload(contact=Contact.of(result), user_errors=[])

    @strawberry.mutation
    async def update_contact(
        self, info: Info, id: strawberry.ID, input: UpdateContactInput
    ) -> ContactPayload:
        ctx = info.context
        result = await attempt(
            info, ctx.services.contacts.update(ctx.caller, str(id), input.to_edit())
        )
        if isinstance(result, list):
            return ContactPayload(contact=None, user_errors=result)
        return ContactPayload(contact=Contact.of(result), user_errors=[])

    @strawberry.mutation
    async def delete_contact(self, info: Info, id: strawberry.ID) -> DeleteContactPayload:
        ctx = info.context
        result = await attempt(info, ctx.services.contacts.delete(ctx.caller, str(id)))
        if isinstance(result, list):
            return DeleteContactPayload(deleted_id=None, user_errors=result)
        return DeleteContactPayload(deleted_id=strawberry.ID(result), user_errors=[])

    @strawberry.mutation(
        description="Applies at once (within the update-date rule) to at most 100 contacts; "
        "all or nothing on a userError."
    )
    async def set_marketing_status(
        self, info: Info, input: SetMarketingStatusInput
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

    @strawberry.mutation
    async def update_account_settings(
        self, info: Info, input: AccountSettingsInput
    ) -> AccountPayload:
        ctx = info.context
        result = await attempt(
            info, ctx.services.accounts.update_settings(ctx.caller, input.to_settings())
        )
        if isinstance(result, list):
            return AccountPayload(account=None, user_errors=result)
        return AccountPayload(account=Account.of(result), user_errors=[])

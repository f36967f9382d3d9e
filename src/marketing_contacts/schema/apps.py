"""Chatflows and connected apps: their types, queries and mutations (F2, F3, F4).

The resolvers are thin: AppService decides (ADMIN to create or change a channel, marketing
access to turn its setting on) and ContactService creates the contacts that come in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from marketing_contacts.domain.apps import App, AppKind
from marketing_contacts.schema.contacts import ContactPayload, contact_payload
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.errors import UserError, attempt
from marketing_contacts.services.apps import Conversation

_NAME = "1 to 200 characters, trimmed"
_SETTING_ON = (
    "True: contacts created through it from now on are marketing; no existing contact changes "
    "(D2). Turning it on needs marketing access (F4)."
)
ChatflowId = Annotated[strawberry.ID, strawberry.argument(description="The chatflow's id.")]
IntegrationId = Annotated[strawberry.ID, strawberry.argument(description="The connected app's id.")]
Setting = Annotated[
    bool,
    strawberry.argument(
        description="The new setting: true needs marketing access (F4); no existing contact "
        "changes (D2)."
    ),
]


@strawberry.type(
    description="A chatflow of the account: a conversation started through it creates its "
    "contact via CHATFLOW (F2)."
)
class Chatflow:
    id: strawberry.ID = strawberry.field(description="The chatflow's id.")
    name: str = strawberry.field(description="The chatflow's name.")
    set_contacts_as_marketing: bool = strawberry.field(
        description="Whether contacts its conversations create are marketing (off by default, F2)."
    )

    @classmethod
    def of(cls, app: App) -> Chatflow:
        return cls(
            id=strawberry.ID(app.id),
            name=app.name,
            set_contacts_as_marketing=app.sets_marketing,
        )


@strawberry.type(
    description="A connected app of the account: contacts it creates come in via INTEGRATION (F3)."
)
class Integration:
    id: strawberry.ID = strawberry.field(description="The connected app's id.")
    name: str = strawberry.field(description="The connected app's name.")
    set_contacts_as_marketing: bool = strawberry.field(
        description="Whether contacts it creates are marketing (off by default, F3)."
    )
    marketing_since: datetime | None = strawberry.field(
        description="When the setting was last turned on; contacts created before it are not "
        "affected (F3). Null while it is off."
    )

    @classmethod
    def of(cls, app: App) -> Integration:
        return cls(
            id=strawberry.ID(app.id),
            name=app.name,
            set_contacts_as_marketing=app.sets_marketing,
            marketing_since=app.marketing_since,
        )


@strawberry.type(description="The result of createChatflow or updateChatflow.")
class ChatflowPayload:
    chatflow: Chatflow | None = strawberry.field(
        description="The chatflow as written; null when userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was written; empty on success."
    )


@strawberry.type(description="The result of createIntegration or updateIntegration.")
class IntegrationPayload:
    integration: Integration | None = strawberry.field(
        description="The connected app as written; null when userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was written; empty on success."
    )


@strawberry.input(description="A new chatflow (ADMIN).")
class CreateChatflowInput:
    name: str = strawberry.field(description=f"The chatflow's name: {_NAME}.")
    set_contacts_as_marketing: bool | None = strawberry.field(
        default=False, description=_SETTING_ON
    )


@strawberry.input(description="A new connected app (ADMIN).")
class CreateIntegrationInput:
    name: str = strawberry.field(description=f"The connected app's name: {_NAME}.")
    set_contacts_as_marketing: bool | None = strawberry.field(
        default=False, description=_SETTING_ON
    )


@strawberry.input(description="A visitor starting a conversation through a chatflow (F2).")
class StartConversationInput:
    chatflow_id: strawberry.ID = strawberry.field(description="The chatflow of the conversation.")
    email: str = strawberry.field(
        description="The visitor's address: the contact with it, or a new one (C8)."
    )
    first_name: str | None = strawberry.field(
        default=None, description="First name, for a new contact."
    )
    last_name: str | None = strawberry.field(
        default=None, description="Last name, for a new contact."
    )


def _chatflow_payload(result: App | list[UserError]) -> ChatflowPayload:
    if isinstance(result, list):
        return ChatflowPayload(chatflow=None, user_errors=result)
    return ChatflowPayload(chatflow=Chatflow.of(result), user_errors=[])


def _integration_payload(result: App | list[UserError]) -> IntegrationPayload:
    if isinstance(result, list):
        return IntegrationPayload(integration=None, user_errors=result)
    return IntegrationPayload(integration=Integration.of(result), user_errors=[])


@strawberry.type
class AppQueries:
    @strawberry.field(
        description="The account's chatflows, in the order they were created (at most 100)."
    )
    async def chatflows(self, info: Info) -> list[Chatflow]:
        ctx = info.context
        apps = await ctx.services.apps.all(ctx.caller, AppKind.CHATFLOW)
        return [Chatflow.of(app) for app in apps]

    @strawberry.field(
        description="The account's connected apps, in the order they were created (at most 100)."
    )
    async def integrations(self, info: Info) -> list[Integration]:
        ctx = info.context
        apps = await ctx.services.apps.all(ctx.caller, AppKind.INTEGRATION)
        return [Integration.of(app) for app in apps]


@strawberry.type
class AppMutations:
    @strawberry.mutation(
        description="Creates a chatflow (ADMIN; with its setting on, marketing access too, F4); "
        "nothing on a userError."
    )
    async def create_chatflow(
        self,
        info: Info,
        input: Annotated[CreateChatflowInput, strawberry.argument(description="The chatflow.")],
    ) -> ChatflowPayload:
        ctx = info.context
        made = ctx.services.apps.create(
            ctx.caller, AppKind.CHATFLOW, input.name, bool(input.set_contacts_as_marketing)
        )
        return _chatflow_payload(await attempt(info, made))

    @strawberry.mutation(
        description="Turns a chatflow's setting on or off (ADMIN; on needs marketing access, "
        "F4); its existing contacts stay as they are (D2)."
    )
    async def update_chatflow(
        self, info: Info, id: ChatflowId, set_contacts_as_marketing: Setting
    ) -> ChatflowPayload:
        ctx = info.context
        change = ctx.services.apps.set_marketing(
            ctx.caller, AppKind.CHATFLOW, str(id), set_contacts_as_marketing
        )
        return _chatflow_payload(await attempt(info, change))

    @strawberry.mutation(
        description="F2: the contact of a conversation started through a chatflow: the one "
        "with the address that the caller sees, unchanged, or a new one created via CHATFLOW, "
        "marketing only while the chatflow's setting is on (no marketing access needed, F4; "
        "under a BLOCK tier it is created non-marketing and UPGRADE_BLOCKED raised). An address "
        "of a contact the caller does not see is DUPLICATE."
    )
    async def start_conversation(
        self,
        info: Info,
        input: Annotated[
            StartConversationInput, strawberry.argument(description="The conversation.")
        ],
    ) -> ContactPayload:
        ctx = info.context
        conversation = Conversation(
            chatflow_id=str(input.chatflow_id),
            email=input.email,
            first_name=input.first_name,
            last_name=input.last_name,
        )
        return contact_payload(
            await attempt(info, ctx.services.apps.start_conversation(ctx.caller, conversation))
        )

    @strawberry.mutation(
        description="Connects an app (ADMIN; with its setting on, marketing access too, F4); "
        "nothing on a userError."
    )
    async def create_integration(
        self,
        info: Info,
        input: Annotated[
            CreateIntegrationInput, strawberry.argument(description="The connected app.")
        ],
    ) -> IntegrationPayload:
        ctx = info.context
        made = ctx.services.apps.create(
            ctx.caller, AppKind.INTEGRATION, input.name, bool(input.set_contacts_as_marketing)
        )
        return _integration_payload(await attempt(info, made))

    @strawberry.mutation(
        description="Turns a connected app's setting on or off (ADMIN; on needs marketing "
        "access, F4); no contact it created changes (D2, F3)."
    )
    async def update_integration(
        self, info: Info, id: IntegrationId, set_contacts_as_marketing: Setting
    ) -> IntegrationPayload:
        ctx = info.context
        change = ctx.services.apps.set_marketing(
            ctx.caller, AppKind.INTEGRATION, str(id), set_contacts_as_marketing
        )
        return _integration_payload(await attempt(info, change))

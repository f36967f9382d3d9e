"""Chatflows and connected apps (F2, F3, F4): the account's intake channels, and the contacts
conversations create through a chatflow.

Channels are account-wide settings: every user of the account reads them, an ADMIN creates and
changes them (P1, like the account's settings), and turning one's setContactsAsMarketing on, or
creating one with it on, needs marketing access besides (F4, P2). A setting changes no existing
contact (D2); a contact created through a channel goes through ContactService.create, so its
counts, tier rules, history and audit entry are createContact's (D4, T1, P4).
"""

from __future__ import annotations

from dataclasses import dataclass

from marketing_contacts.domain.apps import (
    MAX_APPS_PER_ACCOUNT,
    App,
    AppKind,
    app_name,
    check_may_turn_on,
    new_app,
    toggled,
)
from marketing_contacts.domain.contacts import Contact, normalize_email
from marketing_contacts.domain.errors import ErrorCode, check_id, record_not_found, refuse
from marketing_contacts.domain.users import check_admin
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.contacts import ContactDraft, ContactService
from marketing_contacts.services.ports.changes import StaleWrite
from marketing_contacts.services.wiring import Ports

#: the field of the setting, as the inputs and updateChatflow/updateIntegration name it
SETTING = ("set_contacts_as_marketing",)
_ACTIONS = {
    AppKind.CHATFLOW: ("createChatflow", "updateChatflow"),
    AppKind.INTEGRATION: ("createIntegration", "updateIntegration"),
}


@dataclass(frozen=True)
class Conversation:
    """F2: a visitor starting a conversation through a chatflow."""

    chatflow_id: str
    email: str
    first_name: str | None = None
    last_name: str | None = None


class AppService:
    def __init__(self, ports: Ports, contacts: ContactService) -> None:
        self.ports = ports
        self.apps = ports.apps
        self.contacts = contacts

    async def all(self, caller: Caller, kind: AppKind) -> list[App]:
        """The account's channels of a kind, in the order they were created (any user)."""
        return await self.apps.all(caller.account_id, kind)

    async def create(self, caller: Caller, kind: AppKind, name: str, sets_marketing: bool) -> App:
        """A new channel (ADMIN; on from the start needs marketing access too, F4)."""
        check_admin(caller.role)
        named = app_name(kind, name, "name")
        check_may_turn_on(sets_marketing, marketing_access=caller.marketing_access, field=SETTING)
        now = self.ports.clock.now()
        app = new_app(
            self.ports.ids.new_id(at=now), caller.account_id, kind, named, sets_marketing, now
        )
        audit = self.ports.audit_entry(caller.account_id, caller.actor, _ACTIONS[kind][0], [app.id])
        if not await self.apps.insert(app, MAX_APPS_PER_ACCOUNT, audit):
            raise refuse(
                ErrorCode.TOO_MANY,
                f"an account keeps at most {MAX_APPS_PER_ACCOUNT} {kind.noun}s",
            )
        return app

    async def set_marketing(
        self, caller: Caller, kind: AppKind, app_id: str, sets_marketing: bool
    ) -> App:
        """The channel with its setting on or off (ADMIN; on needs marketing access too, F4);
        no existing contact changes (D2). As it is already: nothing written."""
        check_admin(caller.role)
        check_id(app_id, "id")
        check_may_turn_on(sets_marketing, marketing_access=caller.marketing_access, field=SETTING)

        async def attempt() -> App:
            app = await self._existing(caller, kind, app_id, "id")
            after = toggled(app, sets_marketing, self.ports.clock.now())
            if after is None:
                return app
            audit = self.ports.audit_entry(
                caller.account_id, caller.actor, _ACTIONS[kind][1], [app.id]
            )
            if not await self.apps.set_marketing(app, after, audit):
                raise StaleWrite(f"{kind.noun} {app.id} changed meanwhile")
            return after

        return await self.ports.retrying_on(caller.account_id, attempt)

    async def start_conversation(self, caller: Caller, conversation: Conversation) -> Contact:
        """F2, C8: the contact with the visitor's address that the caller sees, as it is (its
        status, names and all); none: a new contact created via CHATFLOW, marketing only while
        the chatflow's setting is on. An address taken by a contact the caller does not see is
        DUPLICATE, as createContact answers it (the hidden contact is neither shown nor
        changed)."""
        check_id(conversation.chatflow_id, "chatflow_id")
        email = normalize_email(conversation.email, "email")
        if email is None:
            raise refuse(ErrorCode.INVALID, "a conversation needs the visitor's email", "email")
        chatflow = await self._existing(
            caller, AppKind.CHATFLOW, conversation.chatflow_id, "chatflow_id"
        )
        known = await self.ports.contacts.by_email(caller.scope, email)
        if known is not None:
            return known
        draft = ContactDraft(
            created_via=AppKind.CHATFLOW.created_via,
            email=email,
            first_name=conversation.first_name,
            last_name=conversation.last_name,
        )
        return await self.contacts.create(caller, draft, via=chatflow, action="startConversation")

    async def _existing(self, caller: Caller, kind: AppKind, app_id: str, field: str) -> App:
        check_id(app_id, field)
        app = await self.apps.get(caller.account_id, kind, app_id)
        if app is None:
            raise record_not_found(kind.noun, app_id, field)
        return app

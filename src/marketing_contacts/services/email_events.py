"""Email activity (C7, S6): recording an event against its address, and reading an address's
events (a contact shows those of its address, whenever they happened)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from marketing_contacts.domain.contacts import normalize_email
from marketing_contacts.domain.email_events import (
    EmailEvent,
    EmailEventType,
    check_campaign_id,
    marked_by,
)
from marketing_contacts.domain.errors import ErrorCode, refuse
from marketing_contacts.domain.occurrences import occurred_at
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.paging import Page, check_first, paged
from marketing_contacts.services.ports.email_events import EMPTY

if TYPE_CHECKING:
    from marketing_contacts.services.wiring import Ports


@dataclass(frozen=True)
class EmailEventDraft:
    email: str
    type: EmailEventType
    occurred_at: datetime
    campaign_id: str | None = None


class EmailActivityService:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports

    async def record(self, caller: Caller, draft: EmailEventDraft) -> EmailEvent:
        """The event, stored against the address whether a contact has it or not; a hard
        bounce or an unsubscribe marks the address's contact that the caller sees (S6) in the
        same transaction."""
        email = normalize_email(draft.email, "email")
        if email is None:
            raise refuse(ErrorCode.INVALID, "an email event names an address", "email")
        check_campaign_id(draft.campaign_id, "campaign_id")
        now = self.ports.clock.now()
        at = occurred_at(draft.occurred_at, now, "occurred_at")
        contact = await self.ports.contacts.by_email(caller.scope, email)
        marked = None
        if contact is not None and (after := marked_by(draft.type, contact)) is not None:
            marked = (contact, replace(after, updated_at=now))
        event = EmailEvent(
            # the id carries the second it happened: an address's events newest first
            id=self.ports.ids.new_id(at=at),
            account_id=caller.account_id,
            email=email,
            type=draft.type,
            occurred_at=at,
            campaign_id=draft.campaign_id,
        )
        ids = [event.id] if contact is None else [event.id, contact.id]
        audit = self.ports.audit_entry(caller.account_id, caller.actor, "recordEmailEvent", ids)
        await self.ports.email_events.record(event, marked, audit)
        return event

    async def page(
        self,
        caller: Caller,
        email: str,
        first: int,
        after: str | None,
        *,
        merged: Sequence[str] = (),
    ) -> Page[EmailEvent]:
        """The address's events, with those of the addresses `merged` into its contact (C10)."""
        read = self.ports.email_events.page(caller.account_id, email, first, after, merged=merged)
        return await paged(first, after, read)

    async def first_pages(
        self,
        caller: Caller,
        emails: Sequence[str],
        first: int,
        *,
        merged: Mapping[str, Sequence[str]] = EMPTY,
    ) -> dict[str, Page[EmailEvent]]:
        """The first page of many addresses' events at once (one read for a page of
        contacts), each with the addresses `merged` names for it (C10)."""
        check_first(first)
        return await self.ports.email_events.first_pages(
            caller.account_id, emails, first, merged=merged
        )

    async def count(self, caller: Caller, email: str, *, merged: Sequence[str] = ()) -> int:
        return await self.ports.email_events.count(caller.account_id, email, merged=merged)

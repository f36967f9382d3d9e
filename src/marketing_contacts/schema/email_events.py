"""Email activity (C7, S6): the event type, recordEmailEvent, and a contact's activity.

The first page of the activity of a page of contacts is read together, once per request
(`email_activity_loader`), whatever the page size.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.dataloader import DataLoader

from marketing_contacts.domain.email_events import EmailEvent as DomainEmailEvent
from marketing_contacts.domain.email_events import EmailEventType
from marketing_contacts.schema.connections import Connection, connection
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.errors import UserError, attempt
from marketing_contacts.services.email_events import EmailEventDraft
from marketing_contacts.services.paging import Page

#: (address, first) -> the address's first page of events
ActivityLoader = DataLoader[tuple[str, int], Page[DomainEmailEvent]]


@strawberry.type(description="Something that happened to email sent to an address (C7).")
class EmailEvent:
    id: strawberry.ID = strawberry.field(description="The event's id.")
    type: EmailEventType = strawberry.field(description="What happened.")
    email: str = strawberry.field(description="The address the event happened to (C7).")
    occurred_at: datetime = strawberry.field(description="When it happened.")
    campaign_id: str | None = strawberry.field(
        description="The sending tool's campaign, when it named one."
    )

    @classmethod
    def of(cls, event: DomainEmailEvent) -> EmailEvent:
        return cls(
            id=strawberry.ID(event.id),
            type=event.type,
            email=event.email,
            occurred_at=event.occurred_at,
            campaign_id=event.campaign_id,
        )


def email_activity_loader(info: Info) -> ActivityLoader:
    ctx = info.context
    if ctx.email_activity_loader is None:
        caller, activity = ctx.caller, ctx.services.email_activity

        async def load(keys: list[tuple[str, int]]) -> list[Page[DomainEmailEvent]]:
            by_first: dict[int, list[str]] = {}
            for email, first in keys:
                by_first.setdefault(first, []).append(email)
            pages = {}
            for first, emails in by_first.items():
                found = await activity.first_pages(caller, emails, first)
                pages.update({(email, first): found[email] for email in emails})
            return [pages[key] for key in keys]

        ctx.email_activity_loader = DataLoader(load_fn=load)
    loader: ActivityLoader = ctx.email_activity_loader
    return loader


async def contact_activity(
    info: Info, email: str | None, first: int, after: str | None
) -> Connection[EmailEvent]:
    """The events of the contact's address, newest first (none without an address)."""
    ctx = info.context
    activity, caller = ctx.services.email_activity, ctx.caller
    if email is None:
        page: Page[DomainEmailEvent] = Page([], [], has_next_page=False)
    elif after is None:
        page = await email_activity_loader(info).load((email, first))
    else:
        page = await activity.page(caller, email, first, after)

    async def count() -> int:
        return 0 if email is None else await activity.count(caller, email)

    return connection(page, EmailEvent.of, count)


@strawberry.input(description="An email event, as the sending tool reports it.")
class RecordEmailEventInput:
    email: str = strawberry.field(
        description="The address it happened to: a valid address, whether a contact has it or not."
    )
    type: EmailEventType = strawberry.field(description="What happened.")
    occurred_at: datetime = strawberry.field(
        description="When it happened: not later than now (a few minutes of clock skew allowed)."
    )
    campaign_id: str | None = strawberry.field(
        default=None, description="The sending tool's campaign: at most 200 characters."
    )

    def to_draft(self) -> EmailEventDraft:
        return EmailEventDraft(
            email=self.email,
            type=self.type,
            occurred_at=self.occurred_at,
            campaign_id=self.campaign_id,
        )


@strawberry.type(description="The result of recordEmailEvent.")
class EmailEventPayload:
    event: EmailEvent | None = strawberry.field(
        description="The event as stored; null when userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was stored; empty on success."
    )


@strawberry.type
class EmailEventMutations:
    @strawberry.mutation(
        description="An email event for an address (C7); HARD_BOUNCED and UNSUBSCRIBED also "
        "set the contact's emailHardBounced / unsubscribedFromAll (S6)."
    )
    async def record_email_event(
        self,
        info: Info,
        input: Annotated[RecordEmailEventInput, strawberry.argument(description="The event.")],
    ) -> EmailEventPayload:
        ctx = info.context
        call = ctx.services.email_activity.record(ctx.caller, input.to_draft())
        result = await attempt(info, call)
        if isinstance(result, list):
            return EmailEventPayload(event=None, user_errors=result)
        return EmailEventPayload(event=EmailEvent.of(result), user_errors=[])

"""Email activity (C7, S6): the event type, recordEmailEvent, and a contact's activity.

The first page of the activity of a page of contacts is read together, once per request
(`email_activity_loader`), whatever the page size.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial
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

#: (address, the addresses merged into its contact, first) -> their first page of events
ActivityLoader = DataLoader[tuple[str, tuple[str, ...], int], Page[DomainEmailEvent]]


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

        async def load(
            keys: list[tuple[str, tuple[str, ...], int]],
        ) -> list[Page[DomainEmailEvent]]:
            by_first: dict[int, list[tuple[str, tuple[str, ...]]]] = {}
            for email, merged, first in keys:
                by_first.setdefault(first, []).append((email, merged))
            pages = {}
            for first, wanted in by_first.items():
                for read in _each_address_once(wanted):
                    found = await activity.first_pages(caller, list(read), first, merged=read)
                    pages.update({(e, m, first): found[e] for e, m in read.items()})
            return [pages[key] for key in keys]

        ctx.email_activity_loader = DataLoader(load_fn=load)
    loader: ActivityLoader = ctx.email_activity_loader
    return loader


def _each_address_once(
    wanted: list[tuple[str, tuple[str, ...]]],
) -> list[dict[str, tuple[str, ...]]]:
    """The addresses asked for, in reads that name each address once (always one read, but
    for an address asked for with different merged ones: a contact without an address of its
    own reads by a merged one, which another contact may have taken since)."""
    reads: list[dict[str, tuple[str, ...]]] = []
    for email, merged in wanted:
        read = next((r for r in reads if email not in r), None)
        if read is None:
            reads.append(read := {})
        read[email] = merged
    return reads


async def contact_activity(
    info: Info, email: str | None, merged: Iterable[str], first: int, after: str | None
) -> Connection[EmailEvent]:
    """The events of the contact's address and of the addresses merged into it (C10), newest
    first (none without any address)."""
    ctx = info.context
    activity, caller = ctx.services.email_activity, ctx.caller
    addresses = [a for a in dict.fromkeys((email, *sorted(merged))) if a is not None]
    if not addresses:
        return connection(Page([], [], has_next_page=False), EmailEvent.of, _none)
    own, others = addresses[0], tuple(addresses[1:])
    if after is None:
        page = await email_activity_loader(info).load((own, others, first))
    else:
        page = await activity.page(caller, own, first, after, merged=others)
    return connection(page, EmailEvent.of, partial(activity.count, caller, own, merged=others))


async def _none() -> int:
    return 0


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

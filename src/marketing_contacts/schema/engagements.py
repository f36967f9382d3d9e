"""Engagements (C6, C12): the engagement type, logEngagement, and a record's engagements.

The first page of the engagements of a page of records is read together, once per request
(`engagement_loader`), whatever the page size; so is which of the records they list the caller
sees (`seen_record_loader`: P3, an engagement lists no hidden record's id).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.dataloader import DataLoader

from marketing_contacts.domain.engagements import MAX_BODY_LENGTH, EngagementType
from marketing_contacts.domain.engagements import Engagement as DomainEngagement
from marketing_contacts.domain.errors import MAX_NAMED_IDS
from marketing_contacts.schema.connections import Connection, connection
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.errors import UserError, attempt
from marketing_contacts.schema.users import Loaders, User
from marketing_contacts.services.engagements import EngagementDraft
from marketing_contacts.services.paging import Page

#: (record id, first) -> the record's first page of engagements
EngagementLoader = DataLoader[tuple[str, int], Page[DomainEngagement]]
#: record id -> whether the caller sees it
SeenLoader = DataLoader[str, bool]


@strawberry.type(description="A task, call, note, email or meeting logged against records (C6).")
class Engagement:
    id: strawberry.ID = strawberry.field(description="The engagement's id.")
    type: EngagementType = strawberry.field(description="What kind of engagement it is.")
    occurred_at: datetime = strawberry.field(description="When it happened.")
    body: str | None = strawberry.field(description="Its text; null when it has none.")
    owner_id: strawberry.Private[str | None]
    created_at: datetime = strawberry.field(description="When it was logged.")
    associated: strawberry.Private[tuple[str, ...]]
    not_associated: strawberry.Private[tuple[str, ...]]

    @strawberry.field(description="The records it is associated with.")
    async def associated_ids(self, info: Info) -> list[strawberry.ID]:
        return await seen_ids(info, self.associated)

    @strawberry.field(
        description="Records named at creation that already held 10,000 engagements (C6): not "
        "associated."
    )
    async def not_associated_ids(self, info: Info) -> list[strawberry.ID]:
        return await seen_ids(info, self.not_associated)

    @strawberry.field(description="The user who owns the engagement; null when nobody does.")
    async def owner(self, info: Info) -> User | None:
        if self.owner_id is None:
            return None
        loaders = Loaders.of_request(info)
        user = await loaders.users.load(self.owner_id)
        return None if user is None else User.of(user, loaders)

    @classmethod
    def of(cls, engagement: DomainEngagement) -> Engagement:
        return cls(
            id=strawberry.ID(engagement.id),
            type=engagement.type,
            occurred_at=engagement.occurred_at,
            body=engagement.body,
            owner_id=engagement.owner_id,
            created_at=engagement.created_at,
            associated=engagement.associated_ids,
            not_associated=engagement.not_associated_ids,
        )


def seen_record_loader(info: Info) -> SeenLoader:
    """The request's own: whether the caller sees each record the engagements list."""
    ctx = info.context
    if ctx.seen_record_loader is None:
        caller, engagements = ctx.caller, ctx.services.engagements

        async def load(record_ids: list[str]) -> list[bool]:
            seen = await engagements.seen(caller, record_ids)
            return [record_id in seen for record_id in record_ids]

        ctx.seen_record_loader = DataLoader(load_fn=load)
    loader: SeenLoader = ctx.seen_record_loader
    return loader


async def seen_ids(info: Info, record_ids: tuple[str, ...]) -> list[strawberry.ID]:
    """P3: the records among these that the caller sees, in their order."""
    seen = await seen_record_loader(info).load_many(record_ids)
    return [strawberry.ID(i) for i, shown in zip(record_ids, seen, strict=True) if shown]


def engagement_loader(info: Info) -> EngagementLoader:
    """The request's own: the first pages of a page of records are read together."""
    ctx = info.context
    if ctx.engagement_loader is None:
        caller, engagements = ctx.caller, ctx.services.engagements

        async def load(keys: list[tuple[str, int]]) -> list[Page[DomainEngagement]]:
            by_first: dict[int, list[str]] = {}
            for record_id, first in keys:
                by_first.setdefault(first, []).append(record_id)
            pages = {}
            for first, record_ids in by_first.items():
                found = await engagements.first_pages(caller, record_ids, first)
                pages.update({(record_id, first): found[record_id] for record_id in record_ids})
            return [pages[key] for key in keys]

        ctx.engagement_loader = DataLoader(load_fn=load)
    loader: EngagementLoader = ctx.engagement_loader
    return loader


async def record_engagements(
    info: Info, record_id: str, first: int, after: str | None
) -> Connection[Engagement]:
    """The engagements associated with a record the caller sees, newest first."""
    ctx = info.context
    engagements, caller = ctx.services.engagements, ctx.caller
    if after is None:
        page = await engagement_loader(info).load((record_id, first))
    else:
        page = await engagements.page(caller, record_id, first, after)
    return connection(page, Engagement.of, lambda: engagements.count(caller, record_id))


_IDS = f"at most {MAX_NAMED_IDS} (an id given twice is one record)"


@strawberry.input(
    description="An engagement, and the records it is logged against: records the caller "
    "sees; one that is not is NOT_FOUND at its index, and nothing is logged."
)
class LogEngagementInput:
    type: EngagementType = strawberry.field(description="What kind of engagement it is.")
    occurred_at: datetime = strawberry.field(
        description="When it happened: not later than now (a few minutes of clock skew "
        "allowed); it moves the records' activity dates forward, never back (C12)."
    )
    body: str | None = strawberry.field(
        default=None,
        description=f"Its text: at most {MAX_BODY_LENGTH:,} characters; tabs and line breaks, "
        "no other control character.",
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="The user who owns it (a user of the account)."
    )
    contact_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description=f"Contacts to associate it with, {_IDS}."
    )
    company_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description=f"Companies to associate it with, {_IDS}."
    )
    deal_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description=f"Deals to associate it with, {_IDS}."
    )

    def to_draft(self) -> EngagementDraft:
        return EngagementDraft(
            type=self.type,
            occurred_at=self.occurred_at,
            body=self.body,
            owner_id=self.owner_id,
            contact_ids=[str(i) for i in self.contact_ids or ()],
            company_ids=[str(i) for i in self.company_ids or ()],
            deal_ids=[str(i) for i in self.deal_ids or ()],
        )


@strawberry.type(description="The result of logEngagement.")
class EngagementPayload:
    engagement: Engagement | None = strawberry.field(
        description="The engagement as logged; null when userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was logged; empty on success."
    )


@strawberry.type
class EngagementMutations:
    @strawberry.mutation(
        description="C6: the engagement is always created; records past the cap are listed in "
        "notAssociatedIds."
    )
    async def log_engagement(
        self,
        info: Info,
        input: Annotated[
            LogEngagementInput, strawberry.argument(description="The engagement and its records.")
        ],
    ) -> EngagementPayload:
        ctx = info.context
        result = await attempt(info, ctx.services.engagements.log(ctx.caller, input.to_draft()))
        if isinstance(result, list):
            return EngagementPayload(engagement=None, user_errors=result)
        return EngagementPayload(engagement=Engagement.of(result), user_errors=[])

"""Deals: their type, queries and mutations (C1, C5).

The first page of the deals of a page of contacts (or companies) is read together, once per
request (`record_deals`), whatever the page size.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.dataloader import DataLoader

from marketing_contacts.domain.associations import RecordRef, RecordType
from marketing_contacts.domain.companies import CompanyFilter
from marketing_contacts.domain.deals import Deal as DomainDeal
from marketing_contacts.domain.deals import DealStage
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.schema.companies import Company, DeletePayload
from marketing_contacts.schema.connections import After, Connection, First, connection, first_or
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.errors import UserError, attempt
from marketing_contacts.schema.users import Loaders, User
from marketing_contacts.services.deals import EDITABLE_FIELDS, DealDraft
from marketing_contacts.services.ports.deals import RecordDeals

if TYPE_CHECKING:
    from marketing_contacts.schema.contacts import Contact

DealId = Annotated[strawberry.ID, strawberry.argument(description="The deal's id.")]
#: (record type, record id, first) -> the record's first page of deals
DealsLoader = DataLoader[tuple[RecordType, str, int], RecordDeals]


@strawberry.type(description="Something the account sells, at a stage of the pipeline (C5).")
class Deal:
    id: strawberry.ID = strawberry.field(description="The deal's id.")
    name: str = strawberry.field(description="The deal's name.")
    stage: DealStage = strawberry.field(
        description="Where the deal stands; CLOSED_WON makes its contacts and companies "
        "customers (C5)."
    )
    amount: Decimal | None = strawberry.field(description="What the deal is worth; null: unknown.")
    close_date: date | None = strawberry.field(
        description="When the deal closes, or closed; null: not set."
    )
    owner_id: strawberry.Private[str | None]
    created_at: datetime = strawberry.field(description="When the deal was created.")
    updated_at: datetime = strawberry.field(description="When the deal's fields last changed.")
    contact_ids: strawberry.Private[tuple[str, ...]]
    company_ids: strawberry.Private[tuple[str, ...]]

    @strawberry.field(description="The user who owns the deal (C1); null when nobody does.")
    async def owner(self, info: Info) -> User | None:
        if self.owner_id is None:
            return None
        loaders = Loaders.of_request(info)
        user = await loaders.users.load(self.owner_id)
        return None if user is None else User.of(user, loaders)

    @strawberry.field(
        description="The deal's contacts that the caller sees, in the order they were created."
    )
    async def contacts(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[Annotated[Contact, strawberry.lazy("marketing_contacts.schema.contacts")]]:
        from marketing_contacts.schema.contacts import contacts_where

        return await contacts_where(
            info, ContactFilter(ids=frozenset(self.contact_ids)), first, after
        )

    @strawberry.field(
        description="The deal's companies that the caller sees, in the order they were created."
    )
    async def companies(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[Company]:
        companies, caller = info.context.services.companies, info.context.caller
        where = CompanyFilter(ids=frozenset(self.company_ids))
        page = await companies.page(caller, where, first_or(first, 20), after)
        return connection(page, Company.of, lambda: companies.count(caller, where))

    @classmethod
    def of(cls, deal: DomainDeal) -> Deal:
        return cls(
            id=strawberry.ID(deal.id),
            name=deal.name,
            stage=deal.stage,
            amount=deal.amount,
            close_date=deal.close_date,
            owner_id=deal.owner_id,
            created_at=deal.created_at,
            updated_at=deal.updated_at,
            contact_ids=deal.contact_ids,
            company_ids=deal.company_ids,
        )


def deals_loader(info: Info) -> DealsLoader:
    """The request's own: the first pages of deals of a page of records are read together."""
    ctx = info.context
    if ctx.deals_loader is None:
        caller, deals = ctx.caller, ctx.services.deals

        async def load(keys: list[tuple[RecordType, str, int]]) -> list[RecordDeals]:
            asked: dict[tuple[RecordType, int], list[str]] = {}
            for record_type, record_id, first in keys:
                asked.setdefault((record_type, first), []).append(record_id)
            pages = {}
            for (record_type, first), record_ids in asked.items():
                found = await deals.first_pages(caller, record_type, record_ids, first)
                pages.update({(record_type, i, first): found[i] for i in record_ids})
            return [pages[key] for key in keys]

        ctx.deals_loader = DataLoader(load_fn=load)
    loader: DealsLoader = ctx.deals_loader
    return loader


async def record_deals(
    info: Info, record: RecordRef, first: int | None, after: str | None
) -> Connection[Deal]:
    """The deals of a contact or a company that the caller sees, in the order they were
    created."""
    deals, caller = info.context.services.deals, info.context.caller
    size = first_or(first, 20)
    if after is None:
        found = await deals_loader(info).load((record.type, record.id, size))

        async def total() -> int:
            return found.total

        return connection(found.page, Deal.of, total)
    page = await deals.page(caller, size, after, record)
    return connection(page, Deal.of, lambda: deals.count(caller, record))


_NAME = "1 to 200 characters, trimmed"
_AMOUNT = 'What the deal is worth, e.g. "1200.00": 0 to 1,000,000,000,000.'


@strawberry.input(description="A new deal, and the records it is associated with.")
class CreateDealInput:
    name: str = strawberry.field(description=f"The deal's name: {_NAME}.")
    stage: DealStage = strawberry.field(
        description="Where the deal stands; its records move forward to OPPORTUNITY (an open "
        "deal) or CUSTOMER (a won one), C5."
    )
    amount: Decimal | None = strawberry.field(default=None, description=_AMOUNT)
    close_date: date | None = strawberry.field(default=None, description="When it closes.")
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="The user who owns the deal (a user of the account)."
    )
    contact_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Contacts to associate, at most 100."
    )
    company_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Companies to associate, at most 100."
    )

    def to_draft(self) -> DealDraft:
        return DealDraft(
            name=self.name,
            stage=self.stage,
            amount=self.amount,
            close_date=self.close_date,
            owner_id=self.owner_id,
            contact_ids=[str(i) for i in self.contact_ids or ()],
            company_ids=[str(i) for i in self.company_ids or ()],
        )


@strawberry.input(
    description="The fields to change: fields left out stay as they are; null clears a field "
    "(but the name and the stage, which a deal keeps)."
)
class UpdateDealInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description=f"The deal's name: {_NAME}."
    )
    stage: DealStage | None = strawberry.field(
        default=strawberry.UNSET,
        description="A new stage: CLOSED_WON makes every associated contact and company a "
        "CUSTOMER; CLOSED_LOST moves nobody (C5).",
    )
    amount: Decimal | None = strawberry.field(default=strawberry.UNSET, description=_AMOUNT)
    close_date: date | None = strawberry.field(
        default=strawberry.UNSET, description="When it closes."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The user who owns the deal."
    )

    def to_changes(self) -> dict[str, Any]:
        return {
            name: getattr(self, name)
            for name in EDITABLE_FIELDS
            if getattr(self, name) is not strawberry.UNSET
        }


@strawberry.type(description="The result of createDeal or updateDeal.")
class DealPayload:
    deal: Deal | None = strawberry.field(
        description="The deal as written; null when userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was written; empty on success."
    )


def _deal_payload(result: DomainDeal | list[UserError]) -> DealPayload:
    if isinstance(result, list):
        return DealPayload(deal=None, user_errors=result)
    return DealPayload(deal=Deal.of(result), user_errors=[])


@strawberry.type
class DealQueries:
    @strawberry.field(description="A deal the caller sees; null when none has this id.")
    async def deal(self, info: Info, id: DealId) -> Deal | None:
        found = await info.context.services.deals.get(info.context.caller, str(id))
        return None if found is None else Deal.of(found)

    @strawberry.field(description="The deals the caller sees, in the order they were created.")
    async def deals(self, info: Info, first: First = 50, after: After = None) -> Connection[Deal]:
        deals, caller = info.context.services.deals, info.context.caller
        page = await deals.page(caller, first_or(first, 50), after)
        return connection(page, Deal.of, lambda: deals.count(caller))


@strawberry.type
class DealMutations:
    @strawberry.mutation(
        description="Creates a deal with its associations; its contacts and companies move "
        "forward to where its stage takes them (C5); nothing on a userError."
    )
    async def create_deal(
        self,
        info: Info,
        input: Annotated[CreateDealInput, strawberry.argument(description="The new deal.")],
    ) -> DealPayload:
        ctx = info.context
        return _deal_payload(
            await attempt(info, ctx.services.deals.create(ctx.caller, input.to_draft()))
        )

    @strawberry.mutation(
        description="Changes a deal's fields; a new stage moves its records forward in the "
        "same write (C5); nothing on a userError."
    )
    async def update_deal(
        self,
        info: Info,
        id: DealId,
        input: Annotated[UpdateDealInput, strawberry.argument(description="The fields to change.")],
    ) -> DealPayload:
        ctx = info.context
        change = ctx.services.deals.update(ctx.caller, str(id), input.to_changes())
        return _deal_payload(await attempt(info, change))

    @strawberry.mutation(
        description="Deletes a deal and its associations; its contacts and companies stay, at "
        "their stages."
    )
    async def delete_deal(self, info: Info, id: DealId) -> DeletePayload:
        ctx = info.context
        result = await attempt(info, ctx.services.deals.delete(ctx.caller, str(id)))
        if isinstance(result, list):
            return DeletePayload(deleted_id=None, user_errors=result)
        return DeletePayload(deleted_id=strawberry.ID(result), user_errors=[])

"""Companies and associations: their types, queries and mutations (C1, C2, C3, C11).

A contact's companies are held on the contact; the companies of a page of contacts are read
together, once per request (`company_loader`), whatever the page size.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.dataloader import DataLoader

from marketing_contacts.domain.associations import (
    Association,
    RecordRef,
    RecordType,
    companies_in_order,
)
from marketing_contacts.domain.companies import Company as DomainCompany
from marketing_contacts.domain.companies import CompanyFilter
from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.schema.connections import After, Connection, First, connection, first_or
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.errors import UserError, attempt
from marketing_contacts.schema.users import Loaders, User
from marketing_contacts.services.companies import EDITABLE_FIELDS, CompanyDraft
from marketing_contacts.services.paging import page_in_order

if TYPE_CHECKING:
    from marketing_contacts.schema.contacts import Contact
    from marketing_contacts.schema.deals import Deal
    from marketing_contacts.schema.engagements import Engagement

CompanyId = Annotated[strawberry.ID, strawberry.argument(description="The company's id.")]
#: the kind of a contact's companies' cursors
CONTACT_COMPANIES = "contact-companies"


@strawberry.type(description="An organisation the account's contacts work for (C2).")
class Company:
    id: strawberry.ID = strawberry.field(description="The company's id.")
    name: str = strawberry.field(description="The company's name.")
    domain: str | None = strawberry.field(description="Web domain, lower case, e.g. example.com.")
    owner_id: strawberry.Private[str | None]
    lifecycle_stage: LifecycleStage | None = strawberry.field(
        description="Where the company stands in the sales cycle (C3); null when not set."
    )
    created_at: datetime = strawberry.field(description="When the company was created.")
    updated_at: datetime = strawberry.field(description="When the company last changed.")
    last_activity_at: datetime | None = strawberry.field(
        description="When the latest engagement logged against the company happened (C12); "
        "null before the first."
    )

    @strawberry.field(description="The user who owns the company (C1); null when nobody does.")
    async def owner(self, info: Info) -> User | None:
        if self.owner_id is None:
            return None
        loaders = Loaders.of_request(info)
        user = await loaders.users.load(self.owner_id)
        return None if user is None else User.of(user, loaders)

    @strawberry.field(
        description="The contacts associated with the company that the caller sees, in the "
        "order they were created."
    )
    async def contacts(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[Annotated[Contact, strawberry.lazy("marketing_contacts.schema.contacts")]]:
        from marketing_contacts.schema.contacts import contacts_where

        return await contacts_where(info, ContactFilter(company_id=str(self.id)), first, after)

    @strawberry.field(
        description="The engagements associated with the company, newest first by when they "
        "happened (C6; a page of companies reads its first pages together)."
    )
    async def engagements(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[
        Annotated[Engagement, strawberry.lazy("marketing_contacts.schema.engagements")]
    ]:
        from marketing_contacts.schema.engagements import record_engagements

        return await record_engagements(info, str(self.id), first_or(first, 20), after)

    @strawberry.field(
        description="Deals the company is associated with that the caller sees, in the order "
        "they were created (a page of companies reads its first pages together)."
    )
    async def deals(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[Annotated[Deal, strawberry.lazy("marketing_contacts.schema.deals")]]:
        from marketing_contacts.schema.deals import record_deals

        return await record_deals(info, RecordRef(RecordType.COMPANY, str(self.id)), first, after)

    @classmethod
    def of(cls, company: DomainCompany) -> Company:
        return cls(
            id=strawberry.ID(company.id),
            name=company.name,
            domain=company.domain,
            owner_id=company.owner_id,
            lifecycle_stage=company.lifecycle_stage,
            created_at=company.created_at,
            updated_at=company.updated_at,
            last_activity_at=company.last_activity_at,
        )


def company_loader(info: Info) -> DataLoader[str, DomainCompany | None]:
    """The request's own: the companies of a page of contacts are read together."""
    ctx = info.context
    if ctx.company_loader is None:
        caller, companies = ctx.caller, ctx.services.companies

        async def load(company_ids: list[str]) -> list[DomainCompany | None]:
            found = {c.id: c for c in await companies.get_many(caller, company_ids)}
            return [found.get(company_id) for company_id in company_ids]

        ctx.company_loader = DataLoader(load_fn=load)
    loader: DataLoader[str, DomainCompany | None] = ctx.company_loader
    return loader


async def contact_companies(
    info: Info, company_ids: frozenset[str], primary: str | None, first: int, after: str | None
) -> Connection[Company]:
    """A contact's companies that the caller sees, the primary first (C2)."""
    loaded = await company_loader(info).load_many(companies_in_order(company_ids, primary))
    seen = [company for company in loaded if company is not None]
    page = await page_in_order(seen, lambda c: c.id, CONTACT_COMPANIES, first, after)

    async def count() -> int:
        return len(seen)

    return connection(page, Company.of, count)


async def primary_company(info: Info, primary: str | None) -> Company | None:
    if primary is None:
        return None
    company = await company_loader(info).load(primary)
    return None if company is None else Company.of(company)


@strawberry.input(
    name="CompanyFilter",
    description="Companies for which every field given holds; fields left out or null select "
    "every company.",
)
class CompanyFilterInput:
    search: str | None = strawberry.field(
        default=None,
        description="Case-insensitive prefix of the name or domain; finds a company as soon as "
        "it is written (C11).",
    )
    domain: str | None = strawberry.field(
        default=None, description="Exact domain, case-insensitive."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="Companies this user owns."
    )

    def to_filter(self) -> CompanyFilter:
        return CompanyFilter(search=self.search, domain=self.domain, owner_id=self.owner_id)


_NAME = "1 to 200 characters, trimmed"
_DOMAIN = "A host name such as example.com, stored in lower case (no scheme, path or address)."


@strawberry.input(description="A new company.")
class CreateCompanyInput:
    name: str = strawberry.field(description=f"The company's name: {_NAME}.")
    domain: str | None = strawberry.field(default=None, description=_DOMAIN)
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="The user who owns the company (a user of the account)."
    )
    lifecycle_stage: LifecycleStage | None = strawberry.field(
        default=None, description="Where the company stands in the sales cycle."
    )

    def to_draft(self) -> CompanyDraft:
        return CompanyDraft(
            name=self.name,
            domain=self.domain,
            owner_id=self.owner_id,
            lifecycle_stage=self.lifecycle_stage,
        )


@strawberry.input(
    description="The fields to change: fields left out stay as they are; null clears a field "
    "(but the name, which a company keeps)."
)
class UpdateCompanyInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description=f"The company's name: {_NAME}."
    )
    domain: str | None = strawberry.field(default=strawberry.UNSET, description=_DOMAIN)
    owner_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The user who owns the company."
    )
    lifecycle_stage: LifecycleStage | None = strawberry.field(
        default=strawberry.UNSET,
        description="A later stage, or null; an earlier stage only once the stage was cleared "
        "(INVALID otherwise).",
    )

    def to_changes(self) -> dict[str, Any]:
        return {
            name: getattr(self, name)
            for name in EDITABLE_FIELDS
            if getattr(self, name) is not strawberry.UNSET
        }


@strawberry.input(
    description="An association between two records; primary applies to a contact's company only."
)
class AssociationInput:
    from_type: RecordType = strawberry.field(description="The type of the first record.")
    from_id: strawberry.ID = strawberry.field(description="The first record's id.")
    to_type: RecordType = strawberry.field(description="The type of the other record.")
    to_id: strawberry.ID = strawberry.field(description="The other record's id.")
    primary: bool | None = strawberry.field(
        default=False,
        description="True: the company becomes the contact's primary company (a contact's "
        "first company becomes primary without it).",
    )

    def to_association(self) -> Association:
        return Association(
            from_type=self.from_type,
            from_id=self.from_id,
            to_type=self.to_type,
            to_id=self.to_id,
            primary=bool(self.primary),
        )


@strawberry.type(description="The result of createCompany or updateCompany.")
class CompanyPayload:
    company: Company | None = strawberry.field(
        description="The company as written; null when userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was written; empty on success."
    )


@strawberry.type(description="The result of deleting a record.")
class DeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        description="The id of the deleted record; null when userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was deleted; empty on success."
    )


@strawberry.type(description="The result of associate or dissociate.")
class AssociationPayload:
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing changed; empty on success."
    )


def _company_payload(result: DomainCompany | list[UserError]) -> CompanyPayload:
    if isinstance(result, list):
        return CompanyPayload(company=None, user_errors=result)
    return CompanyPayload(company=Company.of(result), user_errors=[])


async def _association_payload(info: Info, call: Awaitable[None]) -> AssociationPayload:
    result = await attempt(info, call)
    return AssociationPayload(user_errors=result if isinstance(result, list) else [])


@strawberry.type
class CompanyQueries:
    @strawberry.field(description="A company the caller sees; null when none has this id.")
    async def company(self, info: Info, id: CompanyId) -> Company | None:
        found = await info.context.services.companies.get(info.context.caller, str(id))
        return None if found is None else Company.of(found)

    @strawberry.field(
        description="The companies the caller sees that match the filter, in the order they "
        "were created."
    )
    async def companies(
        self,
        info: Info,
        where: Annotated[
            CompanyFilterInput | None,
            strawberry.argument(
                name="filter", description="Which companies; omitted or null: every company."
            ),
        ] = None,
        first: First = 50,
        after: After = None,
    ) -> Connection[Company]:
        companies, caller = info.context.services.companies, info.context.caller
        selection = where.to_filter() if where is not None else CompanyFilter()
        page = await companies.page(caller, selection, first_or(first, 50), after)
        return connection(page, Company.of, lambda: companies.count(caller, selection))


@strawberry.type
class CompanyMutations:
    @strawberry.mutation(description="Creates a company; nothing on a userError.")
    async def create_company(
        self,
        info: Info,
        input: Annotated[
            CreateCompanyInput, strawberry.argument(description="The new company's fields.")
        ],
    ) -> CompanyPayload:
        ctx = info.context
        return _company_payload(
            await attempt(info, ctx.services.companies.create(ctx.caller, input.to_draft()))
        )

    @strawberry.mutation(description="Changes a company's fields; nothing on a userError.")
    async def update_company(
        self,
        info: Info,
        id: CompanyId,
        input: Annotated[
            UpdateCompanyInput, strawberry.argument(description="The fields to change.")
        ],
    ) -> CompanyPayload:
        ctx = info.context
        change = ctx.services.companies.update(ctx.caller, str(id), input.to_changes())
        return _company_payload(await attempt(info, change))

    @strawberry.mutation(
        description="Deletes a company and its associations; the contacts stay (C2)."
    )
    async def delete_company(self, info: Info, id: CompanyId) -> DeletePayload:
        ctx = info.context
        result = await attempt(info, ctx.services.companies.delete(ctx.caller, str(id)))
        if isinstance(result, list):
            return DeletePayload(deleted_id=None, user_errors=result)
        return DeletePayload(deleted_id=strawberry.ID(result), user_errors=[])

    @strawberry.mutation(
        description="Associates a contact with a company, or a deal with a contact or a "
        "company (either way round); associating them again changes nothing but the primary, "
        "when asked. A contact's companyName stays as it is (C2); a record associated with an "
        "open deal becomes an OPPORTUNITY, with a won one a CUSTOMER, never moving back (C5)."
    )
    async def associate(
        self,
        info: Info,
        input: Annotated[AssociationInput, strawberry.argument(description="The two records.")],
    ) -> AssociationPayload:
        ctx = info.context
        call = ctx.services.associations.associate(ctx.caller, input.to_association())
        return await _association_payload(info, call)

    @strawberry.mutation(
        description="Takes an association out (the contact's primary company too, when it was "
        "this one); nothing changes when there was none, and no lifecycle stage moves back."
    )
    async def dissociate(
        self,
        info: Info,
        input: Annotated[AssociationInput, strawberry.argument(description="The two records.")],
    ) -> AssociationPayload:
        ctx = info.context
        call = ctx.services.associations.dissociate(ctx.caller, input.to_association())
        return await _association_payload(info, call)

"""Companies (C1, C2, C3, C11) and a contact's associations with them.

Every read takes the caller's scope (P3): a company outside it is NOT_FOUND like a missing one,
and so is a contact outside it when an association names one. Every write records its audit
entry in its own transaction (P4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from marketing_contacts.domain.associations import Association, ContactCompany, side_of
from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.companies import (
    MAX_COMPANIES_PER_CONTACT,
    Company,
    CompanyFilter,
    company_domain,
    company_name,
)
from marketing_contacts.domain.contacts import LifecycleStage, check_lifecycle_change
from marketing_contacts.domain.errors import (
    DomainError,
    ErrorCode,
    check_id,
    record_not_found,
    refuse,
)
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.owners import check_owner
from marketing_contacts.services.paging import Page, paged

if TYPE_CHECKING:
    from marketing_contacts.services.wiring import Ports

#: the fields updateCompany may change
EDITABLE_FIELDS = ("name", "domain", "owner_id", "lifecycle_stage")


@dataclass(frozen=True)
class CompanyDraft:
    name: str
    domain: str | None = None
    owner_id: str | None = None
    lifecycle_stage: LifecycleStage | None = None


class CompanyService:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports
        self.companies = ports.companies

    async def get(self, caller: Caller, company_id: str) -> Company | None:
        check_id(company_id, "id")
        return await self.companies.get(caller.scope, company_id)

    async def get_many(self, caller: Caller, company_ids: Sequence[str]) -> list[Company]:
        """The companies among the ids that the caller sees, in the order of the ids."""
        found = {c.id: c for c in await self.companies.get_many(caller.scope, company_ids)}
        return [found[company_id] for company_id in company_ids if company_id in found]

    async def page(
        self, caller: Caller, where: CompanyFilter, first: int, after: str | None
    ) -> Page[Company]:
        where.check("filter")
        return await paged(first, after, self.companies.page(caller.scope, where, first, after))

    async def count(self, caller: Caller, where: CompanyFilter) -> int:
        where.check("filter")
        return await self.companies.count(caller.scope, where)

    async def create(self, caller: Caller, draft: CompanyDraft) -> Company:
        name = company_name(draft.name, "name")
        domain = company_domain(draft.domain, "domain")
        await check_owner(self.ports, caller, draft.owner_id)
        now = self.ports.clock.now()
        company = Company(
            id=self.ports.ids.new_id(at=now),
            account_id=caller.account_id,
            name=name,
            domain=domain,
            owner_id=draft.owner_id,
            lifecycle_stage=draft.lifecycle_stage,
            created_at=now,
            updated_at=now,
        )
        await self.companies.insert(company, self._audit(caller, "createCompany", company.id))
        return company

    async def update(self, caller: Caller, company_id: str, changes: Mapping[str, Any]) -> Company:
        """The given fields changed (null clears all but the name); nothing on an error."""
        check_id(company_id, "id")
        given = dict(changes)
        if "name" in given:
            if given["name"] is None:
                raise refuse(ErrorCode.INVALID, "a company keeps a name", "name")
            given["name"] = company_name(given["name"], "name")
        if "domain" in given:
            given["domain"] = company_domain(given["domain"], "domain")
        await check_owner(self.ports, caller, given.get("owner_id"))
        company = await self._existing(caller, company_id, "id")
        if "lifecycle_stage" in given:  # C3
            check_lifecycle_change(company.lifecycle_stage, given["lifecycle_stage"])
        if all(getattr(company, name) == value for name, value in given.items()):
            return company
        edited = replace(company, **given, updated_at=self.ports.clock.now())
        audit = self._audit(caller, "updateCompany", company.id)
        await self.companies.update_fields(company, edited, audit)
        return edited

    async def delete(self, caller: Caller, company_id: str) -> str:
        """The company, and its associations; its contacts stay (C2)."""
        company = await self._existing(caller, company_id, "id")
        audit = self._audit(caller, "deleteCompany", company.id)
        if not await self.companies.delete(caller.account_id, company.id, audit):
            raise _not_found(company_id, "id")
        return company.id

    async def associate(
        self, caller: Caller, association: Association, pair: ContactCompany
    ) -> None:
        """C2: the contact and the company, associated (again: nothing changes); the company
        becomes the contact's primary when asked, or when the contact has none."""
        await self._check_pair(caller, association, pair)
        audit = self._audit(caller, "associate", pair.contact_id, pair.company_id)
        limit = MAX_COMPANIES_PER_CONTACT
        if not await self.companies.associate(caller.account_id, pair, limit, audit):
            contact = await self.ports.contacts.get(caller.scope, pair.contact_id)
            if contact is not None and len(contact.company_ids) >= limit:
                raise refuse(
                    ErrorCode.TOO_MANY,
                    f"a contact is associated with at most {limit} companies",
                    side_of(association, pair.contact_id),
                )
            raise self._gone(association, pair, contact is None)

    async def dissociate(
        self, caller: Caller, association: Association, pair: ContactCompany
    ) -> None:
        """The association taken out (and the primary, when it was this company); nothing when
        there was none."""
        await self._check_pair(caller, association, pair)
        audit = self._audit(caller, "dissociate", pair.contact_id, pair.company_id)
        await self.companies.dissociate(caller.account_id, pair, audit)

    async def _check_pair(
        self, caller: Caller, association: Association, pair: ContactCompany
    ) -> None:
        """The association's contact and company, both seen by the caller (NOT_FOUND at the
        side that is not)."""
        if await self.ports.contacts.get(caller.scope, pair.contact_id) is None:
            raise record_not_found(
                "contact", pair.contact_id, side_of(association, pair.contact_id)
            )
        await self._existing(caller, pair.company_id, side_of(association, pair.company_id))

    def _gone(self, association: Association, pair: ContactCompany, contact: bool) -> DomainError:
        """A record that went between the check and the write."""
        if contact:
            return record_not_found(
                "contact", pair.contact_id, side_of(association, pair.contact_id)
            )
        return _not_found(pair.company_id, side_of(association, pair.company_id))

    async def _existing(self, caller: Caller, company_id: str, field: str) -> Company:
        check_id(company_id, field)
        company = await self.companies.get(caller.scope, company_id)
        if company is None:
            raise _not_found(company_id, field)
        return company

    def _audit(self, caller: Caller, action: str, *record_ids: str) -> AuditEntry:
        return self.ports.audit_entry(caller.account_id, caller.actor, action, record_ids)


def _not_found(company_id: str, field: str) -> DomainError:
    return record_not_found("company", company_id, field)

"""Companies in memory; a contact's associations on the contact, as the real store keeps them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, replace
from typing import TYPE_CHECKING

from marketing_contacts.domain.associations import ContactCompany, RecordType
from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.companies import Company, CompanyFilter
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page
from tests.support.waiting import let_others_run
from tests.unit.services.fake_audit import record
from tests.unit.services.fake_deals import drop_from_deals
from tests.unit.services.fake_paging import keyset_page, object_id

if TYPE_CHECKING:
    from tests.unit.services.fakes import FakeData


class FakeCompanyStore:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def _seen(self, scope: Scope) -> list[Company]:
        return [
            company
            for company in self.data.companies.values()
            if company.account_id == scope.account_id and scope.sees(company.owner_id)
        ]

    async def insert(self, company: Company, audit: AuditEntry | None = None) -> None:
        await let_others_run()
        if company.id in self.data.companies:
            raise ValueError(f"company {company.id} exists")
        self.data.companies[company.id] = company
        record(self.data, audit)

    async def get(self, scope: Scope, company_id: str) -> Company | None:
        await let_others_run()
        return next((c for c in self._seen(scope) if c.id == company_id), None)

    async def get_many(self, scope: Scope, company_ids: Sequence[str]) -> list[Company]:
        await let_others_run()
        wanted = set(company_ids)
        return [company for company in self._seen(scope) if company.id in wanted]

    async def page(
        self, scope: Scope, where: CompanyFilter, first: int, after: str | None
    ) -> Page[Company]:
        await let_others_run()
        found = [company for company in self._seen(scope) if where.matches(company)]
        return keyset_page(found, lambda c: c.id, object_id, "company", first, after)

    async def count(self, scope: Scope, where: CompanyFilter) -> int:
        await let_others_run()
        return sum(where.matches(company) for company in self._seen(scope))

    async def update_fields(
        self, before: Company, after: Company, audit: AuditEntry | None = None
    ) -> None:
        await let_others_run()
        stored = self.data.companies.get(after.id)
        if stored is None or stored.account_id != after.account_id:
            return
        changed = {
            f.name: getattr(after, f.name)
            for f in fields(Company)
            if getattr(before, f.name) != getattr(after, f.name)
        }
        if changed:
            self.data.companies[after.id] = replace(stored, **changed)
            record(self.data, audit)

    async def delete(
        self, account_id: str, company_id: str, audit: AuditEntry | None = None
    ) -> bool:
        await let_others_run()
        company = self.data.companies.get(company_id)
        if company is None or company.account_id != account_id:
            return False
        del self.data.companies[company_id]
        drop_from_deals(self.data, RecordType.COMPANY, {company_id})
        for contact in list(self.data.contacts.values()):
            if contact.account_id == account_id and company_id in contact.company_ids:
                primary = contact.primary_company_id
                self.data.contacts[contact.id] = replace(
                    contact,
                    company_ids=contact.company_ids - {company_id},
                    primary_company_id=None if primary == company_id else primary,
                )
        record(self.data, audit)
        return True

    async def associate(
        self, account_id: str, pair: ContactCompany, limit: int, audit: AuditEntry | None = None
    ) -> bool:
        await let_others_run()
        contact = self.data.contacts.get(pair.contact_id)
        company = self.data.companies.get(pair.company_id)
        if contact is None or company is None or account_id != contact.account_id:
            return False
        if company.account_id != account_id:
            return False
        has = pair.company_id in contact.company_ids
        if not has and len(contact.company_ids) >= limit:
            return False
        primary = contact.primary_company_id
        self.data.contacts[contact.id] = replace(
            contact,
            company_ids=contact.company_ids | {pair.company_id},
            primary_company_id=pair.company_id if pair.primary or primary is None else primary,
        )
        record(self.data, audit)
        return True

    async def dissociate(
        self, account_id: str, pair: ContactCompany, audit: AuditEntry | None = None
    ) -> bool:
        await let_others_run()
        contact = self.data.contacts.get(pair.contact_id)
        if contact is None or contact.account_id != account_id:
            return False
        if pair.company_id not in contact.company_ids:
            return False
        primary = contact.primary_company_id
        self.data.contacts[contact.id] = replace(
            contact,
            company_ids=contact.company_ids - {pair.company_id},
            primary_company_id=None if primary == pair.company_id else primary,
        )
        record(self.data, audit)
        return True

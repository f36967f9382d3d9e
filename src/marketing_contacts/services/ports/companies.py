"""Companies, and their associations with contacts (kept with the contacts, C2)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from marketing_contacts.domain.associations import ContactCompany
from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.companies import Company, CompanyFilter
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page


class CompanyStore(Protocol):
    """Every read takes the caller's scope (P3), as the contacts' do; every write takes its
    audit entry (P4) and writes it in the same transaction."""

    async def insert(self, company: Company, audit: AuditEntry | None = None) -> None: ...

    async def get(self, scope: Scope, company_id: str) -> Company | None: ...

    async def get_many(self, scope: Scope, company_ids: Sequence[str]) -> list[Company]:
        """The companies among the ids that the scope sees, in no particular order."""
        ...

    async def page(
        self, scope: Scope, where: CompanyFilter, first: int, after: str | None
    ) -> Page[Company]:
        """The companies the filter selects, in the order they were created."""
        ...

    async def count(self, scope: Scope, where: CompanyFilter) -> int: ...

    async def update_fields(
        self, before: Company, after: Company, audit: AuditEntry | None = None
    ) -> None:
        """Write the fields that differ (concurrent edits of the others stay)."""
        ...

    async def delete(
        self, account_id: str, company_id: str, audit: AuditEntry | None = None
    ) -> bool:
        """Remove the company and its associations (the contacts stay), in one transaction;
        False, and nothing written, when it did not exist."""
        ...

    async def associate(
        self, account_id: str, pair: ContactCompany, limit: int, audit: AuditEntry | None = None
    ) -> bool:
        """Associate the contact with the company, in one transaction that finds both: the
        company becomes primary when asked or when the contact has no primary yet. False, and
        nothing written, when either is gone, or the contact already has `limit` companies
        and not this one."""
        ...

    async def dissociate(
        self, account_id: str, pair: ContactCompany, audit: AuditEntry | None = None
    ) -> bool:
        """Take the association out (and the primary, when it was this company); False, and
        nothing written, when there was none."""
        ...

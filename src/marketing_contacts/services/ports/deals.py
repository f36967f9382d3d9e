"""Deals, and their associations with contacts and companies (kept with the deal, C5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from marketing_contacts.domain.associations import DealRecord, RecordRef, RecordType
from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.deals import Deal
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page


@dataclass(frozen=True)
class RecordDeals:
    """The first page of one record's deals, and how many it has (that the scope sees)."""

    page: Page[Deal]
    total: int


class DealStore(Protocol):
    """Every read takes the caller's scope (P3); every write takes its audit entry (P4) and
    writes it in the same transaction. A write that changes which records a deal holds, or its
    stage, moves those records' lifecycle stages forward in the same transaction (C5:
    `lifecycle_target` of the deal's stage, never backwards, C3)."""

    async def insert(self, deal: Deal, audit: AuditEntry | None = None) -> bool:
        """Store the deal, moving its records forward; False, and nothing written, when one of
        its contacts or companies is gone."""
        ...

    async def get(self, scope: Scope, deal_id: str) -> Deal | None: ...

    async def page(
        self, scope: Scope, first: int, after: str | None, of: RecordRef | None = None
    ) -> Page[Deal]:
        """The deals the scope sees, in the order they were created; only those of one contact
        or company when `of` names it."""
        ...

    async def count(self, scope: Scope, of: RecordRef | None = None) -> int: ...

    async def first_pages(
        self, scope: Scope, record_type: RecordType, record_ids: Sequence[str], first: int
    ) -> dict[str, RecordDeals]:
        """The first page of the deals of each record at once (a page of contacts' deals)."""
        ...

    async def update_fields(
        self, before: Deal, after: Deal, audit: AuditEntry | None = None
    ) -> bool:
        """Write the fields that differ (concurrent edits of the others stay), moving the
        deal's records forward when the stage changed; False when the deal is gone."""
        ...

    async def delete(self, account_id: str, deal_id: str, audit: AuditEntry | None = None) -> bool:
        """Remove the deal (its records stay where their stages are); False, and nothing
        written, when it did not exist."""
        ...

    async def associate(
        self,
        account_id: str,
        pair: DealRecord,
        limit: int,
        at: datetime,
        audit: AuditEntry | None = None,
    ) -> bool:
        """Associate the record with the deal and move it forward (changed `at`), in one
        transaction that
        finds both; False, and nothing written, when either is gone, or the deal already holds
        `limit` records of the type and not this one."""
        ...

    async def dissociate(
        self, account_id: str, pair: DealRecord, audit: AuditEntry | None = None
    ) -> bool:
        """Take the association out (the record keeps its stage); False, and nothing written,
        when there was none."""
        ...

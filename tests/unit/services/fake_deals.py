"""Deals in memory; a deal keeps its records' ids and moves their stages forward in the write
that changes it, as the real store does (C5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import datetime
from typing import TYPE_CHECKING

from marketing_contacts.domain.associations import DealRecord, RecordRef, RecordType
from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.deals import Deal, lifecycle_target, moved_by
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page
from marketing_contacts.services.ports.deals import RecordDeals
from tests.support.waiting import let_others_run
from tests.unit.services.fake_audit import record
from tests.unit.services.fake_paging import keyset_page, object_id

if TYPE_CHECKING:
    from tests.unit.services.fakes import FakeData

KIND = "deal"


def held(deal: Deal, record_type: RecordType) -> tuple[str, ...]:
    return deal.contact_ids if record_type is RecordType.CONTACT else deal.company_ids


class FakeDealStore:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def _seen(self, scope: Scope, of: RecordRef | None = None) -> list[Deal]:
        return [
            deal
            for deal in self.data.deals.values()
            if deal.account_id == scope.account_id
            and scope.sees(deal.owner_id)
            and (of is None or of.id in held(deal, of.type))
        ]

    def _exists(self, account_id: str, record_type: RecordType, record_id: str) -> bool:
        records = self.data.contacts if record_type is RecordType.CONTACT else self.data.companies
        found = records.get(record_id)
        return found is not None and found.account_id == account_id

    def _move_forward(
        self, deal: Deal, record_ids: Sequence[str], record_type: RecordType, at: datetime
    ) -> None:
        target = lifecycle_target(deal.stage)
        if target is None:
            return
        behind = moved_by(target)
        records = self.data.contacts if record_type is RecordType.CONTACT else self.data.companies
        for record_id in record_ids:
            found = records.get(record_id)
            if found is not None and found.lifecycle_stage in behind:
                records[record_id] = replace(found, lifecycle_stage=target, updated_at=at)  # type: ignore[assignment]

    def _move_all(self, deal: Deal, at: datetime) -> None:
        self._move_forward(deal, deal.contact_ids, RecordType.CONTACT, at)
        self._move_forward(deal, deal.company_ids, RecordType.COMPANY, at)

    async def insert(self, deal: Deal, audit: AuditEntry | None = None) -> bool:
        await let_others_run()
        for record_type in RecordType.CONTACT, RecordType.COMPANY:
            if not all(
                self._exists(deal.account_id, record_type, i) for i in held(deal, record_type)
            ):
                return False
        self.data.deals[deal.id] = deal
        self._move_all(deal, deal.updated_at)
        record(self.data, audit)
        return True

    async def get(self, scope: Scope, deal_id: str) -> Deal | None:
        await let_others_run()
        return next((deal for deal in self._seen(scope) if deal.id == deal_id), None)

    async def page(
        self, scope: Scope, first: int, after: str | None, of: RecordRef | None = None
    ) -> Page[Deal]:
        await let_others_run()
        return keyset_page(self._seen(scope, of), lambda d: d.id, object_id, KIND, first, after)

    async def count(self, scope: Scope, of: RecordRef | None = None) -> int:
        await let_others_run()
        return len(self._seen(scope, of))

    async def first_pages(
        self, scope: Scope, record_type: RecordType, record_ids: Sequence[str], first: int
    ) -> dict[str, RecordDeals]:
        await let_others_run()
        pages = {}
        for record_id in record_ids:
            deals = self._seen(scope, RecordRef(record_type, record_id))
            page = keyset_page(deals, lambda d: d.id, object_id, KIND, first, None)
            pages[record_id] = RecordDeals(page, len(deals))
        return pages

    async def update_fields(
        self, before: Deal, after: Deal, audit: AuditEntry | None = None
    ) -> bool:
        await let_others_run()
        stored = self.data.deals.get(after.id)
        if stored is None or stored.account_id != after.account_id:
            return False
        changed = {
            f.name: getattr(after, f.name)
            for f in fields(Deal)
            if f.name not in ("contact_ids", "company_ids")
            and getattr(before, f.name) != getattr(after, f.name)
        }
        if changed:
            deal = self.data.deals[after.id] = replace(stored, **changed)
            if "stage" in changed:
                self._move_all(deal, deal.updated_at)
            record(self.data, audit)
        return True

    async def delete(self, account_id: str, deal_id: str, audit: AuditEntry | None = None) -> bool:
        await let_others_run()
        deal = self.data.deals.get(deal_id)
        if deal is None or deal.account_id != account_id:
            return False
        del self.data.deals[deal_id]
        record(self.data, audit)
        return True

    async def associate(
        self,
        account_id: str,
        pair: DealRecord,
        limit: int,
        at: datetime,
        audit: AuditEntry | None = None,
    ) -> bool:
        await let_others_run()
        deal = self.data.deals.get(pair.deal_id)
        if deal is None or deal.account_id != account_id:
            return False
        if not self._exists(account_id, pair.record_type, pair.record_id):
            return False
        ids = held(deal, pair.record_type)
        if pair.record_id not in ids:
            if len(ids) >= limit:
                return False
            deal = self.data.deals[deal.id] = _holding(
                deal, pair.record_type, (*ids, pair.record_id)
            )
        self._move_forward(deal, [pair.record_id], pair.record_type, at)
        record(self.data, audit)
        return True

    async def dissociate(
        self, account_id: str, pair: DealRecord, audit: AuditEntry | None = None
    ) -> bool:
        await let_others_run()
        deal = self.data.deals.get(pair.deal_id)
        if deal is None or deal.account_id != account_id:
            return False
        ids = held(deal, pair.record_type)
        if pair.record_id not in ids:
            return False
        kept = tuple(i for i in ids if i != pair.record_id)
        self.data.deals[deal.id] = _holding(deal, pair.record_type, kept)
        record(self.data, audit)
        return True


def drop_from_deals(data: FakeData, record_type: RecordType, record_ids: set[str]) -> None:
    """Deleted records taken out of their deals, as the real deletes do."""
    for deal in list(data.deals.values()):
        kept = tuple(i for i in held(deal, record_type) if i not in record_ids)
        if kept != held(deal, record_type):
            data.deals[deal.id] = _holding(deal, record_type, kept)


def _holding(deal: Deal, record_type: RecordType, record_ids: tuple[str, ...]) -> Deal:
    if record_type is RecordType.CONTACT:
        return replace(deal, contact_ids=record_ids)
    return replace(deal, company_ids=record_ids)

"""Deals (C1, C5) and their associations with contacts and companies.

Every read takes the caller's scope (P3): a deal outside it is NOT_FOUND like a missing one, and
so is a contact or company outside it that an input names. A deal's stage moves its records'
lifecycle stages forward in the write that changes it (C5, storage.deals); every write records
its audit entry in its own transaction (P4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from marketing_contacts.domain.associations import (
    Association,
    DealRecord,
    RecordRef,
    RecordType,
    side_of,
)
from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.deals import (
    MAX_RECORDS_PER_DEAL,
    Deal,
    DealStage,
    deal_amount,
    deal_name,
)
from marketing_contacts.domain.errors import (
    MAX_NAMED_IDS,
    DomainError,
    ErrorCode,
    check_id,
    check_ids,
    record_not_found,
    records_not_found,
    refuse,
)
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.owners import check_owner
from marketing_contacts.services.paging import Page, check_first, paged
from marketing_contacts.services.ports.deals import RecordDeals

if TYPE_CHECKING:
    from marketing_contacts.services.wiring import Ports

#: the fields updateDeal may change
EDITABLE_FIELDS = ("name", "stage", "amount", "close_date", "owner_id")
#: the fields a deal always has: null is no value for them
_KEPT = {"name": "a deal keeps a name", "stage": "a deal is always at a stage"}


@dataclass(frozen=True)
class DealDraft:
    name: str
    stage: DealStage
    amount: Decimal | None = None
    close_date: date | None = None
    owner_id: str | None = None
    contact_ids: Sequence[str] = ()
    company_ids: Sequence[str] = ()


class DealService:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports
        self.deals = ports.deals

    async def get(self, caller: Caller, deal_id: str) -> Deal | None:
        check_id(deal_id, "id")
        return await self.deals.get(caller.scope, deal_id)

    async def page(
        self, caller: Caller, first: int, after: str | None, of: RecordRef | None = None
    ) -> Page[Deal]:
        return await paged(first, after, self.deals.page(caller.scope, first, after, of))

    async def count(self, caller: Caller, of: RecordRef | None = None) -> int:
        return await self.deals.count(caller.scope, of)

    async def first_pages(
        self, caller: Caller, record_type: RecordType, record_ids: Sequence[str], first: int
    ) -> dict[str, RecordDeals]:
        """The first page of the deals of many records at once (a page of contacts')."""
        check_first(first)
        return await self.deals.first_pages(caller.scope, record_type, record_ids, first)

    async def create(self, caller: Caller, draft: DealDraft) -> Deal:
        """C5: the deal, its records moved forward to where its stage takes them."""
        name = deal_name(draft.name, "name")
        amount = deal_amount(draft.amount, "amount")
        await check_owner(self.ports, caller, draft.owner_id)
        contact_ids = _named(draft.contact_ids, "contact_ids")
        company_ids = _named(draft.company_ids, "company_ids")
        await self._check_seen(caller, contact_ids, company_ids)
        now = self.ports.clock.now()
        deal = Deal(
            id=self.ports.ids.new_id(at=now),
            account_id=caller.account_id,
            name=name,
            stage=draft.stage,
            amount=amount,
            close_date=draft.close_date,
            owner_id=draft.owner_id,
            contact_ids=contact_ids,
            company_ids=company_ids,
            created_at=now,
            updated_at=now,
        )
        audit = self._audit(caller, "createDeal", deal.id, *contact_ids, *company_ids)
        if not await self.deals.insert(deal, audit):  # one of them went meanwhile
            await self._check_seen(caller, contact_ids, company_ids)
            raise refuse(ErrorCode.CONFLICT, "a record of the deal went meanwhile: try again")
        return deal

    async def update(self, caller: Caller, deal_id: str, changes: Mapping[str, Any]) -> Deal:
        """The given fields changed (null clears the amount, the close date and the owner); a
        new stage moves the deal's records forward (C5); nothing on an error."""
        check_id(deal_id, "id")
        given = dict(changes)
        for name, why in _KEPT.items():
            if name in given and given[name] is None:
                raise refuse(ErrorCode.INVALID, why, name)
        if "name" in given:
            given["name"] = deal_name(given["name"], "name")
        if "amount" in given:
            given["amount"] = deal_amount(given["amount"], "amount")
        await check_owner(self.ports, caller, given.get("owner_id"))
        deal = await self._existing(caller, deal_id, "id")
        if all(getattr(deal, name) == value for name, value in given.items()):
            return deal
        edited = replace(deal, **given, updated_at=self.ports.clock.now())
        if not await self.deals.update_fields(
            deal, edited, self._audit(caller, "updateDeal", deal.id)
        ):
            raise record_not_found("deal", deal_id, "id")
        return edited

    async def delete(self, caller: Caller, deal_id: str) -> str:
        """The deal; its contacts and companies stay, at their stages."""
        deal = await self._existing(caller, deal_id, "id")
        if not await self.deals.delete(
            caller.account_id, deal.id, self._audit(caller, "deleteDeal", deal.id)
        ):
            raise record_not_found("deal", deal_id, "id")
        return deal.id

    async def associate(self, caller: Caller, association: Association, pair: DealRecord) -> None:
        """The record and the deal, associated (again: nothing changes); the record moves
        forward to where the deal's stage takes it (C5)."""
        await self._check_pair(caller, association, pair)
        audit = self._audit(caller, "associate", pair.deal_id, pair.record_id)
        now = self.ports.clock.now()
        limit = MAX_RECORDS_PER_DEAL
        if await self.deals.associate(caller.account_id, pair, limit, now, audit):
            return
        deal = await self.deals.get(caller.scope, pair.deal_id)
        if deal is not None and len(_held(deal, pair.record_type)) >= limit:
            raise refuse(
                ErrorCode.TOO_MANY,
                f"a deal is associated with at most {limit} {pair.record_type.value.lower()}s",
                side_of(association, pair.deal_id),
            )
        await self._check_pair(caller, association, pair)  # the one that went meanwhile
        raise refuse(ErrorCode.CONFLICT, "a record changed meanwhile: try again")

    async def dissociate(self, caller: Caller, association: Association, pair: DealRecord) -> None:
        """The association taken out (the record keeps its stage); nothing when there was
        none."""
        await self._check_pair(caller, association, pair)
        audit = self._audit(caller, "dissociate", pair.deal_id, pair.record_id)
        await self.deals.dissociate(caller.account_id, pair, audit)

    async def _check_pair(self, caller: Caller, association: Association, pair: DealRecord) -> None:
        """The deal and the record, both seen by the caller (NOT_FOUND at the side that is
        not)."""
        await self._existing(caller, pair.deal_id, side_of(association, pair.deal_id))
        kind = pair.record_type.value.lower()
        field = side_of(association, pair.record_id)
        if pair.record_type is RecordType.CONTACT:
            seen = await self.ports.contacts.get(caller.scope, pair.record_id) is not None
        else:
            seen = await self.ports.companies.get(caller.scope, pair.record_id) is not None
        if not seen:
            raise record_not_found(kind, pair.record_id, field)

    async def _check_seen(
        self, caller: Caller, contact_ids: Sequence[str], company_ids: Sequence[str]
    ) -> None:
        """NOT_FOUND at the index of each named record the caller does not see."""
        contacts = (
            await self.ports.contacts.get_many(caller.scope, contact_ids) if contact_ids else []
        )
        companies = (
            await self.ports.companies.get_many(caller.scope, company_ids) if company_ids else []
        )
        refused = [
            found
            for found in (
                records_not_found("contact", contact_ids, {c.id for c in contacts}, "contact_ids"),
                records_not_found("company", company_ids, {c.id for c in companies}, "company_ids"),
            )
            if found is not None
        ]
        if refused:
            raise DomainError(*(error for found in refused for error in found.errors))

    async def _existing(self, caller: Caller, deal_id: str, field: str) -> Deal:
        check_id(deal_id, field)
        deal = await self.deals.get(caller.scope, deal_id)
        if deal is None:
            raise record_not_found("deal", deal_id, field)
        return deal

    def _audit(self, caller: Caller, action: str, *record_ids: str) -> AuditEntry:
        return self.ports.audit_entry(caller.account_id, caller.actor, action, record_ids)


def _named(record_ids: Sequence[str], field: str) -> tuple[str, ...]:
    """The ids an input names, each once, in their order: at most MAX_NAMED_IDS."""
    check_ids(record_ids, field)
    unique = tuple(dict.fromkeys(record_ids))
    if len(unique) > MAX_NAMED_IDS:
        raise refuse(ErrorCode.TOO_MANY, f"name at most {MAX_NAMED_IDS} records", field)
    return unique


def _held(deal: Deal, record_type: RecordType) -> tuple[str, ...]:
    return deal.contact_ids if record_type is RecordType.CONTACT else deal.company_ids

"""The deals collection (C1, C5). A deal keeps the ids of its contacts and companies, so the
deals of a record are read by the indexes on (account_id, contact_ids, _id) and
(account_id, company_ids, _id), and a stage change finds the records it moves in the document
it writes.

C5's follow-on changes are written in the transaction that changes the deal: a won deal's
records become customers in the commit that wins it, or not at all. A deal holds at most
MAX_RECORDS_PER_DEAL records of each type, so that transaction stays bounded; a worker job would
leave a moment in which the deal is won and its contacts are not customers yet, and a way for
the two to part if the job were lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from bson import ObjectId
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from marketing_contacts.domain.associations import DealRecord, RecordRef, RecordType
from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.deals import Deal, DealStage, lifecycle_target, moved_by
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page
from marketing_contacts.services.ports.deals import RecordDeals
from marketing_contacts.storage.audit import record
from marketing_contacts.storage.database import (
    COMPANIES,
    CONTACTS,
    DEALS,
    Doc,
    Mongo,
)
from marketing_contacts.storage.engagements import drop_from_engagements
from marketing_contacts.storage.ids import oid
from marketing_contacts.storage.paging import (
    Keyset,
    counts_of,
    first_pages_of,
    keyset_page,
    page_of,
)
from marketing_contacts.storage.scopes import scoped
from marketing_contacts.storage.transactions import transact

PAGES = Keyset("deal")
#: where a deal keeps the ids of each type of record, and where those records are
HELD_IN = {RecordType.CONTACT: "contact_ids", RecordType.COMPANY: "company_ids"}
STORED_IN = {RecordType.CONTACT: CONTACTS, RecordType.COMPANY: COMPANIES}


def _by_account(*keys: str) -> IndexModel:
    return IndexModel([("account_id", ASCENDING), *((key, ASCENDING) for key in keys)])


INDEXES = {
    DEALS: [
        # the account's deals in creation order; by owner (P3); a contact's, a company's
        _by_account("_id"),
        _by_account("owner_id", "_id"),
        _by_account("contact_ids", "_id"),
        _by_account("company_ids", "_id"),
    ]
}


def deal_fields(deal: Deal) -> Doc:
    """Every field of a deal that an edit may change (its associations change apart)."""
    return {
        "name": deal.name,
        "stage": deal.stage.value,
        "amount": None if deal.amount is None else str(deal.amount),
        "close_date": None if deal.close_date is None else deal.close_date.isoformat(),
        "owner_id": deal.owner_id,
        "updated_at": deal.updated_at,
    }


def deal_doc(deal: Deal) -> Doc:
    return {
        "_id": ObjectId(deal.id),
        "account_id": ObjectId(deal.account_id),
        "created_at": deal.created_at,
        **deal_fields(deal),
        "contact_ids": list(deal.contact_ids),
        "company_ids": list(deal.company_ids),
    }


def deal_from(doc: Doc) -> Deal:
    amount, close_date = doc["amount"], doc["close_date"]
    return Deal(
        id=str(doc["_id"]),
        account_id=str(doc["account_id"]),
        name=doc["name"],
        stage=DealStage(doc["stage"]),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        amount=None if amount is None else Decimal(amount),
        close_date=None if close_date is None else date.fromisoformat(close_date),
        owner_id=doc["owner_id"],
        contact_ids=tuple(doc["contact_ids"]),
        company_ids=tuple(doc["company_ids"]),
    )


def _deals_query(scope: Scope, of: RecordRef | None) -> Doc:
    query = scoped(scope)
    if of is not None:
        query[HELD_IN[of.type]] = of.id
    return query


class MongoDealStore:
    def __init__(self, mongo: Mongo) -> None:
        self.mongo = mongo
        self.deals = mongo[DEALS]

    async def insert(self, deal: Deal, audit: AuditEntry | None = None) -> bool:
        async def work(session: AsyncClientSession) -> bool:
            for record_type, record_ids in _records_of(deal):
                if not await self._all_exist(deal.account_id, record_type, record_ids, session):
                    return False
            await self.deals.insert_one(deal_doc(deal), session=session)
            await self._move_forward(deal_doc(deal), session)
            await record(self.mongo, audit, session)
            return True

        return await transact(self.mongo, work)

    async def get(self, scope: Scope, deal_id: str) -> Deal | None:
        key = oid(deal_id)
        if key is None:
            return None
        doc = await self.deals.find_one({"_id": key, **scoped(scope)})
        return None if doc is None else deal_from(doc)

    async def page(
        self, scope: Scope, first: int, after: str | None, of: RecordRef | None = None
    ) -> Page[Deal]:
        query = _deals_query(scope, of)
        return await keyset_page(self.deals, query, PAGES, first, after, deal_from)

    async def count(self, scope: Scope, of: RecordRef | None = None) -> int:
        return await self.deals.count_documents(_deals_query(scope, of))

    async def first_pages(
        self, scope: Scope, record_type: RecordType, record_ids: Sequence[str], first: int
    ) -> dict[str, RecordDeals]:
        # each record's oldest first + 1 and its count, limited reads of the index, in two
        # commands whatever the number of records
        queries = {i: _deals_query(scope, RecordRef(record_type, i)) for i in record_ids}
        found = await first_pages_of(self.deals, queries, PAGES, first)
        totals = await counts_of(self.deals, queries)
        return {
            i: RecordDeals(page_of(found[i], first, PAGES, deal_from), totals[i])
            for i in record_ids
        }

    async def update_fields(
        self, before: Deal, after: Deal, audit: AuditEntry | None = None
    ) -> bool:
        old, new = deal_fields(before), deal_fields(after)
        changed = {name: value for name, value in new.items() if old[name] != value}
        if not changed:
            return True

        async def work(session: AsyncClientSession) -> bool:
            doc = await self.deals.find_one_and_update(
                {"_id": oid(after.id), "account_id": oid(after.account_id)},
                {"$set": changed},
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            if doc is None:
                return False
            if "stage" in changed:  # C5: the records of the deal as it now stands
                await self._move_forward(doc, session)
            await record(self.mongo, audit, session)
            return True

        return await transact(self.mongo, work)

    async def delete(self, account_id: str, deal_id: str, audit: AuditEntry | None = None) -> bool:
        account, key = oid(account_id), oid(deal_id)
        if key is None:
            return False

        async def work(session: AsyncClientSession) -> bool:
            gone = await self.deals.delete_one({"_id": key, "account_id": account}, session=session)
            if not gone.deleted_count:
                return False
            await drop_from_engagements(self.mongo, account_id, [deal_id], session)
            await record(self.mongo, audit, session)
            return True

        return await transact(self.mongo, work)

    async def associate(
        self,
        account_id: str,
        pair: DealRecord,
        limit: int,
        at: datetime,
        audit: AuditEntry | None = None,
    ) -> bool:
        held_in = HELD_IN[pair.record_type]

        async def work(session: AsyncClientSession) -> bool:
            if not await self._all_exist(account_id, pair.record_type, [pair.record_id], session):
                return False
            # associated already, or room for one more
            room = {
                "$or": [{held_in: pair.record_id}, {f"{held_in}.{limit - 1}": {"$exists": False}}]
            }
            doc = await self.deals.find_one_and_update(
                {"_id": oid(pair.deal_id), "account_id": oid(account_id), **room},
                {"$addToSet": {held_in: pair.record_id}},
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            if doc is None:
                return False
            # the record alone moves, as of the association
            moved = {**doc, "contact_ids": [], "company_ids": [], held_in: [pair.record_id]}
            moved["updated_at"] = at
            await self._move_forward(moved, session)
            await record(self.mongo, audit, session)
            return True

        return await transact(self.mongo, work)

    async def dissociate(
        self, account_id: str, pair: DealRecord, audit: AuditEntry | None = None
    ) -> bool:
        held_in = HELD_IN[pair.record_type]
        this = {"_id": oid(pair.deal_id), "account_id": oid(account_id), held_in: pair.record_id}

        async def work(session: AsyncClientSession) -> bool:
            taken = await self.deals.update_one(
                this, {"$pull": {held_in: pair.record_id}}, session=session
            )
            if not taken.modified_count:
                return False
            await record(self.mongo, audit, session)
            return True

        if oid(pair.deal_id) is None:
            return False
        return await transact(self.mongo, work)

    async def _all_exist(
        self,
        account_id: str,
        record_type: RecordType,
        record_ids: Sequence[str],
        session: AsyncClientSession,
    ) -> bool:
        """Every one of the records is still there (read in the transaction that holds them)."""
        if not record_ids:
            return True
        keys = [oid(record_id) for record_id in record_ids]
        if None in keys:
            return False
        found = await self.mongo[STORED_IN[record_type]].count_documents(
            {"_id": {"$in": keys}, "account_id": oid(account_id)}, session=session
        )
        return found == len(set(record_ids))

    async def _move_forward(self, deal: Doc, session: AsyncClientSession) -> None:
        """C5, C3: the deal's records moved forward to where its stage takes them."""
        target = lifecycle_target(DealStage(deal["stage"]))
        if target is None:
            return
        behind = [None if stage is None else stage.value for stage in moved_by(target)]
        for record_type, held_in in HELD_IN.items():
            if not deal[held_in]:
                continue
            await self.mongo[STORED_IN[record_type]].update_many(
                {
                    "_id": {"$in": [oid(record_id) for record_id in deal[held_in]]},
                    "account_id": deal["account_id"],
                    "lifecycle_stage": {"$in": behind},
                },
                {"$set": {"lifecycle_stage": target.value, "updated_at": deal["updated_at"]}},
                session=session,
            )


async def drop_from_deals(
    mongo: Mongo,
    account_id: str,
    record_type: RecordType,
    record_ids: Sequence[str],
    session: AsyncClientSession,
) -> None:
    """Deleted contacts or companies taken out of their deals, in the delete's own transaction
    (the deals stay, with the records they still have)."""
    if record_ids:
        held_in = HELD_IN[record_type]
        await mongo[DEALS].update_many(
            {"account_id": oid(account_id), held_in: {"$in": list(record_ids)}},
            {"$pull": {held_in: {"$in": list(record_ids)}}},
            session=session,
        )


def _records_of(deal: Deal) -> list[tuple[RecordType, tuple[str, ...]]]:
    return [(RecordType.CONTACT, deal.contact_ids), (RecordType.COMPANY, deal.company_ids)]

"""Engagements (C6, C12): one document per engagement, holding the ids of the records it is
associated with (`record_ids`), so a record's engagements are read by the index on
(account_id, record_ids, _id). An engagement's id carries the second it happened
(IdGenerator.new_id(at=...)), so a record's engagements newest first are its ids descending.

Each record (a contact, a company, a deal) keeps on its own document:

- `engagement_count`, moved by a conditional update in the transaction that inserts the
  engagement, and only while it is under the limit (a missing count is none). Concurrent logs
  against one record write the same document: one transaction commits, the others conflict and
  run again on the count it committed, so no race associates one more than the limit.
- `last_activity_at` and `last_contacted_at`, moved by `$max` (never backwards) here and only
  here: the record's own writes never `$set` them, so an edit cannot take back a date that an
  engagement moved meanwhile. A record past the limit gets its dates moved all the same.

Deleting a record takes its id out of its engagements' `record_ids` in the delete's own
transaction (storage.writer for contacts, storage.companies, storage.deals).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from enum import Enum, auto

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection

from marketing_contacts.domain.associations import RecordRef, RecordType
from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.engagements import (
    Engagement,
    EngagementType,
    moves_last_contacted,
)
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page
from marketing_contacts.storage.audit import record
from marketing_contacts.storage.database import (
    COMPANIES,
    CONTACTS,
    DEALS,
    ENGAGEMENTS,
    Doc,
    Mongo,
)
from marketing_contacts.storage.ids import oid
from marketing_contacts.storage.paging import Keyset, first_pages_of, keyset_page, page_of
from marketing_contacts.storage.scopes import scoped
from marketing_contacts.storage.transactions import transact

PAGES = Keyset("engagement", descending=True)

#: where the records of each type are kept
COLLECTIONS = {
    RecordType.CONTACT: CONTACTS,
    RecordType.COMPANY: COMPANIES,
    RecordType.DEAL: DEALS,
}

INDEXES = {
    ENGAGEMENTS: [
        # a record's engagements newest first (record_ids is an array)
        IndexModel([("account_id", ASCENDING), ("record_ids", ASCENDING), ("_id", DESCENDING)])
    ]
}


class Touched(Enum):
    """What logging an engagement did to one record it names."""

    #: dates moved, and associated (its count moved)
    ASSOCIATED = auto()
    #: dates moved; it holds the limit already (C6)
    PAST_LIMIT = auto()
    #: deleted since it was named: nothing
    GONE = auto()


def engagement_doc(engagement: Engagement) -> Doc:
    return {
        "_id": ObjectId(engagement.id),
        "account_id": ObjectId(engagement.account_id),
        "type": engagement.type.value,
        "occurred_at": engagement.occurred_at,
        "body": engagement.body,
        "owner_id": engagement.owner_id,
        "created_at": engagement.created_at,
        "record_ids": list(engagement.associated_ids),
        "not_associated_ids": list(engagement.not_associated_ids),
    }


def engagement_from(doc: Doc) -> Engagement:
    return Engagement(
        id=str(doc["_id"]),
        account_id=str(doc["account_id"]),
        type=EngagementType(doc["type"]),
        occurred_at=doc["occurred_at"],
        created_at=doc["created_at"],
        body=doc["body"],
        owner_id=doc["owner_id"],
        associated_ids=tuple(doc["record_ids"]),
        not_associated_ids=tuple(doc["not_associated_ids"]),
    )


def dates_moved(engagement: Engagement) -> Doc:
    """C12: the record's activity dates moved to when the engagement happened, if later."""
    moved = {"last_activity_at": engagement.occurred_at}
    if moves_last_contacted(engagement.type):
        moved["last_contacted_at"] = engagement.occurred_at
    return {"$max": moved}


def under(limit: int) -> Doc:
    """C6: a record associated with fewer than `limit` engagements (a missing count is 0)."""
    return {"engagement_count": {"$not": {"$gte": limit}}}


class MongoEngagementStore:
    def __init__(self, mongo: Mongo) -> None:
        self.mongo = mongo
        self.engagements = mongo[ENGAGEMENTS]

    def _records(self, record_type: RecordType) -> AsyncCollection[Doc]:
        return self.mongo[COLLECTIONS[record_type]]

    async def seen(
        self, scope: Scope, record_type: RecordType, record_ids: Sequence[str]
    ) -> set[str]:
        keys = [key for key in map(oid, record_ids) if key is not None]
        if not keys:
            return set()
        query = {"_id": {"$in": keys}, **scoped(scope)}
        return {str(doc["_id"]) async for doc in self._records(record_type).find(query, {"_id": 1})}

    async def log(
        self,
        engagement: Engagement,
        records: Sequence[RecordRef],
        limit: int,
        audit: AuditEntry | None = None,
    ) -> Engagement:
        async def work(session: AsyncClientSession) -> Engagement:
            touched: dict[Touched, list[str]] = {outcome: [] for outcome in Touched}
            for named in records:
                touched[await self._touch(engagement, named, limit, session)].append(named.id)
            stored = replace(
                engagement,
                associated_ids=tuple(touched[Touched.ASSOCIATED]),
                not_associated_ids=tuple(touched[Touched.PAST_LIMIT]),
            )
            await self.engagements.insert_one(engagement_doc(stored), session=session)
            await record(self.mongo, _without(audit, touched[Touched.GONE]), session)
            return stored

        return await transact(self.mongo, work)

    async def _touch(
        self, engagement: Engagement, named: RecordRef, limit: int, session: AsyncClientSession
    ) -> Touched:
        """The record's dates moved, and its count when it is under the limit."""
        records = self._records(named.type)
        this = {"_id": oid(named.id), "account_id": oid(engagement.account_id)}
        dates = dates_moved(engagement)
        counted = await records.update_one(
            {**this, **under(limit)},
            {**dates, "$inc": {"engagement_count": 1}},
            session=session,
        )
        if counted.matched_count:
            return Touched.ASSOCIATED
        dated = await records.update_one(this, dates, session=session)
        return Touched.PAST_LIMIT if dated.matched_count else Touched.GONE

    def _of(self, account_id: str, record_id: str) -> Doc:
        return {"account_id": oid(account_id), "record_ids": record_id}

    async def page(
        self, account_id: str, record_id: str, first: int, after: str | None
    ) -> Page[Engagement]:
        query = self._of(account_id, record_id)
        return await keyset_page(self.engagements, query, PAGES, first, after, engagement_from)

    async def first_pages(
        self, account_id: str, record_ids: Sequence[str], first: int
    ) -> dict[str, Page[Engagement]]:
        # each record's newest first + 1, a limited read of the index each, in one command
        queries = {record_id: self._of(account_id, record_id) for record_id in record_ids}
        found = await first_pages_of(self.engagements, queries, PAGES, first)
        return {
            record_id: page_of(found[record_id], first, PAGES, engagement_from)
            for record_id in record_ids
        }

    async def count(self, account_id: str, record_id: str) -> int:
        return await self.engagements.count_documents(self._of(account_id, record_id))


def _without(audit: AuditEntry | None, gone: Sequence[str]) -> AuditEntry | None:
    """The entry without the records that went before the engagement reached them."""
    if audit is None or not gone:
        return audit
    return replace(audit, record_ids=tuple(i for i in audit.record_ids if i not in gone))


async def drop_from_engagements(
    mongo: Mongo, account_id: str, record_ids: Sequence[str], session: AsyncClientSession
) -> None:
    """Deleted records taken out of their engagements' `record_ids`, in the delete's own
    transaction (the engagements stay, with the records they still have)."""
    if record_ids:
        await mongo[ENGAGEMENTS].update_many(
            {"account_id": oid(account_id), "record_ids": {"$in": list(record_ids)}},
            {"$pull": {"record_ids": {"$in": list(record_ids)}}},
            session=session,
        )

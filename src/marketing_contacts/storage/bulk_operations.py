"""Bulk operations: the operation documents, their idempotency keys, and their pages.

Resolving a selection streams its contact ids, in id order, into page documents of one chunk
each (`bulk_pages`): the worker never holds the selection in memory, and the contacts are not
written to. Each page is applied in one transaction with the operation's move past it
(storage.writer), so a restarted worker resumes at exactly the next page: none twice, none lost.
A resolution that was cut short leaves pages under its own token, which the winning one ignores.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.errors import DuplicateKeyError

from marketing_contacts.domain.bulk import (
    BulkOperation,
    BulkOperationStatus,
    BulkProgress,
    Selection,
)
from marketing_contacts.domain.statuses import MarketingState
from marketing_contacts.services.ports import BulkPage, IdempotencyKey, Page
from marketing_contacts.storage.bulk_codec import operation_doc, operation_from, progress_doc
from marketing_contacts.storage.codec import contact_from
from marketing_contacts.storage.contacts import count_by_state, filter_doc
from marketing_contacts.storage.database import (
    BULK_OPERATIONS,
    BULK_PAGES,
    CONTACTS,
    IDEMPOTENCY_KEYS,
    Doc,
    Mongo,
)
from marketing_contacts.storage.ids import decode_id_cursor, encode_cursor, oid
from marketing_contacts.storage.transactions import transact

#: pages left behind (by a worker that died after its operation ended) go after this long
PAGES_EXPIRE_AFTER = timedelta(days=7)
#: pages written per insert while resolving (what the worker holds of a selection at most)
PAGES_PER_INSERT = 4
CURSOR = "bulk"
_ACTIVE = [BulkOperationStatus.QUEUED.value, BulkOperationStatus.RUNNING.value]

INDEXES = {
    BULK_OPERATIONS: [
        IndexModel([("account_id", ASCENDING), ("_id", DESCENDING)]),
        IndexModel([("status", ASCENDING), ("lease_until", ASCENDING)]),
    ],
    IDEMPOTENCY_KEYS: [IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0)],
    BULK_PAGES: [
        IndexModel(
            [("operation_id", ASCENDING), ("resolution", ASCENDING), ("number", ASCENDING)],
            unique=True,
        ),
        IndexModel(
            [("written_at", ASCENDING)],
            expireAfterSeconds=int(PAGES_EXPIRE_AFTER.total_seconds()),
        ),
    ],
}


def selection_query(account_id: str, selection: Selection, created_until: datetime | None) -> Doc:
    query = filter_doc(account_id, selection.as_filter())
    ids = selection.ids
    if ids is not None:
        query["_id"] = {"$in": [key for key in map(oid, ids) if key is not None]}
    if created_until is not None:
        query.setdefault("created_at", {})["$lte"] = created_until
    return query


class MongoBulkStore:
    def __init__(self, mongo: Mongo) -> None:
        self.mongo = mongo
        self.operations = mongo[BULK_OPERATIONS]
        self.contacts = mongo[CONTACTS]
        self.pages = mongo[BULK_PAGES]

    async def insert(
        self, operation: BulkOperation, key: IdempotencyKey | None
    ) -> IdempotencyKey | None:
        if key is None:
            await self.operations.insert_one(operation_doc(operation))
            return None
        key_doc = {
            "_id": _key_id(operation.account_id, key.key),
            "input_hash": key.input_hash,
            "operation_id": operation.id,
            "expires_at": key.expires_at,
        }

        async def hold_key_and_insert(session: AsyncClientSession) -> IdempotencyKey | None:
            """B5: the key and its operation together, or the key as another start holds it
            (concurrent starts with one key meet on its _id: one inserts, the others find it)."""
            held = await self.held_key(operation.account_id, key.key, operation.created_at, session)
            if held is not None:
                return held
            await self.mongo[IDEMPOTENCY_KEYS].delete_one(
                {"_id": key_doc["_id"], "expires_at": {"$lte": operation.created_at}},
                session=session,
            )
            await self.mongo[IDEMPOTENCY_KEYS].insert_one(key_doc, session=session)
            await self.operations.insert_one(operation_doc(operation), session=session)
            return None

        while True:
            try:
                return await transact(self.mongo, hold_key_and_insert)
            except DuplicateKeyError:
                continue  # another start took the key meanwhile: read it as held

    async def held_key(
        self,
        account_id: str,
        key: str,
        now: datetime,
        session: AsyncClientSession | None = None,
    ) -> IdempotencyKey | None:
        held = await self.mongo[IDEMPOTENCY_KEYS].find_one(
            {"_id": _key_id(account_id, key), "expires_at": {"$gt": now}}, session=session
        )
        if held is None:
            return None
        return IdempotencyKey(key, held["input_hash"], held["operation_id"], held["expires_at"])

    async def get(self, account_id: str, operation_id: str) -> BulkOperation | None:
        key = oid(operation_id)
        if key is None:
            return None
        doc = await self.operations.find_one({"_id": key, "account_id": oid(account_id)})
        return None if doc is None else operation_from(doc)

    async def load(self, operation_id: str) -> BulkOperation | None:
        key = oid(operation_id)
        doc = None if key is None else await self.operations.find_one({"_id": key})
        return None if doc is None else operation_from(doc)

    async def page(self, account_id: str, first: int, after: str | None) -> Page[BulkOperation]:
        query: Doc = {"account_id": oid(account_id)}
        after_id = decode_id_cursor(CURSOR, after)
        if after_id is not None:
            query["_id"] = {"$lt": after_id}
        docs = await self.operations.find(query).sort("_id", DESCENDING).limit(first + 1).to_list()
        items = [operation_from(doc) for doc in docs[:first]]
        return Page(items, [encode_cursor(CURSOR, op.id) for op in items], len(docs) > first)

    async def count_by_state(
        self, account_id: str, selection: Selection, created_until: datetime | None = None
    ) -> dict[MarketingState, int]:
        return await count_by_state(
            self.contacts, selection_query(account_id, selection, created_until)
        )

    async def claim(
        self, operation_id: str, owner: str, now: datetime, lease_until: datetime
    ) -> BulkOperation | None:
        doc = await self.operations.find_one_and_update(
            {
                "_id": oid(operation_id),
                "$or": [
                    {"status": BulkOperationStatus.QUEUED.value},
                    {"status": BulkOperationStatus.RUNNING.value, "lease_until": {"$lt": now}},
                    {"status": BulkOperationStatus.RUNNING.value, "lease_owner": owner},
                ],
            },
            [
                {
                    "$set": {
                        "status": BulkOperationStatus.RUNNING.value,
                        "lease_owner": owner,
                        "lease_until": lease_until,
                        "started_at": {"$ifNull": ["$started_at", now]},
                    }
                }
            ],
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else operation_from(doc)

    async def resolve(self, operation: BulkOperation, page_size: int) -> BulkOperation:
        resolution = str(ObjectId())
        query = selection_query(operation.account_id, operation.selection, operation.created_at)
        found = self.contacts.find(query, {"_id": 1}).sort("_id", ASCENDING)
        written_at = datetime.now(UTC)
        matched = 0
        pages: list[Doc] = []
        async for ids in _in_pages(_in_selection_order(found, operation.selection), page_size):
            pages.append(
                {
                    "operation_id": operation.id,
                    "resolution": resolution,
                    "number": matched // page_size,
                    "ids": ids,
                    "written_at": written_at,
                }
            )
            matched += len(ids)
            if len(pages) == PAGES_PER_INSERT:
                await self.pages.insert_many(pages)
                pages = []
        if pages:
            await self.pages.insert_many(pages)
        doc = await self.operations.find_one_and_update(
            {"_id": oid(operation.id), "resolved": False},
            {
                "$set": {
                    "resolved": True,
                    "resolution": resolution,
                    "next_page": 0,
                    "progress.matched": matched,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:  # resolved by another run meanwhile: its pages and count stand
            await self.pages.delete_many({"operation_id": operation.id, "resolution": resolution})
            doc = await self.operations.find_one({"_id": oid(operation.id)})
        assert doc is not None
        return operation_from(doc)

    async def page_to_apply(self, operation: BulkOperation) -> BulkPage | None:
        found = await self.pages.find_one(
            {
                "operation_id": operation.id,
                "resolution": operation.resolution,
                "number": operation.next_page,
            }
        )
        if found is None:
            return None
        query = {"_id": {"$in": found["ids"]}, "account_id": oid(operation.account_id)}
        by_id = {doc["_id"]: doc async for doc in self.contacts.find(query)}
        in_order = [contact_from(by_id[key]) for key in found["ids"] if key in by_id]
        return BulkPage(operation.next_page, in_order)

    async def drop_pages(self, operation_id: str) -> None:
        await self.pages.delete_many({"operation_id": operation_id})

    async def finish(
        self,
        operation: BulkOperation,
        status: BulkOperationStatus,
        progress: BulkProgress,
        now: datetime,
        failure: str | None = None,
    ) -> BulkOperation | None:
        doc = await self.operations.find_one_and_update(
            {"_id": oid(operation.id), "status": {"$in": _ACTIVE}},
            {
                "$set": {
                    "status": status.value,
                    "progress": progress_doc(progress),
                    "finished_at": now,
                    "failure": failure,
                    "lease_until": None,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else operation_from(doc)

    async def cancel(
        self, account_id: str, operation_id: str, now: datetime
    ) -> BulkOperation | None:
        key = oid(operation_id)
        if key is None:
            return None
        doc = await self.operations.find_one_and_update(
            {"_id": key, "account_id": oid(account_id), "status": {"$in": _ACTIVE}},
            {"$set": {"status": BulkOperationStatus.CANCELLED.value, "finished_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else operation_from(doc)

    async def stale(self, queued_before: datetime, now: datetime) -> list[BulkOperation]:
        query = {
            "$or": [
                {"status": BulkOperationStatus.QUEUED.value, "created_at": {"$lt": queued_before}},
                {"status": BulkOperationStatus.RUNNING.value, "lease_until": {"$lt": now}},
            ]
        }
        return [operation_from(doc) async for doc in self.operations.find(query)]

    async def mark_enqueued(self, operation_id: str) -> int:
        doc = await self.operations.find_one_and_update(
            {"_id": oid(operation_id)},
            {"$inc": {"enqueued": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return 0 if doc is None else int(doc["enqueued"])


async def _in_selection_order(found: AsyncCursor[Doc], selection: Selection) -> AsyncIterator[Doc]:
    """The selected ids in T6's selection order: an ids selection (at most 10,000) in the order
    its ids were given; any other streamed as read, in id order."""
    if selection.ids is None:
        async for doc in found:
            yield doc
        return
    present = {str(doc["_id"]) async for doc in found}
    for contact_id in selection.in_selection_order(present):
        yield {"_id": ObjectId(contact_id)}


async def _in_pages(found: AsyncIterator[Doc], size: int) -> AsyncIterator[list[ObjectId]]:
    """The ids of the documents, `size` at a time."""
    ids: list[ObjectId] = []
    async for doc in found:
        ids.append(doc["_id"])
        if len(ids) == size:
            yield ids
            ids = []
    if ids:
        yield ids


def _key_id(account_id: str, key: str) -> str:
    return f"{account_id}:{key}"

"""Bulk operations: the operation documents, their idempotency keys, and the contact tags.

Resolving a selection tags its contacts with the operation's id (`bulk_ops` on the contact), in
one server-side update: the worker never holds the selection in memory. Each chunk then removes
the tags of the contacts it applied in the same transaction as their changes (storage.writer),
so a restarted worker finds exactly the contacts still to do: none twice, none lost.
"""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from marketing_contacts.domain.bulk import (
    BulkOperation,
    BulkOperationStatus,
    BulkProgress,
    Selection,
)
from marketing_contacts.domain.contacts import Contact
from marketing_contacts.domain.statuses import MarketingState
from marketing_contacts.services.ports import IdempotencyKey, Page
from marketing_contacts.storage.bulk_codec import operation_doc, operation_from, progress_doc
from marketing_contacts.storage.codec import contact_from
from marketing_contacts.storage.contacts import count_by_state, filter_doc
from marketing_contacts.storage.database import (
    BULK_OPERATIONS,
    CONTACTS,
    IDEMPOTENCY_KEYS,
    Doc,
    Mongo,
)
from marketing_contacts.storage.ids import decode_id_cursor, encode_cursor, oid

TAG = "bulk_ops"
#: on an operation from its claim until its tags are released: contacts may carry its tag
HOLDS_TAGS = "holds_tags"
CURSOR = "bulk"
_ACTIVE = [BulkOperationStatus.QUEUED.value, BulkOperationStatus.RUNNING.value]
_ENDED = [BulkOperationStatus.CANCELLED.value, BulkOperationStatus.FAILED.value]

INDEXES = {
    BULK_OPERATIONS: [
        IndexModel([("account_id", ASCENDING), ("_id", DESCENDING)]),
        IndexModel([("status", ASCENDING), ("lease_until", ASCENDING)]),
        IndexModel([(HOLDS_TAGS, ASCENDING), ("status", ASCENDING)], sparse=True),
    ],
    IDEMPOTENCY_KEYS: [IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0)],
    CONTACTS: [IndexModel([(TAG, ASCENDING), ("_id", ASCENDING)], sparse=True)],
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

    async def insert(
        self, operation: BulkOperation, key: IdempotencyKey | None
    ) -> IdempotencyKey | None:
        if key is None:
            await self.operations.insert_one(operation_doc(operation))
            return None
        key_id = _key_id(operation.account_id, key.key)
        held = await self.held_key(operation.account_id, key.key, operation.created_at)
        if held is not None:
            return held
        async with self.mongo.client.start_session() as session, await session.start_transaction():
            await self.mongo[IDEMPOTENCY_KEYS].delete_one(
                {"_id": key_id, "expires_at": {"$lte": operation.created_at}}, session=session
            )
            try:
                await self.mongo[IDEMPOTENCY_KEYS].insert_one(
                    {
                        "_id": key_id,
                        "input_hash": key.input_hash,
                        "operation_id": operation.id,
                        "expires_at": key.expires_at,
                    },
                    session=session,
                )
            except DuplicateKeyError:
                await session.abort_transaction()
                return await self.insert(operation, key)
            await self.operations.insert_one(operation_doc(operation), session=session)
        return None

    async def held_key(self, account_id: str, key: str, now: datetime) -> IdempotencyKey | None:
        held = await self.mongo[IDEMPOTENCY_KEYS].find_one(
            {"_id": _key_id(account_id, key), "expires_at": {"$gt": now}}
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
                        HOLDS_TAGS: True,
                    }
                }
            ],
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else operation_from(doc)

    async def resolve(self, operation: BulkOperation) -> BulkOperation:
        query = selection_query(operation.account_id, operation.selection, operation.created_at)
        await self.contacts.update_many(query, {"$addToSet": {TAG: operation.id}})
        matched = await self.contacts.count_documents(
            {"account_id": oid(operation.account_id), TAG: operation.id}
        )
        doc = await self.operations.find_one_and_update(
            {"_id": oid(operation.id), "resolved": False},
            {"$set": {"resolved": True, "progress.matched": matched}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:  # resolved by another run meanwhile: its count stands
            doc = await self.operations.find_one({"_id": oid(operation.id)})
        assert doc is not None
        return operation_from(doc)

    async def tagged(self, operation: BulkOperation, limit: int) -> list[Contact]:
        found = self.contacts.find({"account_id": oid(operation.account_id), TAG: operation.id})
        docs = await found.sort("_id", ASCENDING).limit(limit).to_list()
        return [contact_from(doc) for doc in docs]

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

    async def release_tags(self, operation_id: str) -> None:
        await self.contacts.update_many({TAG: operation_id}, {"$pull": {TAG: operation_id}})
        await self.operations.update_one({"_id": oid(operation_id)}, {"$unset": {HOLDS_TAGS: ""}})

    async def abandoned(self, finished_before: datetime) -> list[str]:
        query = {
            HOLDS_TAGS: True,
            "status": {"$in": _ENDED},
            "finished_at": {"$lt": finished_before},
        }
        return [str(doc["_id"]) async for doc in self.operations.find(query, {"_id": 1})]

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


def _key_id(account_id: str, key: str) -> str:
    return f"{account_id}:{key}"

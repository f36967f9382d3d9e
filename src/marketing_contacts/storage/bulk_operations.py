"""Bulk operations: the operation documents and their idempotency keys (B4, B5).

An operation is claimed under a lease (`claim`), moves past its pages in the transactions that
apply them (storage.writer), and ends once (`finish`, `cancel`). A start with an idempotency key
holds the key and inserts the operation in one transaction, so concurrent starts with one key
make one operation; the same transaction counts the account's active operations (P5).
"""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.bulk import BulkOperation, BulkOperationStatus, BulkProgress
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page
from marketing_contacts.services.ports.bulk import IdempotencyKey, TooManyActive
from marketing_contacts.storage.audit import record, with_entry
from marketing_contacts.storage.background import active_operations
from marketing_contacts.storage.bulk_codec import operation_doc, operation_from, progress_doc
from marketing_contacts.storage.database import (
    BULK_OPERATIONS,
    IDEMPOTENCY_KEYS,
    Doc,
    Mongo,
)
from marketing_contacts.storage.ids import oid
from marketing_contacts.storage.paging import Keyset, keyset_page
from marketing_contacts.storage.transactions import transact

PAGES = Keyset("bulk", descending=True)
_ACTIVE = [BulkOperationStatus.QUEUED.value, BulkOperationStatus.RUNNING.value]


def _seen_by(scope: Scope) -> Doc:
    """The operations the scope sees (P3): its account's, and of those only the ones its
    owners requested when it names owners."""
    seen: Doc = {"account_id": oid(scope.account_id)}
    if scope.owners is not None:
        seen["requested_by"] = {"$in": sorted(scope.owners)}
    return seen


INDEXES = {
    BULK_OPERATIONS: [
        IndexModel([("account_id", ASCENDING), ("_id", DESCENDING)]),
        # P3: the operations of a user limited to its own or its team's records, newest first
        IndexModel([("account_id", ASCENDING), ("requested_by", ASCENDING), ("_id", DESCENDING)]),
        IndexModel([("status", ASCENDING), ("lease_until", ASCENDING)]),
        # an account's oldest active operation (its next turn), past however many have ended
        IndexModel([("account_id", ASCENDING), ("status", ASCENDING), ("_id", ASCENDING)]),
    ],
    IDEMPOTENCY_KEYS: [IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0)],
}


class MongoIdempotencyKeys:
    def __init__(self, mongo: Mongo) -> None:
        self.keys = mongo[IDEMPOTENCY_KEYS]

    async def held(
        self,
        account_id: str,
        key: str,
        now: datetime,
        session: AsyncClientSession | None = None,
    ) -> IdempotencyKey | None:
        held = await self.keys.find_one(
            {"_id": _key_id(account_id, key), "expires_at": {"$gt": now}}, session=session
        )
        if held is None:
            return None
        return IdempotencyKey(key, held["input_hash"], held["operation_id"], held["expires_at"])


class MongoBulkOperations:
    def __init__(self, mongo: Mongo) -> None:
        self.mongo = mongo
        self.operations = mongo[BULK_OPERATIONS]
        self.keys = MongoIdempotencyKeys(mongo)

    async def insert(
        self,
        operation: BulkOperation,
        key: IdempotencyKey | None,
        max_active: int | None = None,
        audit: AuditEntry | None = None,
    ) -> IdempotencyKey | None:
        if key is None and max_active is None:

            async def write(session: AsyncClientSession | None) -> None:
                await self.operations.insert_one(operation_doc(operation), session=session)

            await with_entry(self.mongo, audit, write)
            return None

        async def insert_once_within_bounds(session: AsyncClientSession) -> IdempotencyKey | None:
            """B5: the key and its operation together, or the key as another start holds it
            (concurrent starts with one key meet on its _id: one inserts, the others find it).
            P5: the account's active operations counted in the same transaction."""
            if key is not None:
                held = await self.keys.held(
                    operation.account_id, key.key, operation.created_at, session
                )
                if held is not None:
                    return held
                key_id = _key_id(operation.account_id, key.key)
                await self.mongo[IDEMPOTENCY_KEYS].delete_one(
                    {"_id": key_id, "expires_at": {"$lte": operation.created_at}},
                    session=session,
                )
                await self.mongo[IDEMPOTENCY_KEYS].insert_one(
                    _key_doc(key_id, key, operation), session=session
                )
            if max_active is not None:
                await self._check_active(operation.account_id, max_active, session)
            await self.operations.insert_one(operation_doc(operation), session=session)
            await record(self.mongo, audit, session)
            return None

        while True:
            try:
                return await transact(self.mongo, insert_once_within_bounds)
            except DuplicateKeyError:
                continue  # another start took the key meanwhile: read it as held

    async def _check_active(
        self, account_id: str, max_active: int, session: AsyncClientSession
    ) -> None:
        """TooManyActive when the account has `max_active` background operations queued or
        running (storage.background: bulk changes, imports and exports together)."""
        if await active_operations(self.mongo, account_id, session) >= max_active:
            raise TooManyActive(account_id)

    async def get(self, scope: Scope, operation_id: str) -> BulkOperation | None:
        key = oid(operation_id)
        if key is None:
            return None
        doc = await self.operations.find_one({"_id": key, **_seen_by(scope)})
        return None if doc is None else operation_from(doc)

    async def load(self, operation_id: str) -> BulkOperation | None:
        key = oid(operation_id)
        doc = None if key is None else await self.operations.find_one({"_id": key})
        return None if doc is None else operation_from(doc)

    async def page(self, scope: Scope, first: int, after: str | None) -> Page[BulkOperation]:
        return await keyset_page(
            self.operations, _seen_by(scope), PAGES, first, after, operation_from
        )

    async def count(self, scope: Scope) -> int:
        return await self.operations.count_documents(_seen_by(scope))

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

    async def finish(
        self,
        operation: BulkOperation,
        status: BulkOperationStatus,
        progress: BulkProgress,
        now: datetime,
        failure: str | None = None,
        owner: str | None = None,
    ) -> BulkOperation | None:
        held: Doc = {} if owner is None else {"lease_owner": owner}
        doc = await self.operations.find_one_and_update(
            {"_id": oid(operation.id), "status": {"$in": _ACTIVE}, **held},
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
        self, scope: Scope, operation_id: str, now: datetime, audit: AuditEntry | None = None
    ) -> BulkOperation | None:
        key = oid(operation_id)
        if key is None:
            return None

        async def write(session: AsyncClientSession | None) -> Doc | None:
            return await self.operations.find_one_and_update(
                {"_id": key, **_seen_by(scope), "status": {"$in": _ACTIVE}},
                {"$set": {"status": BulkOperationStatus.CANCELLED.value, "finished_at": now}},
                return_document=ReturnDocument.AFTER,
                session=session,
            )

        doc = await with_entry(self.mongo, audit, write, lambda found: found is not None)
        return None if doc is None else operation_from(doc)

    async def stale(self, queued_before: datetime, now: datetime) -> list[BulkOperation]:
        query = {
            "$or": [
                {"status": BulkOperationStatus.QUEUED.value, "created_at": {"$lt": queued_before}},
                {"status": BulkOperationStatus.RUNNING.value, "lease_until": {"$lt": now}},
            ]
        }
        return [operation_from(doc) async for doc in self.operations.find(query)]

    async def oldest_active(self, account_id: str, first: int) -> list[BulkOperation]:
        cursor = (
            self.operations.find({"account_id": oid(account_id), "status": {"$in": _ACTIVE}})
            .sort("_id", ASCENDING)
            .limit(first)
        )
        return [operation_from(doc) async for doc in cursor]


def _key_id(account_id: str, key: str) -> str:
    return f"{account_id}:{key}"


def _key_doc(key_id: str, key: IdempotencyKey, operation: BulkOperation) -> Doc:
    return {
        "_id": key_id,
        "input_hash": key.input_hash,
        "operation_id": operation.id,
        "expires_at": key.expires_at,
    }

"""Exports (I6): the export documents, and their CSV files as numbered chunks.

A file is kept the way GridFS keeps one (documents of at most CHUNK_BYTES, numbered by `n`, read
back in order), in a collection of this module's own: GridFS's driver probes its collections
with unindexed reads and creates indexes of its own at each upload, which the indexes declared
here (and judged by the index guard) would not account for. Every API and worker process reads
the file from the database, so whoever wrote it, any process serves its download.

A start inserts the export in a transaction that counts the account's active bulk operations
and exports (P5) after writing the account's document, as a bulk start does, so concurrent
starts of either kind meet in a write conflict and the later one counts the earlier one.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from datetime import datetime

from bson import Binary, ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.bulk import BulkOperationStatus
from marketing_contacts.domain.exports import Export
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.ports.bulk import TooManyActive
from marketing_contacts.storage.audit import record
from marketing_contacts.storage.background import active_operations
from marketing_contacts.storage.bulk_codec import selection_doc, selection_from
from marketing_contacts.storage.database import (
    EXPORT_CHUNKS,
    EXPORTS,
    Doc,
    Mongo,
)
from marketing_contacts.storage.ids import oid
from marketing_contacts.storage.transactions import transact

#: the size of a stored piece of a file (GridFS's default)
CHUNK_BYTES = 255 * 1024
_ACTIVE = [BulkOperationStatus.QUEUED.value, BulkOperationStatus.RUNNING.value]

INDEXES = {
    EXPORTS: [
        # P5: the account's active exports, counted at each start
        IndexModel([("account_id", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)]),
        # I6: the sweep's exports whose file expired
        IndexModel([("expires_at", ASCENDING)]),
        # the sweep's exports whose enqueueing was lost
        IndexModel([("status", ASCENDING), ("created_at", ASCENDING)]),
    ],
    EXPORT_CHUNKS: [
        IndexModel(
            [("account_id", ASCENDING), ("export_id", ASCENDING), ("n", ASCENDING)], unique=True
        )
    ],
}


def export_doc(export: Export) -> Doc:
    return {
        "_id": ObjectId(export.id),
        "account_id": ObjectId(export.account_id),
        "selection": selection_doc(export.selection),
        "status": export.status.value,
        "created_at": export.created_at,
        "requested_by": export.requested_by,
        "owners": None if export.owners is None else sorted(export.owners),
        "rows": export.rows,
        "started_at": export.started_at,
        "finished_at": export.finished_at,
        "expires_at": export.expires_at,
        "failure": export.failure,
    }


def export_from(doc: Doc) -> Export:
    owners = doc.get("owners")
    return Export(
        id=str(doc["_id"]),
        account_id=str(doc["account_id"]),
        selection=selection_from(doc["selection"]),
        status=BulkOperationStatus(doc["status"]),
        created_at=doc["created_at"],
        requested_by=doc["requested_by"],
        owners=None if owners is None else frozenset(owners),
        rows=doc.get("rows", 0),
        started_at=doc.get("started_at"),
        finished_at=doc.get("finished_at"),
        expires_at=doc.get("expires_at"),
        failure=doc.get("failure"),
    )


def _seen_by(scope: Scope) -> Doc:
    """P3: the account's exports, of those only its owners' when the scope names owners."""
    seen: Doc = {"account_id": oid(scope.account_id)}
    if scope.owners is not None:
        seen["requested_by"] = {"$in": sorted(scope.owners)}
    return seen


class MongoExportStore:
    def __init__(self, mongo: Mongo) -> None:
        self.mongo = mongo
        self.exports = mongo[EXPORTS]
        self.chunks = mongo[EXPORT_CHUNKS]

    async def insert(
        self, export: Export, max_active: int, audit: AuditEntry | None = None
    ) -> None:
        async def insert_within_bounds(session: AsyncClientSession) -> None:
            running = await active_operations(self.mongo, export.account_id, session)
            if running >= max_active:
                raise TooManyActive(export.account_id)
            await self.exports.insert_one(export_doc(export), session=session)
            await record(self.mongo, audit, session)

        await transact(self.mongo, insert_within_bounds)

    async def get(self, scope: Scope, export_id: str) -> Export | None:
        key = oid(export_id)
        doc = None if key is None else await self.exports.find_one({"_id": key, **_seen_by(scope)})
        return None if doc is None else export_from(doc)

    async def load(self, export_id: str) -> Export | None:
        key = oid(export_id)
        doc = None if key is None else await self.exports.find_one({"_id": key})
        return None if doc is None else export_from(doc)

    async def claim(self, export_id: str, now: datetime) -> Export | None:
        doc = await self.exports.find_one_and_update(
            {"_id": oid(export_id), "status": {"$in": _ACTIVE}},
            [
                {
                    "$set": {
                        "status": BulkOperationStatus.RUNNING.value,
                        "started_at": {"$ifNull": ["$started_at", now]},
                    }
                }
            ],
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else export_from(doc)

    async def write_file(self, export: Export, chunks: AsyncIterable[bytes]) -> None:
        await self._drop_file(export)
        pending = bytearray()
        n = 0
        async for chunk in chunks:
            pending += chunk
            while len(pending) >= CHUNK_BYTES:
                await self._store(export, n, bytes(pending[:CHUNK_BYTES]))
                del pending[:CHUNK_BYTES]
                n += 1
        if pending or n == 0:
            await self._store(export, n, bytes(pending))

    async def _store(self, export: Export, n: int, data: bytes) -> None:
        await self.chunks.insert_one(
            {
                "account_id": ObjectId(export.account_id),
                "export_id": ObjectId(export.id),
                "n": n,
                "data": Binary(data),
            }
        )

    async def _drop_file(self, export: Export) -> None:
        await self.chunks.delete_many(
            {"account_id": ObjectId(export.account_id), "export_id": ObjectId(export.id)}
        )

    async def complete(self, export: Export, rows: int, now: datetime) -> Export | None:
        done = export.completed(rows, now)
        doc = await self.exports.find_one_and_update(
            {"_id": ObjectId(export.id), "status": BulkOperationStatus.RUNNING.value},
            {
                "$set": {
                    "status": done.status.value,
                    "rows": done.rows,
                    "finished_at": done.finished_at,
                    "expires_at": done.expires_at,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else export_from(doc)

    async def fail(self, export: Export, failure: str, now: datetime) -> Export | None:
        doc = await self.exports.find_one_and_update(
            {"_id": ObjectId(export.id), "status": {"$in": _ACTIVE}},
            {
                "$set": {
                    "status": BulkOperationStatus.FAILED.value,
                    "failure": failure,
                    "finished_at": now,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return None
        await self._drop_file(export)
        return export_from(doc)

    async def read_file(self, export: Export) -> AsyncIterator[bytes]:
        cursor = self.chunks.find(
            {"account_id": ObjectId(export.account_id), "export_id": ObjectId(export.id)}
        ).sort("n", ASCENDING)
        async for doc in cursor:
            yield bytes(doc["data"])

    async def expired(self, now: datetime, first: int) -> list[Export]:
        cursor = (
            self.exports.find({"expires_at": {"$lte": now}}).sort("expires_at", ASCENDING)
        ).limit(first)
        return [export_from(doc) async for doc in cursor]

    async def delete(self, export: Export) -> None:
        await self._drop_file(export)
        await self.exports.delete_one({"_id": ObjectId(export.id)})

    async def queued_before(self, instant: datetime, first: int) -> list[Export]:
        cursor = self.exports.find(
            {"status": BulkOperationStatus.QUEUED.value, "created_at": {"$lt": instant}}
        ).limit(first)
        return [export_from(doc) async for doc in cursor]

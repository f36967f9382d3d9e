"""CSV imports (I1-I5): the import documents, their row errors and idempotency keys.

An import is claimed under a lease, moves through its file chunk by chunk in the transactions
that write the chunk's contacts (storage.writer calls `advance_import`: the import moves from
the cursor the chunk was read at to the one past it, only while it is still at the first and
under the run's lease), and ends once. A start holds its idempotency key and inserts the import
in one transaction, which also counts the account's background operations (P5: its bulk
operations and imports together).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.contacts import Contact, LifecycleStage
from marketing_contacts.domain.errors import ErrorCode
from marketing_contacts.domain.imports import (
    Cursor,
    Import,
    ImportCounts,
    ImportOptions,
    ImportStatus,
    RowError,
)
from marketing_contacts.domain.statuses import MarketingStatus
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page
from marketing_contacts.services.ports.changes import StaleWrite
from marketing_contacts.services.ports.imports import ImportChunk, ImportKey, TooManyImports
from marketing_contacts.storage.audit import record, with_entry
from marketing_contacts.storage.background import active_operations
from marketing_contacts.storage.codec import contact_from
from marketing_contacts.storage.database import (
    CONTACTS,
    IDEMPOTENCY_KEYS,
    IMPORT_ERRORS,
    IMPORTS,
    Doc,
    Mongo,
)
from marketing_contacts.storage.ids import oid
from marketing_contacts.storage.paging import Keyset, keyset_page, sequence
from marketing_contacts.storage.transactions import transact

PAGES = Keyset("import", descending=True)
ERROR_PAGES = Keyset("importError", key="row", parse=sequence)
_ACTIVE = [ImportStatus.QUEUED.value, ImportStatus.RUNNING.value]
_COUNTS = ("rows", "created", "updated", "unchanged", "failed")

INDEXES = {
    IMPORTS: [
        IndexModel([("account_id", ASCENDING), ("_id", DESCENDING)]),
        # P3: the imports of a user limited to its own or its team's records, newest first
        IndexModel([("account_id", ASCENDING), ("requested_by", ASCENDING), ("_id", DESCENDING)]),
        # P5: an account's active ones; the sweeper's QUEUED and lease-expired ones
        IndexModel([("account_id", ASCENDING), ("status", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("status", ASCENDING), ("lease_until", ASCENDING)]),
        IndexModel([("status", ASCENDING), ("created_at", ASCENDING)]),
    ],
    IMPORT_ERRORS: [
        IndexModel([("account_id", ASCENDING), ("import_id", ASCENDING), ("row", ASCENDING)]),
    ],
}


def _seen_by(scope: Scope) -> Doc:
    seen: Doc = {"account_id": oid(scope.account_id)}
    if scope.owners is not None:
        seen["requested_by"] = {"$in": sorted(scope.owners)}
    return seen


def import_doc(imported: Import) -> Doc:
    options = imported.options
    return {
        "_id": oid(imported.id),
        "account_id": oid(imported.account_id),
        "requested_by": imported.requested_by,
        "owners": None if imported.owners is None else sorted(imported.owners),
        "file_id": imported.file_id,
        "file_name": imported.file_name,
        "file_size": imported.file_size,
        "fingerprint": imported.fingerprint,
        "mapping": None if options.mapping is None else [list(p) for p in options.mapping],
        "marketing_status": options.marketing_status.value,
        "lifecycle_stage": None
        if options.lifecycle_stage is None
        else options.lifecycle_stage.value,
        "status": imported.status.value,
        "created_at": imported.created_at,
        "counts": {name: getattr(imported.counts, name) for name in _COUNTS},
        "offset": imported.cursor.offset,
        "row": imported.cursor.row,
        "started_at": imported.started_at,
        "finished_at": imported.finished_at,
        "failure": imported.failure_reason,
        "lease_owner": imported.lease_owner,
        "lease_until": imported.lease_until,
    }


def import_from(doc: Doc) -> Import:
    mapping = doc["mapping"]
    stage = doc["lifecycle_stage"]
    owners = doc["owners"]
    return Import(
        id=str(doc["_id"]),
        account_id=str(doc["account_id"]),
        requested_by=doc["requested_by"],
        owners=None if owners is None else frozenset(owners),
        file_id=doc["file_id"],
        file_name=doc["file_name"],
        file_size=doc["file_size"],
        fingerprint=doc["fingerprint"],
        options=ImportOptions(
            mapping=None if mapping is None else tuple((c, f) for c, f in mapping),
            marketing_status=MarketingStatus(doc["marketing_status"]),
            lifecycle_stage=None if stage is None else LifecycleStage(stage),
        ),
        status=ImportStatus(doc["status"]),
        created_at=doc["created_at"],
        counts=ImportCounts(**{name: doc["counts"][name] for name in _COUNTS}),
        cursor=Cursor(doc["offset"], doc["row"]),
        started_at=doc.get("started_at"),
        finished_at=doc.get("finished_at"),
        failure_reason=doc.get("failure"),
        lease_owner=doc.get("lease_owner"),
        lease_until=doc.get("lease_until"),
    )


def _error_doc(chunk: ImportChunk, error: RowError) -> Doc:
    return {
        "_id": f"{chunk.import_id}:{error.row}",
        "account_id": oid(chunk.account_id),
        "import_id": chunk.import_id,
        "row": error.row,
        "column": error.column,
        "code": error.code.value,
        "message": error.message,
    }


def _error_from(doc: Doc) -> RowError:
    return RowError(doc["row"], ErrorCode(doc["code"]), doc["message"], doc["column"])


async def advance_import(mongo: Mongo, chunk: ImportChunk, session: AsyncClientSession) -> None:
    """The import moves past the chunk with its counts and row errors, if it is still RUNNING
    at the chunk's start under the run's lease (StaleWrite otherwise: nothing is written)."""
    result = await mongo[IMPORTS].update_one(
        {
            "_id": oid(chunk.import_id),
            "status": ImportStatus.RUNNING.value,
            "offset": chunk.before.offset,
            "row": chunk.before.row,
            "lease_owner": chunk.owner,
        },
        {
            "$inc": {f"counts.{name}": getattr(chunk.counts, name) for name in _COUNTS},
            "$set": {
                "offset": chunk.after.offset,
                "row": chunk.after.row,
                "lease_until": chunk.lease_until,
            },
        },
        session=session,
    )
    if result.matched_count != 1:
        raise StaleWrite(
            f"import {chunk.import_id} is no longer at row {chunk.before.row} under {chunk.owner}"
        )
    if chunk.errors:
        await mongo[IMPORT_ERRORS].insert_many(
            [_error_doc(chunk, error) for error in chunk.errors], session=session
        )


class MongoImportStore:
    def __init__(self, mongo: Mongo) -> None:
        self.mongo = mongo
        self.imports = mongo[IMPORTS]

    async def insert(
        self,
        imported: Import,
        key: ImportKey | None,
        max_active: int,
        audit: AuditEntry | None = None,
    ) -> ImportKey | None:
        async def insert_once(session: AsyncClientSession) -> ImportKey | None:
            if key is not None:
                held = await self.held(imported.account_id, key.key, imported.created_at, session)
                if held is not None:
                    return held
                key_id = _key_id(imported.account_id, key.key)
                keys = self.mongo[IDEMPOTENCY_KEYS]
                await keys.delete_one(
                    {"_id": key_id, "expires_at": {"$lte": imported.created_at}}, session=session
                )
                await keys.insert_one(
                    {
                        "_id": key_id,
                        "input_hash": key.fingerprint,
                        "operation_id": imported.id,
                        "expires_at": key.expires_at,
                    },
                    session=session,
                )
            await self._check_active(imported.account_id, max_active, session)
            await self.imports.insert_one(import_doc(imported), session=session)
            await record(self.mongo, audit, session)
            return None

        while True:
            try:
                return await transact(self.mongo, insert_once)
            except DuplicateKeyError:
                continue  # another start took the key meanwhile: read it as held

    async def _check_active(
        self, account_id: str, max_active: int, session: AsyncClientSession
    ) -> None:
        """P5, as bulk operations count it (storage.bulk_operations): the account's document
        is written first, so concurrent starts of one account meet in a write conflict."""
        if await active_operations(self.mongo, account_id, session) >= max_active:
            raise TooManyImports(account_id)

    async def held(
        self,
        account_id: str,
        key: str,
        now: datetime,
        session: AsyncClientSession | None = None,
    ) -> ImportKey | None:
        doc = await self.mongo[IDEMPOTENCY_KEYS].find_one(
            {"_id": _key_id(account_id, key), "expires_at": {"$gt": now}}, session=session
        )
        if doc is None:
            return None
        return ImportKey(key, doc["input_hash"], doc["operation_id"], doc["expires_at"])

    async def get(self, scope: Scope, import_id: str) -> Import | None:
        key = oid(import_id)
        if key is None:
            return None
        doc = await self.imports.find_one({"_id": key, **_seen_by(scope)})
        return None if doc is None else import_from(doc)

    async def load(self, import_id: str) -> Import | None:
        key = oid(import_id)
        doc = None if key is None else await self.imports.find_one({"_id": key})
        return None if doc is None else import_from(doc)

    async def page(self, scope: Scope, first: int, after: str | None) -> Page[Import]:
        return await keyset_page(self.imports, _seen_by(scope), PAGES, first, after, import_from)

    async def count(self, scope: Scope) -> int:
        return await self.imports.count_documents(_seen_by(scope))

    async def errors(
        self, account_id: str, import_id: str, first: int, after: str | None
    ) -> Page[RowError]:
        query = {"account_id": oid(account_id), "import_id": import_id}
        return await keyset_page(
            self.mongo[IMPORT_ERRORS], query, ERROR_PAGES, first, after, _error_from
        )

    async def claim(
        self, import_id: str, owner: str, now: datetime, lease_until: datetime
    ) -> Import | None:
        key = oid(import_id)
        if key is None:
            return None
        doc = await self.imports.find_one_and_update(
            {
                "_id": key,
                "$or": [
                    {"status": ImportStatus.QUEUED.value},
                    {"status": ImportStatus.RUNNING.value, "lease_until": {"$lt": now}},
                    {"status": ImportStatus.RUNNING.value, "lease_owner": owner},
                ],
            },
            [
                {
                    "$set": {
                        "status": ImportStatus.RUNNING.value,
                        "lease_owner": owner,
                        "lease_until": lease_until,
                        "started_at": {"$ifNull": ["$started_at", now]},
                    }
                }
            ],
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else import_from(doc)

    async def finish(
        self,
        imported: Import,
        status: ImportStatus,
        now: datetime,
        owner: str | None = None,
        failure: str | None = None,
    ) -> Import | None:
        held: Doc = {} if owner is None else {"lease_owner": owner}
        doc = await self.imports.find_one_and_update(
            {"_id": oid(imported.id), "status": {"$in": _ACTIVE}, **held},
            {
                "$set": {
                    "status": status.value,
                    "finished_at": now,
                    "failure": failure,
                    "lease_until": None,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else import_from(doc)

    async def cancel(
        self, scope: Scope, import_id: str, now: datetime, audit: AuditEntry | None = None
    ) -> Import | None:
        key = oid(import_id)
        if key is None:
            return None

        async def write(session: AsyncClientSession | None) -> Doc | None:
            return await self.imports.find_one_and_update(
                {"_id": key, **_seen_by(scope), "status": {"$in": _ACTIVE}},
                {"$set": {"status": ImportStatus.CANCELLED.value, "finished_at": now}},
                return_document=ReturnDocument.AFTER,
                session=session,
            )

        doc = await with_entry(self.mongo, audit, write, lambda found: found is not None)
        return None if doc is None else import_from(doc)

    async def stale(self, queued_before: datetime, now: datetime) -> list[Import]:
        queued = self.imports.find(
            {"status": ImportStatus.QUEUED.value, "created_at": {"$lt": queued_before}}
        )
        running = self.imports.find(
            {"status": ImportStatus.RUNNING.value, "lease_until": {"$lt": now}}
        )
        return [import_from(doc) async for doc in queued] + [
            import_from(doc) async for doc in running
        ]

    async def by_emails(self, account_id: str, email_keys: Sequence[str]) -> list[Contact]:
        if not email_keys:
            return []
        found = self.mongo[CONTACTS].find(
            {"account_id": oid(account_id), "email_key": {"$in": sorted(set(email_keys))}}
        )
        return [contact_from(doc) async for doc in found]


def _key_id(account_id: str, key: str) -> str:
    """I5: an import's key is held apart from a bulk operation's of the same text."""
    return f"{account_id}:import:{key}"

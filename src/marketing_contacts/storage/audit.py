"""The audit log's collection (P4): `record` adds an entry inside the transaction of the write
it records (every store that writes calls it); `MongoAuditLog` reads the entries back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession

from marketing_contacts.domain.audit import Actor, AuditEntry
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page
from marketing_contacts.storage.database import AUDIT_LOG, Doc, Mongo
from marketing_contacts.storage.paging import Keyset, keyset_page
from marketing_contacts.storage.scopes import scoped
from marketing_contacts.storage.transactions import transact

T = TypeVar("T")

PAGES = Keyset("audit", descending=True)

INDEXES = {
    AUDIT_LOG: [
        # the log newest first, and the entries of one record (record_ids is an array)
        IndexModel([("account_id", ASCENDING), ("_id", DESCENDING)]),
        IndexModel([("account_id", ASCENDING), ("record_ids", ASCENDING), ("_id", DESCENDING)]),
        # P3: the entries of the users a user limited to OWNED or TEAM sees
        IndexModel([("account_id", ASCENDING), ("user_id", ASCENDING), ("_id", DESCENDING)]),
    ]
}


def audit_doc(entry: AuditEntry) -> Doc:
    return {
        "_id": ObjectId(entry.id),
        "account_id": ObjectId(entry.account_id),
        "at": entry.at,
        "action": entry.action,
        "record_ids": list(entry.record_ids),
        "user_id": entry.actor.user_id,
        "token_id": entry.actor.token_id,
        "request_id": entry.actor.request_id,
    }


def audit_from(doc: Doc) -> AuditEntry:
    return AuditEntry(
        id=str(doc["_id"]),
        account_id=str(doc["account_id"]),
        at=doc["at"],
        action=doc["action"],
        record_ids=tuple(doc["record_ids"]),
        actor=Actor(doc["user_id"], doc["token_id"], doc["request_id"]),
    )


async def record(mongo: Mongo, entry: AuditEntry | None, session: AsyncClientSession) -> None:
    """Add the entry in the session's transaction (nothing for a write without one)."""
    if entry is not None:
        await mongo[AUDIT_LOG].insert_one(audit_doc(entry), session=session)


async def with_entry(
    mongo: Mongo,
    entry: AuditEntry | None,
    write: Callable[[AsyncClientSession | None], Awaitable[T]],
    wrote: Callable[[T], bool] = lambda _: True,
) -> T:
    """A write of one document and its entry in one transaction, the entry only if the write
    `wrote` (a conditional write that matched nothing records nothing); without an entry,
    the write alone, outside any transaction."""
    if entry is None:
        return await write(None)

    async def both(session: AsyncClientSession) -> T:
        result = await write(session)
        if wrote(result):
            await record(mongo, entry, session)
        return result

    return await transact(mongo, both)


class MongoAuditLog:
    def __init__(self, mongo: Mongo) -> None:
        self.entries = mongo[AUDIT_LOG]

    async def page(
        self, scope: Scope, record_id: str | None, first: int, after: str | None
    ) -> Page[AuditEntry]:
        query = _entries(scope, record_id)
        return await keyset_page(self.entries, query, PAGES, first, after, audit_from)

    async def count(self, scope: Scope, record_id: str | None) -> int:
        return await self.entries.count_documents(_entries(scope, record_id))


def _entries(scope: Scope, record_id: str | None) -> Doc:
    """The scope's entries (P3: of its owners, when it names some), of one record if given."""
    query = scoped(scope, "user_id")
    if record_id is not None:
        query["record_ids"] = record_id
    return query

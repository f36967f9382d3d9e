"""The API tokens collection: hashes only.

A token is found by the hash of its secret (a unique index: the secret itself is never stored
nor compared), or by its id within its account.
"""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.services.ports.tokens import ApiToken
from marketing_contacts.storage.audit import with_entry
from marketing_contacts.storage.codec import token_doc, token_from
from marketing_contacts.storage.database import TOKENS, Doc, Mongo
from marketing_contacts.storage.ids import oid

INDEXES = {TOKENS: [IndexModel([("secret_hash", ASCENDING)], unique=True)]}


class MongoTokenStore:
    def __init__(self, mongo: Mongo) -> None:
        self.mongo = mongo
        self.collection = mongo[TOKENS]

    async def insert(self, token: ApiToken, audit: AuditEntry | None = None) -> None:
        async def write(session: AsyncClientSession | None) -> None:
            await self.collection.insert_one(token_doc(token), session=session)

        await with_entry(self.mongo, audit, write)

    async def find_by_hash(self, secret_hash: str) -> ApiToken | None:
        doc = await self.collection.find_one({"secret_hash": secret_hash})
        return None if doc is None else token_from(doc)

    async def get(self, account_id: str, token_id: str) -> ApiToken | None:
        key = oid(token_id)
        if key is None:
            return None
        doc = await self.collection.find_one({"_id": key, "account_id": oid(account_id)})
        return None if doc is None else token_from(doc)

    async def revoke(
        self, account_id: str, token_id: str, audit: AuditEntry | None = None
    ) -> ApiToken | None:
        key = oid(token_id)
        if key is None:
            return None

        async def write(session: AsyncClientSession | None) -> Doc | None:
            return await self.collection.find_one_and_update(
                {"_id": key, "account_id": oid(account_id)},
                {"$set": {"revoked": True}},
                return_document=ReturnDocument.AFTER,
                session=session,
            )

        doc = await with_entry(self.mongo, audit, write, lambda found: found is not None)
        return None if doc is None else token_from(doc)

    async def attach_user(self, token_id: str, user_id: str) -> None:
        await self.collection.update_one(
            {"_id": oid(token_id), "user_id": None}, {"$set": {"user_id": oid(user_id)}}
        )

    async def touch(self, token_id: str, now: datetime, unless_since: datetime) -> None:
        await self.collection.update_one(
            {
                "_id": oid(token_id),
                "$or": [{"last_used_at": None}, {"last_used_at": {"$lte": unless_since}}],
            },
            {"$set": {"last_used_at": now}},
        )

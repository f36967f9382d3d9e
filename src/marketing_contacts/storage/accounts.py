"""The accounts collection."""

from __future__ import annotations

from datetime import date, datetime

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.bulk import BulkOperation
from marketing_contacts.services.ports.accounts import DueUpdateDate
from marketing_contacts.services.ports.changes import StaleWrite
from marketing_contacts.storage.audit import record, with_entry
from marketing_contacts.storage.bulk_codec import operation_doc
from marketing_contacts.storage.codec import account_doc, account_from, account_settings_doc
from marketing_contacts.storage.database import ACCOUNTS, BULK_OPERATIONS, Mongo
from marketing_contacts.storage.ids import oid
from marketing_contacts.storage.transactions import transact

INDEXES = {ACCOUNTS: [IndexModel([("next_update_at", ASCENDING)])]}


class MongoAccountStore:
    def __init__(self, mongo: Mongo) -> None:
        self.mongo = mongo
        self.collection = mongo[ACCOUNTS]

    async def get(self, account_id: str) -> Account | None:
        key = oid(account_id)
        doc = None if key is None else await self.collection.find_one({"_id": key})
        return None if doc is None else account_from(doc)

    async def insert(self, account: Account) -> None:
        await self.collection.insert_one(account_doc(account))

    async def replace_settings(
        self, before: Account, after: Account, audit: AuditEntry | None = None
    ) -> None:
        async def write(session: AsyncClientSession | None) -> None:
            result = await self.collection.update_one(
                {"_id": oid(before.id), "revision": before.revision},
                {"$set": account_settings_doc(after)},
                session=session,
            )
            if result.matched_count != 1:
                raise StaleWrite(before.id)

        await with_entry(self.mongo, audit, write)

    async def enable_marketing_contacts(
        self, before: Account, after: Account, operation: BulkOperation, audit: AuditEntry
    ) -> None:
        async def write(session: AsyncClientSession) -> None:
            result = await self.collection.update_one(
                {"_id": oid(before.id), "revision": before.revision},
                {
                    "$set": {
                        "marketing_contacts_enabled": after.marketing_contacts_enabled,
                        "revision": after.revision,
                    }
                },
                session=session,
            )
            if result.matched_count != 1:
                raise StaleWrite(before.id)
            await self.mongo[BULK_OPERATIONS].insert_one(operation_doc(operation), session=session)
            await record(self.mongo, audit, session)

        await transact(self.mongo, write)

    async def due_for_update(self, now: datetime) -> list[DueUpdateDate]:
        cursor = self.collection.find(
            {"next_update_at": {"$lte": now}}, {"_id": 1, "next_update_date": 1}
        )
        return [
            DueUpdateDate(str(doc["_id"]), date.fromisoformat(doc["next_update_date"]))
            async for doc in cursor
        ]

    async def all_ids(self) -> list[str]:
        return [str(doc["_id"]) async for doc in self.collection.find({}, {"_id": 1})]

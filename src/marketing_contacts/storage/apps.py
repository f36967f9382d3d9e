"""The chatflows and integrations collections (F2, F3): one document per channel, in a
collection per kind, read by (account_id, _id).

A channel's creation counts the account's channels of its kind in the transaction that inserts
it, so an account keeps at most MAX_APPS_PER_ACCOUNT of each and a list of them is one read. A
setting change is conditional on the setting read (the update's filter holds it), so two
toggles racing each decide on what the other left.
"""

from __future__ import annotations

from bson import ObjectId
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession

from marketing_contacts.domain.apps import MAX_APPS_PER_ACCOUNT, App, AppKind
from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.storage.audit import record
from marketing_contacts.storage.database import CHATFLOWS, INTEGRATIONS, Doc, Mongo
from marketing_contacts.storage.ids import oid
from marketing_contacts.storage.transactions import transact

STORED_IN = {AppKind.CHATFLOW: CHATFLOWS, AppKind.INTEGRATION: INTEGRATIONS}

INDEXES = {
    # an account's channels of a kind, in creation order; one of them; how many there are
    collection: [IndexModel([("account_id", ASCENDING), ("_id", ASCENDING)])]
    for collection in STORED_IN.values()
}


def app_doc(app: App) -> Doc:
    return {
        "_id": ObjectId(app.id),
        "account_id": ObjectId(app.account_id),
        "name": app.name,
        "sets_marketing": app.sets_marketing,
        "marketing_since": app.marketing_since,
        "created_at": app.created_at,
        "updated_at": app.updated_at,
    }


def app_from(kind: AppKind, doc: Doc) -> App:
    return App(
        id=str(doc["_id"]),
        account_id=str(doc["account_id"]),
        kind=kind,
        name=doc["name"],
        sets_marketing=doc["sets_marketing"],
        marketing_since=doc["marketing_since"],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
    )


class MongoAppStore:
    def __init__(self, mongo: Mongo) -> None:
        self.mongo = mongo

    async def insert(self, app: App, limit: int, audit: AuditEntry | None = None) -> bool:
        apps = self.mongo[STORED_IN[app.kind]]

        async def work(session: AsyncClientSession) -> bool:
            held = await apps.count_documents(
                {"account_id": ObjectId(app.account_id)}, limit=limit, session=session
            )
            if held >= limit:
                return False
            await apps.insert_one(app_doc(app), session=session)
            await record(self.mongo, audit, session)
            return True

        return await transact(self.mongo, work)

    async def get(self, account_id: str, kind: AppKind, app_id: str) -> App | None:
        key, account = oid(app_id), oid(account_id)
        if key is None or account is None:
            return None
        doc = await self.mongo[STORED_IN[kind]].find_one({"_id": key, "account_id": account})
        return None if doc is None else app_from(kind, doc)

    async def all(self, account_id: str, kind: AppKind) -> list[App]:
        account = oid(account_id)
        if account is None:
            return []
        found = self.mongo[STORED_IN[kind]].find(
            {"account_id": account},
            sort=[("_id", ASCENDING)],
            limit=MAX_APPS_PER_ACCOUNT,
            batch_size=MAX_APPS_PER_ACCOUNT,
        )
        return [app_from(kind, doc) async for doc in found]

    async def set_marketing(self, before: App, after: App, audit: AuditEntry | None = None) -> bool:
        apps = self.mongo[STORED_IN[after.kind]]
        key, account = oid(after.id), oid(after.account_id)
        if key is None or account is None:
            return False

        async def work(session: AsyncClientSession) -> bool:
            written = await apps.update_one(
                {"_id": key, "account_id": account, "sets_marketing": before.sets_marketing},
                {
                    "$set": {
                        "sets_marketing": after.sets_marketing,
                        "marketing_since": after.marketing_since,
                        "updated_at": after.updated_at,
                    }
                },
                session=session,
            )
            if not written.matched_count:
                return False
            await record(self.mongo, audit, session)
            return True

        return await transact(self.mongo, work)

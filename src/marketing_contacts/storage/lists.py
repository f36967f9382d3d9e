"""The lists collection, and list membership, which lives on the contacts (`list_ids`).

A membership change and the list's `size` move in one transaction that also checks the list is
live, so a size is exact and no contact joins a deleted list. A deleted list keeps its document,
marked by `deleted_at` (live lists have no such field), while a run, holding `drop_owner` until
`drop_lease_until`, takes its membership out in pages; then the document goes.

Pages run newest first on (account_id, deleted_at, _id desc): the lists a user just made come
first, and the deleted ones of an account are found on the same index. The sweeper looks for
abandoned deletions across accounts on a sparse index of `deleted_at`, which holds the deleted
lists only. Membership reads and writes use the contacts index (account_id, list_ids, _id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.services.paging import Page
from marketing_contacts.services.ports.lists import (
    ContactList,
    ListDeletion,
    ListGone,
    ListRecount,
)
from marketing_contacts.storage.audit import record
from marketing_contacts.storage.database import CONTACTS, LISTS, Doc, Mongo
from marketing_contacts.storage.ids import oid
from marketing_contacts.storage.paging import Keyset, keyset_page
from marketing_contacts.storage.transactions import transact

PAGES = Keyset("list", descending=True)
#: before any deletion: `deleted_at` above it selects the deleted lists
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

INDEXES = {
    LISTS: [
        IndexModel([("account_id", ASCENDING), ("deleted_at", ASCENDING), ("_id", DESCENDING)]),
        IndexModel([("deleted_at", ASCENDING)], sparse=True),
    ]
}


def list_doc(contact_list: ContactList) -> Doc:
    return {
        "_id": ObjectId(contact_list.id),
        "account_id": ObjectId(contact_list.account_id),
        "name": contact_list.name,
        "created_at": contact_list.created_at,
        "size": contact_list.size,
    }


def list_from(doc: Doc) -> ContactList:
    return ContactList(
        id=str(doc["_id"]),
        account_id=str(doc["account_id"]),
        name=doc["name"],
        created_at=doc["created_at"],
        size=doc.get("size", 0),
    )


def deletion_from(doc: Doc) -> ListDeletion:
    return ListDeletion(
        account_id=str(doc["account_id"]),
        list_id=str(doc["_id"]),
        deleted_at=doc["deleted_at"],
        owner=doc.get("drop_owner"),
        lease_until=doc.get("drop_lease_until"),
        deleted_by=doc.get("deleted_by"),
    )


def _live(account_id: str, list_id: str | None = None) -> Doc:
    query: Doc = {"account_id": oid(account_id), "deleted_at": None}
    if list_id is not None:
        query["_id"] = oid(list_id)
    return query


def _deleted(deletion: ListDeletion) -> Doc:
    return {
        "_id": ObjectId(deletion.list_id),
        "account_id": ObjectId(deletion.account_id),
        "deleted_at": {"$gt": EPOCH},
    }


class MongoListStore:
    def __init__(self, mongo: Mongo) -> None:
        self.mongo = mongo
        self.lists = mongo[LISTS]
        self.contacts = mongo[CONTACTS]

    async def insert(
        self,
        contact_list: ContactList,
        member_ids: Sequence[str] = (),
        audit: AuditEntry | None = None,
    ) -> ContactList:
        async def write(session: AsyncClientSession) -> ContactList:
            added = await self._add(contact_list.account_id, contact_list.id, member_ids, session)
            stored = replace(contact_list, size=added)
            await self.lists.insert_one(list_doc(stored), session=session)
            await record(self.mongo, audit, session)
            return stored

        return await transact(self.mongo, write)

    async def get(self, account_id: str, list_id: str) -> ContactList | None:
        if oid(list_id) is None:
            return None
        doc = await self.lists.find_one(_live(account_id, list_id))
        return None if doc is None else list_from(doc)

    async def page(self, account_id: str, first: int, after: str | None) -> Page[ContactList]:
        return await keyset_page(self.lists, _live(account_id), PAGES, first, after, list_from)

    async def count(self, account_id: str) -> int:
        return await self.lists.count_documents(_live(account_id))

    async def add_members(
        self,
        account_id: str,
        list_id: str,
        contact_ids: Sequence[str],
        audit: AuditEntry | None = None,
    ) -> int:
        async def write(session: AsyncClientSession) -> int:
            added = await self._add(account_id, list_id, contact_ids, session)
            await self._count_in(account_id, list_id, added, session)
            await record(self.mongo, audit, session)
            return added

        return await transact(self.mongo, write)

    async def remove_members(
        self,
        account_id: str,
        list_id: str,
        contact_ids: Sequence[str],
        audit: AuditEntry | None = None,
    ) -> int:
        async def write(session: AsyncClientSession) -> int:
            query = self._contacts(account_id, contact_ids)
            removed = 0
            if query is not None:
                query["list_ids"] = list_id
                pulled = await self.contacts.update_many(
                    query, {"$pull": {"list_ids": list_id}}, session=session
                )
                removed = pulled.modified_count
            await self._count_in(account_id, list_id, -removed, session)
            await record(self.mongo, audit, session)
            return removed

        return await transact(self.mongo, write)

    async def mark_deleted(
        self, account_id: str, list_id: str, at: datetime, audit: AuditEntry | None = None
    ) -> bool:
        if oid(list_id) is None:
            return False
        deleted_by = None if audit is None else audit.actor.user_id

        async def write(session: AsyncClientSession) -> bool:
            marked = await self.lists.update_one(
                _live(account_id, list_id),
                {"$set": {"deleted_at": at, "deleted_by": deleted_by}},
                session=session,
            )
            if marked.modified_count != 1:
                return False
            await record(self.mongo, audit, session)
            return True

        return await transact(self.mongo, write)

    async def deletions(self, account_id: str, first: int) -> list[ListDeletion]:
        query = {"account_id": oid(account_id), "deleted_at": {"$gt": EPOCH}}
        return [deletion_from(doc) async for doc in self.lists.find(query).limit(first)]

    async def stale_deletions(self, deleted_before: datetime, now: datetime) -> list[ListDeletion]:
        # every deletion in progress, of any account (a list is removed within turns of its
        # deletion): few, on the sparse index, and judged here
        found = self.lists.find({"deleted_at": {"$gt": EPOCH}})
        return [
            deletion
            async for doc in found
            if (deletion := deletion_from(doc)).stale(deleted_before, now)
        ]

    async def claim_deletion(
        self, deletion: ListDeletion, owner: str, now: datetime, lease_until: datetime
    ) -> bool:
        claimable = {
            **_deleted(deletion),
            "$or": [
                {"drop_owner": {"$in": [None, owner]}},
                {"drop_lease_until": {"$lte": now}},
            ],
        }
        claimed = await self.lists.update_one(
            claimable, {"$set": {"drop_owner": owner, "drop_lease_until": lease_until}}
        )
        return claimed.matched_count == 1

    async def drop_members(
        self,
        deletion: ListDeletion,
        owner: str,
        limit: int,
        lease_until: datetime,
        audit: AuditEntry | None = None,
    ) -> int | None:
        async def write(session: AsyncClientSession) -> int | None:
            renewed = await self.lists.update_one(
                {**_deleted(deletion), "drop_owner": owner},
                {"$set": {"drop_lease_until": lease_until}},
                session=session,
            )
            if renewed.matched_count != 1:
                return None
            account = ObjectId(deletion.account_id)
            members = {"account_id": account, "list_ids": deletion.list_id}
            found = self.contacts.find(members, {"_id": 1}, session=session).limit(limit)
            keys = [doc["_id"] async for doc in found]
            if keys:
                await self.contacts.update_many(
                    {"_id": {"$in": keys}, **members},
                    {"$pull": {"list_ids": deletion.list_id}},
                    session=session,
                )
                if audit is not None:
                    written = (*audit.record_ids, *map(str, keys))
                    await record(self.mongo, replace(audit, record_ids=written), session)
            return len(keys)

        return await transact(self.mongo, write)

    async def purge(self, deletion: ListDeletion, owner: str) -> bool:
        purged = await self.lists.delete_one({**_deleted(deletion), "drop_owner": owner})
        return purged.deleted_count == 1

    async def recount(self, account_id: str) -> list[ListRecount]:
        repaired: list[ListRecount] = []
        async for doc in self.lists.find(_live(account_id), {"_id": 1}):
            recounted = await transact(
                self.mongo, partial(self._recount, account_id, str(doc["_id"])), snapshot=True
            )
            if recounted is not None:
                repaired.append(recounted)
        return repaired

    async def _recount(
        self, account_id: str, list_id: str, session: AsyncClientSession
    ) -> ListRecount | None:
        """The list's members and size read at one instant, and the size set to them if they
        differ: a membership change committed since conflicts, and the recount runs again."""
        doc = await self.lists.find_one(_live(account_id, list_id), {"size": 1}, session=session)
        if doc is None:
            return None  # deleted meanwhile
        members = {"account_id": oid(account_id), "list_ids": list_id}
        actual = await self.contacts.count_documents(members, session=session)
        stored = doc.get("size", 0)
        if actual == stored:
            return None
        await self.lists.update_one(
            {"_id": doc["_id"]}, {"$set": {"size": actual}}, session=session
        )
        return ListRecount(list_id, stored, actual)

    async def _add(
        self,
        account_id: str,
        list_id: str,
        contact_ids: Sequence[str],
        session: AsyncClientSession,
    ) -> int:
        query = self._contacts(account_id, contact_ids)
        if query is None:
            return 0
        query["list_ids"] = {"$ne": list_id}
        added = await self.contacts.update_many(
            query, {"$addToSet": {"list_ids": list_id}}, session=session
        )
        return added.modified_count

    async def _count_in(
        self, account_id: str, list_id: str, members: int, session: AsyncClientSession
    ) -> None:
        """Move the live list's size by `members` (also when 0: the write proves it is live
        and meets any concurrent delete); ListGone, ending the transaction, if it is not."""
        if oid(list_id) is None:
            raise ListGone(list_id)
        counted = await self.lists.update_one(
            _live(account_id, list_id), {"$inc": {"size": members}}, session=session
        )
        if counted.matched_count != 1:
            raise ListGone(list_id)

    @staticmethod
    def _contacts(account_id: str, contact_ids: Sequence[str]) -> Doc | None:
        keys = [key for key in map(oid, contact_ids) if key is not None]
        if not keys:
            return None
        return {"_id": {"$in": keys}, "account_id": oid(account_id)}

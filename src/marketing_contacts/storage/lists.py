"""The lists collection, and list membership, which lives on the contacts (`list_ids`).

Pages run newest first on (account_id, _id desc): the lists a user just made come first.
Membership reads and writes use the contacts index (account_id, list_ids, _id).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel

from marketing_contacts.services.paging import Page
from marketing_contacts.services.ports.lists import ContactList
from marketing_contacts.storage.database import CONTACTS, LISTS, Doc, Mongo
from marketing_contacts.storage.ids import oid
from marketing_contacts.storage.paging import Keyset, keyset_page

PAGES = Keyset("list", descending=True)

INDEXES = {LISTS: [IndexModel([("account_id", ASCENDING), ("_id", DESCENDING)])]}


def list_doc(contact_list: ContactList) -> Doc:
    return {
        "_id": ObjectId(contact_list.id),
        "account_id": ObjectId(contact_list.account_id),
        "name": contact_list.name,
        "created_at": contact_list.created_at,
    }


def list_from(doc: Doc) -> ContactList:
    return ContactList(
        id=str(doc["_id"]),
        account_id=str(doc["account_id"]),
        name=doc["name"],
        created_at=doc["created_at"],
    )


class MongoListStore:
    def __init__(self, mongo: Mongo) -> None:
        self.lists = mongo[LISTS]
        self.contacts = mongo[CONTACTS]

    async def insert(self, contact_list: ContactList) -> None:
        await self.lists.insert_one(list_doc(contact_list))

    async def get(self, account_id: str, list_id: str) -> ContactList | None:
        key = oid(list_id)
        if key is None:
            return None
        doc = await self.lists.find_one({"_id": key, "account_id": oid(account_id)})
        return None if doc is None else list_from(doc)

    async def page(self, account_id: str, first: int, after: str | None) -> Page[ContactList]:
        query: Doc = {"account_id": oid(account_id)}
        return await keyset_page(self.lists, query, PAGES, first, after, list_from)

    async def count(self, account_id: str) -> int:
        return await self.lists.count_documents({"account_id": oid(account_id)})

    async def delete(self, account_id: str, list_id: str) -> bool:
        key = oid(list_id)
        if key is None:
            return False
        result = await self.lists.delete_one({"_id": key, "account_id": oid(account_id)})
        return result.deleted_count == 1

    async def size(self, account_id: str, list_id: str) -> int:
        return await self.contacts.count_documents(
            {"account_id": oid(account_id), "list_ids": list_id}
        )

    async def sizes(self, account_id: str, list_ids: Sequence[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(list_ids))
        if not wanted:
            return {}
        members = {"$in": wanted}
        pipeline: list[dict[str, Any]] = [
            {"$match": {"account_id": oid(account_id), "list_ids": members}},
            {"$project": {"_id": 0, "list_ids": 1}},
            {"$unwind": "$list_ids"},
            {"$match": {"list_ids": members}},
            {"$group": {"_id": "$list_ids", "n": {"$sum": 1}}},
        ]
        cursor = await self.contacts.aggregate(pipeline)
        counted = {row["_id"]: row["n"] async for row in cursor}
        return {list_id: counted.get(list_id, 0) for list_id in wanted}

    async def add_members(self, account_id: str, list_id: str, contact_ids: Sequence[str]) -> int:
        query = self._contacts(account_id, contact_ids)
        if query is None:
            return 0
        result = await self.contacts.update_many(query, {"$addToSet": {"list_ids": list_id}})
        return result.modified_count

    async def remove_members(
        self, account_id: str, list_id: str, contact_ids: Sequence[str]
    ) -> int:
        query = self._contacts(account_id, contact_ids)
        if query is None:
            return 0
        query["list_ids"] = list_id
        result = await self.contacts.update_many(query, {"$pull": {"list_ids": list_id}})
        return result.modified_count

    async def drop_membership(self, account_id: str, list_id: str) -> int:
        result = await self.contacts.update_many(
            {"account_id": oid(account_id), "list_ids": list_id}, {"$pull": {"list_ids": list_id}}
        )
        return result.modified_count

    @staticmethod
    def _contacts(account_id: str, contact_ids: Sequence[str]) -> Doc | None:
        keys = [key for key in map(oid, contact_ids) if key is not None]
        if not keys:
            return None
        return {"_id": {"$in": keys}, "account_id": oid(account_id)}

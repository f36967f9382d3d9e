"""Status history (S4): one document per change, ordered per contact by its sequence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pymongo import ASCENDING, DESCENDING, IndexModel

from marketing_contacts.domain.statuses import HistoryEntry
from marketing_contacts.services.paging import Page
from marketing_contacts.storage.codec import history_from
from marketing_contacts.storage.database import STATUS_HISTORY, Doc, Mongo
from marketing_contacts.storage.ids import oid
from marketing_contacts.storage.paging import Keyset, keyset_page, page_of, sequence

#: each contact's entries, newest first
PAGES = Keyset("history", key="seq", descending=True, parse=sequence)

INDEXES = {
    STATUS_HISTORY: [
        IndexModel(
            [("account_id", ASCENDING), ("contact_id", ASCENDING), ("seq", DESCENDING)],
            unique=True,
        )
    ]
}


class MongoHistoryStore:
    def __init__(self, mongo: Mongo) -> None:
        self.collection = mongo[STATUS_HISTORY]

    async def page(
        self, account_id: str, contact_id: str, first: int, after: str | None
    ) -> Page[HistoryEntry]:
        query: Doc = {"account_id": oid(account_id), "contact_id": oid(contact_id)}
        return await keyset_page(self.collection, query, PAGES, first, after, history_from)

    async def first_pages(
        self, account_id: str, newest: Mapping[str, int], first: int
    ) -> dict[str, Page[HistoryEntry]]:
        # one clause per contact, each a range of at most first + 1 keys of the index
        clauses = [
            {"contact_id": key, "seq": {"$gt": seq - first - 1, "$lte": seq}}
            for contact_id, seq in newest.items()
            if seq > 0 and (key := oid(contact_id)) is not None
        ]
        found: dict[str, list[Doc]] = {}
        if clauses:
            query = {"account_id": oid(account_id), "$or": clauses}
            async for doc in self.collection.find(query):
                found.setdefault(str(doc["contact_id"]), []).append(doc)
        return {
            cid: page_of(sorted(found.get(cid, []), key=_newest_first), first, PAGES, history_from)
            for cid in newest
        }

    async def counts(self, account_id: str, contact_ids: Sequence[str]) -> dict[str, int]:
        keys = [key for key in map(oid, contact_ids) if key is not None]
        pipeline: list[Doc] = [
            {"$match": {"account_id": oid(account_id), "contact_id": {"$in": keys}}},
            {"$group": {"_id": "$contact_id", "n": {"$sum": 1}}},
        ]
        found = {
            str(row["_id"]): int(row["n"])
            async for row in await self.collection.aggregate(pipeline)
        }
        return {cid: found.get(cid, 0) for cid in contact_ids}


def _newest_first(doc: Doc) -> int:
    return -int(doc["seq"])

"""Status history (S4): one document per change, ordered per contact by its sequence."""

from __future__ import annotations

from collections.abc import Mapping

from pymongo import ASCENDING, DESCENDING, IndexModel

from marketing_contacts.domain.statuses import HistoryEntry
from marketing_contacts.services.paging import BadCursor, Page
from marketing_contacts.storage.codec import history_from
from marketing_contacts.storage.database import STATUS_HISTORY, Doc, Mongo
from marketing_contacts.storage.ids import decode_cursor, encode_cursor, oid

CURSOR = "history"

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
        if after is not None:
            seq = decode_cursor(CURSOR, after)
            if not seq.isdigit():
                raise BadCursor(after)
            query["seq"] = {"$lt": int(seq)}
        docs = await self.collection.find(query).sort("seq", DESCENDING).limit(first + 1).to_list()
        return _page([history_from(doc) for doc in docs], first)

    async def first_pages(
        self, account_id: str, newest: Mapping[str, int], first: int
    ) -> dict[str, Page[HistoryEntry]]:
        # one clause per contact, each a range of at most first + 1 keys of the index
        clauses = [
            {"contact_id": key, "seq": {"$gt": seq - first - 1, "$lte": seq}}
            for contact_id, seq in newest.items()
            if seq > 0 and (key := oid(contact_id)) is not None
        ]
        found: dict[str, list[HistoryEntry]] = {}
        if clauses:
            query = {"account_id": oid(account_id), "$or": clauses}
            async for doc in self.collection.find(query):
                entry = history_from(doc)
                found.setdefault(entry.contact_id, []).append(entry)
        return {
            cid: _page(sorted(found.get(cid, []), key=lambda e: -e.seq), first) for cid in newest
        }


def _page(entries: list[HistoryEntry], first: int) -> Page[HistoryEntry]:
    """`entries` newest first, one more than a page if there is a next page."""
    items = entries[:first]
    return Page(items, [encode_cursor(CURSOR, str(e.seq)) for e in items], len(entries) > first)

"""Status history (S4): one document per change, ordered per contact by its sequence."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, IndexModel

from marketing_contacts.services.ports import BadCursor, HistoryEntry, Page
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
        items = [history_from(doc) for doc in docs[:first]]
        return Page(items, [encode_cursor(CURSOR, str(e.seq)) for e in items], len(docs) > first)

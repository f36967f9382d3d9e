"""The resolved selections of bulk operations, page by page (B1, B4).

Resolving a selection streams its contact ids, in selection order, into page documents of one
chunk each (`bulk_pages`): the worker never holds the selection in memory, and the contacts are
not written to. Each page is applied in one transaction with the operation's move past it
(storage.writer), so a restarted worker resumes at exactly the next page: none twice, none lost.
A run reads the next few pages with their contacts in one command (`pages_to_apply`).
A resolution that was cut short leaves pages under its own token, which the winning one ignores.

Each page keeps its last id (`last_id`): a selection in id order (any but an ids selection) has
its ids in ascending order across its pages, so the one page that can hold a contact is the
first whose last id is not below the contact's, found on (operation_id, resolution, last_id)
(`holds`, which C10 asks before a merge).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from bson import ObjectId
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.cursor import AsyncCursor

from marketing_contacts.domain.bulk import BulkOperation, Selection
from marketing_contacts.services.ports.bulk import BulkPage
from marketing_contacts.storage.bulk_codec import operation_from
from marketing_contacts.storage.codec import contact_from
from marketing_contacts.storage.contact_query import scope_doc, selection_query
from marketing_contacts.storage.database import BULK_OPERATIONS, BULK_PAGES, CONTACTS, Doc, Mongo
from marketing_contacts.storage.ids import oid

#: pages left behind (by a worker that died after its operation ended) go after this long
PAGES_EXPIRE_AFTER = timedelta(days=7)
#: pages written per insert while resolving (what the worker holds of a selection at most)
PAGES_PER_INSERT = 4

INDEXES = {
    BULK_PAGES: [
        IndexModel(
            [("operation_id", ASCENDING), ("resolution", ASCENDING), ("number", ASCENDING)],
            unique=True,
        ),
        # the page that can hold a contact, in a selection in id order
        IndexModel(
            [("operation_id", ASCENDING), ("resolution", ASCENDING), ("last_id", ASCENDING)]
        ),
        IndexModel(
            [("written_at", ASCENDING)],
            expireAfterSeconds=int(PAGES_EXPIRE_AFTER.total_seconds()),
        ),
    ],
}


class MongoBulkPages:
    def __init__(self, mongo: Mongo) -> None:
        self.operations = mongo[BULK_OPERATIONS]
        self.contacts = mongo[CONTACTS]
        self.pages = mongo[BULK_PAGES]

    async def resolve(self, operation: BulkOperation, page_size: int) -> BulkOperation:
        resolution = str(ObjectId())
        query = selection_query(operation.scope, operation.selection, operation.created_at)
        found = (
            self.contacts.find(query, {"_id": 1})
            .sort("_id", ASCENDING)
            .batch_size(page_size * PAGES_PER_INSERT)  # ids only: a batch is what one insert takes
        )
        written_at = datetime.now(UTC)
        matched = 0
        pages: list[Doc] = []
        async for ids in _in_pages(_in_selection_order(found, operation.selection), page_size):
            pages.append(
                {
                    "operation_id": operation.id,
                    "resolution": resolution,
                    "number": matched // page_size,
                    "ids": ids,
                    "last_id": ids[-1],
                    "written_at": written_at,
                }
            )
            matched += len(ids)
            if len(pages) == PAGES_PER_INSERT:
                await self.pages.insert_many(pages)
                pages = []
        if pages:
            await self.pages.insert_many(pages)
        doc = await self.operations.find_one_and_update(
            {"_id": oid(operation.id), "resolved": False},
            {
                "$set": {
                    "resolved": True,
                    "resolution": resolution,
                    "next_page": 0,
                    "page_count": -(-matched // page_size),
                    "progress.matched": matched,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:  # resolved by another run meanwhile: its pages and count stand
            await self.pages.delete_many({"operation_id": operation.id, "resolution": resolution})
            doc = await self.operations.find_one({"_id": oid(operation.id)})
        assert doc is not None
        return operation_from(doc)

    async def pages_to_apply(self, operation: BulkOperation, count: int) -> list[BulkPage]:
        """One command: the pages, each with its contacts joined by `_id` (an index lookup
        per id; only the account's)."""
        first = operation.next_page
        pipeline: list[Doc] = [
            {
                "$match": {
                    "operation_id": operation.id,
                    "resolution": operation.resolution,
                    "number": {"$gte": first, "$lt": first + count},
                }
            },
            {"$sort": {"number": ASCENDING}},
            {
                "$lookup": {
                    "from": CONTACTS,
                    "localField": "ids",
                    "foreignField": "_id",
                    "pipeline": [{"$match": scope_doc(operation.scope)}],
                    "as": "contacts",
                }
            },
        ]
        pages: list[BulkPage] = []
        async for found in await self.pages.aggregate(pipeline):
            by_id = {doc["_id"]: doc for doc in found["contacts"]}
            in_order = [contact_from(by_id[key]) for key in found["ids"] if key in by_id]
            pages.append(BulkPage(found["number"], in_order))
        return pages

    async def drop_pages(self, operation_id: str) -> None:
        await self.pages.delete_many({"operation_id": operation_id})

    async def holds(self, operation: BulkOperation, contact_id: str) -> bool:
        key = oid(contact_id)
        if not operation.resolved or key is None:
            return False
        resolved = {"operation_id": operation.id, "resolution": operation.resolution}
        if operation.selection.ids is not None:
            # the ids in the order given, at most MAX_SELECTED_IDS in all: the pages left
            left = self.pages.find(
                {**resolved, "number": {"$gte": operation.next_page}}, {"ids": 1}
            )
            return any([key in doc["ids"] async for doc in left])
        page = await self.pages.find_one(
            {**resolved, "last_id": {"$gte": key}},
            {"number": 1, "ids": 1},
            sort=[("last_id", ASCENDING)],
        )
        return page is not None and page["number"] >= operation.next_page and key in page["ids"]


async def _in_selection_order(found: AsyncCursor[Doc], selection: Selection) -> AsyncIterator[Doc]:
    """The selected ids in T6's selection order: an ids selection (at most 10,000) in the order
    its ids were given; any other streamed as read, in id order."""
    if selection.ids is None:
        async for doc in found:
            yield doc
        return
    present = {str(doc["_id"]) async for doc in found}
    for contact_id in selection.in_selection_order(present):
        yield {"_id": ObjectId(contact_id)}


async def _in_pages(found: AsyncIterator[Doc], size: int) -> AsyncIterator[list[ObjectId]]:
    """The ids of the documents, `size` at a time."""
    ids: list[ObjectId] = []
    async for doc in found:
        ids.append(doc["_id"])
        if len(ids) == size:
            yield ids
            ids = []
    if ids:
        yield ids

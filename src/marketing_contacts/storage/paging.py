"""Keyset pages: every connection a store serves is read the same way.

A page is the documents of a query beyond the `after` cursor's key, in the order of one indexed
field, read one more than asked so the page knows whether a next one exists; a page asked for
after a cursor also looks (one index seek) whether anything lies at or before that cursor, for
`hasPreviousPage`. The cursor is the field's value of an item (services.paging encodes it).

The first pages of many records (a page of contacts, each with its engagements) are read in one
command, each record's page its own indexed and limited read (`first_pages_of`): a record with
10,000 engagements costs what one with 21 does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection

from marketing_contacts.services.paging import BadCursor, Page, decode_cursor, encode_cursor
from marketing_contacts.storage.database import Doc
from marketing_contacts.storage.ids import oid

T = TypeVar("T")


def object_id(key: str) -> ObjectId:
    """A cursor's key that must be an ObjectId (`_id` orders)."""
    value = oid(key)
    if value is None:
        raise BadCursor(key)
    return value


def sequence(key: str) -> int:
    """A cursor's key that must be a sequence number (0, 1, 2, ...)."""
    if not key.isdigit():
        raise BadCursor(key)
    return int(key)


@dataclass(frozen=True)
class Keyset:
    """How one connection is ordered: its cursor kind, the field it orders on (`key`, unique
    within the query), the direction, and what a cursor's key is as a value of that field."""

    kind: str
    key: str = "_id"
    descending: bool = False
    parse: Callable[[str], Any] = object_id

    def bound(self, after: str | None) -> Any:
        """The field's value `after` names, None without a cursor; BadCursor for a cursor
        of another connection."""
        return None if after is None else self.parse(decode_cursor(self.kind, after))

    def beyond(self, query: Doc, bound: Any) -> Doc:
        """`query` narrowed to what comes after `bound` in this order."""
        return self._narrowed(query, "$lt" if self.descending else "$gt", bound)

    def up_to(self, query: Doc, bound: Any) -> Doc:
        """`query` narrowed to what comes at or before `bound` in this order."""
        return self._narrowed(query, "$gte" if self.descending else "$lte", bound)

    def _narrowed(self, query: Doc, operator: str, bound: Any) -> Doc:
        """The bound joins the key's other operators (an id range of a created filter), so the
        query keeps one range on the key that an index reads; `$and` only when the key already
        has that operator or a plain value."""
        held = query.get(self.key)
        if held is None:
            return {**query, self.key: {operator: bound}}
        if isinstance(held, dict) and operator not in held and all(k[:1] == "$" for k in held):
            return {**query, self.key: {**held, operator: bound}}
        return {"$and": [query, {self.key: {operator: bound}}]}

    @property
    def direction(self) -> int:
        return DESCENDING if self.descending else ASCENDING

    def cursor(self, doc: Doc) -> str:
        return encode_cursor(self.kind, str(doc[self.key]))


async def keyset_page(
    collection: AsyncCollection[Doc],
    query: Doc,
    keyset: Keyset,
    first: int,
    after: str | None,
    decode: Callable[[Doc], T],
    session: AsyncClientSession | None = None,
) -> Page[T]:
    """The page of `query`'s documents after the cursor `after`, `first` at most, decoded."""
    bound = keyset.bound(after)
    page_query = query if bound is None else keyset.beyond(query, bound)
    found = collection.find(page_query, session=session).sort(keyset.key, keyset.direction)
    docs = await found.limit(first + 1).to_list()
    before = None
    if bound is not None:
        before = await collection.find_one(keyset.up_to(query, bound), {"_id": 1}, session=session)
    return page_of(docs, first, keyset, decode, has_previous_page=before is not None)


#: which query of `first_pages_of` a document answers
_PAGE_OF = "_page_of"


def _first_page(key: str, query: Doc, keyset: Keyset, first: int) -> list[Doc]:
    return [
        {"$match": query},
        {"$sort": {keyset.key: keyset.direction}},
        {"$limit": first + 1},
        {"$set": {_PAGE_OF: key}},
    ]


async def first_pages_of(
    collection: AsyncCollection[Doc], queries: Mapping[str, Doc], keyset: Keyset, first: int
) -> dict[str, list[Doc]]:
    """The first `first` + 1 documents of each query, in the keyset's order, in one command:
    the first query's read, and each other one's through `$unionWith`, every one of them a
    limited read of the index that serves it (the same shape each time)."""
    found: dict[str, list[Doc]] = {key: [] for key in queries}
    if not queries:
        return found
    (key, query), *others = queries.items()
    pipeline = [
        *_first_page(key, query, keyset, first),
        *(
            {"$unionWith": {"coll": collection.name, "pipeline": _first_page(k, q, keyset, first)}}
            for k, q in others
        ),
    ]
    # every page in the first batch: one command, however many pages (16 MB bounds a batch)
    batch = len(queries) * (first + 1)
    async for doc in await collection.aggregate(pipeline, batchSize=batch):
        found[doc.pop(_PAGE_OF)].append(doc)
    return found


async def counts_of(collection: AsyncCollection[Doc], queries: Mapping[str, Doc]) -> dict[str, int]:
    """How many documents each query selects, in one command (each count a read of its
    index, as `first_pages_of` reads its pages)."""
    counts = dict.fromkeys(queries, 0)
    if not queries:
        return counts

    def count(key: str, query: Doc) -> list[Doc]:
        return [
            {"$match": query},
            {"$group": {"_id": None, "n": {"$sum": 1}}},
            {"$set": {_PAGE_OF: key}},
        ]

    (key, query), *others = queries.items()
    pipeline = [
        *count(key, query),
        *({"$unionWith": {"coll": collection.name, "pipeline": count(k, q)}} for k, q in others),
    ]
    async for row in await collection.aggregate(pipeline, batchSize=len(queries)):
        counts[row[_PAGE_OF]] = int(row["n"])
    return counts


def page_of(
    docs: list[Doc],
    first: int,
    keyset: Keyset,
    decode: Callable[[Doc], T],
    *,
    has_previous_page: bool = False,
) -> Page[T]:
    """A page from documents in the keyset's order, read one more than a page when a next page
    exists."""
    kept = docs[:first]
    return Page(
        [decode(doc) for doc in kept],
        [keyset.cursor(doc) for doc in kept],
        has_next_page=len(docs) > first,
        has_previous_page=has_previous_page,
    )

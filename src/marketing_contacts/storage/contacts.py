"""The contacts collection: reads, filters and field edits (status writes go through writer)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from marketing_contacts.domain.bulk import Selection
from marketing_contacts.domain.contacts import Contact
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import MarketingState
from marketing_contacts.services.paging import Page
from marketing_contacts.services.ports.contacts import DuplicateEmail
from marketing_contacts.storage.codec import contact_diff, contact_from
from marketing_contacts.storage.database import CONTACTS, Doc, Mongo
from marketing_contacts.storage.ids import (
    decode_id_cursor,
    encode_cursor,
    first_id_after,
    first_id_at,
    oid,
)

CURSOR = "contact"


def _by_account(*keys: str, **options: Any) -> IndexModel:
    return IndexModel([("account_id", ASCENDING), *((key, ASCENDING) for key in keys)], **options)


INDEXES = {
    CONTACTS: [
        # C8: email unique per account, case-insensitive; contacts without email are exempt
        _by_account(
            "email_key", unique=True, partialFilterExpression={"email_key": {"$type": "string"}}
        ),
        # the unfiltered list and its pages, in id order; created after or before a time is a
        # range of ids (a contact's id carries its creation time: filter_doc)
        _by_account("_id"),
        # pages of a filter, in id order (a combination of filters reads one filter's contacts)
        _by_account("state", "_id"),
        _by_account("email_domain", "_id"),
        _by_account("lifecycle_stage", "_id"),
        _by_account("owner_id", "_id"),
        _by_account("created_via", "_id"),
        _by_account("list_ids", "_id"),
        _by_account("email_hard_bounced", "_id"),
        _by_account("unsubscribed_from_all", "_id"),
        # S6: the unengaged ones by state (a bulk change of the unengaged selects marketing ones)
        _by_account("unengaged", "state", "_id"),
        # U4: the pending contacts an update date takes to N
        _by_account("state", "pending_since"),
    ]
}

_ALL_STATES = frozenset(MarketingState)


def _states(where: ContactFilter) -> frozenset[MarketingState]:
    states = _ALL_STATES
    if where.marketing_status is not None:
        states &= {s for s in MarketingState if s.status is where.marketing_status}
    if where.marketing_until_next_update is not None:
        states &= {
            s
            for s in MarketingState
            if s.marketing_until_next_update is where.marketing_until_next_update
        }
    return states


def filter_doc(account_id: str, where: ContactFilter) -> Doc:
    """The MongoDB filter selecting what `where.matches` selects."""
    query: Doc = {"account_id": oid(account_id)}
    states = _states(where)
    if states != _ALL_STATES:
        query["state"] = {"$in": sorted(s.value for s in states)}
    equal = {
        "email_domain": where.email_domain and where.email_domain.lower(),
        "lifecycle_stage": where.lifecycle_stage and where.lifecycle_stage.value,
        "owner_id": where.owner_id,
        "created_via": where.created_via and where.created_via.value,
        "email_hard_bounced": where.email_hard_bounced,
        "unsubscribed_from_all": where.unsubscribed_from_all,
        "list_ids": where.list_id,
        "unengaged": where.unengaged,
    }
    query.update({key: value for key, value in equal.items() if value is not None})
    if where.created_after is not None:
        _created(query, "$gt", where.created_after)
    if where.created_before is not None:
        _created(query, "$lt", where.created_before)
    return query


def _created(query: Doc, operator: str, at: datetime) -> None:
    """`created_at <operator> at`, bounded by the ids made in that range: a contact's id carries
    the second it was created at (ContactService.create), so the range is read from the
    (account_id, ..., _id) index and `created_at` decides only within its edge seconds."""
    query.setdefault("created_at", {})[operator] = at
    bounds = query.setdefault("_id", {})
    if operator == "$gt":
        bounds["$gte"] = first_id_at(at)
    else:  # created before `at`, or by `at`: the lower bound of the two holds for both
        bound = first_id_after(at)
        bounds["$lt"] = min(bounds.get("$lt", bound), bound)


def selection_query(account_id: str, selection: Selection, created_until: datetime | None) -> Doc:
    query = filter_doc(account_id, selection.as_filter())
    ids = selection.ids
    if ids is not None:
        query.setdefault("_id", {})["$in"] = [key for key in map(oid, ids) if key is not None]
    if created_until is not None:
        _created(query, "$lte", created_until)
    return query


async def count_by_state(
    contacts: AsyncCollection[Doc], query: Doc, session: AsyncClientSession | None = None
) -> dict[MarketingState, int]:
    """How many contacts `query` selects in each marketing state, in one aggregation."""
    pipeline: list[Doc] = [{"$match": query}, {"$group": {"_id": "$state", "n": {"$sum": 1}}}]
    cursor = await contacts.aggregate(pipeline, session=session)
    return {MarketingState(row["_id"]): row["n"] async for row in cursor}


class MongoContactStore:
    def __init__(self, mongo: Mongo) -> None:
        self.collection = mongo[CONTACTS]

    async def count_by_state(
        self, account_id: str, selection: Selection, created_until: datetime | None = None
    ) -> dict[MarketingState, int]:
        return await count_by_state(
            self.collection, selection_query(account_id, selection, created_until)
        )

    async def get(self, account_id: str, contact_id: str) -> Contact | None:
        key = oid(contact_id)
        if key is None:
            return None
        doc = await self.collection.find_one({"_id": key, "account_id": oid(account_id)})
        return None if doc is None else contact_from(doc)

    async def get_many(self, account_id: str, contact_ids: Sequence[str]) -> list[Contact]:
        keys = [key for key in map(oid, contact_ids) if key is not None]
        if not keys:
            return []
        cursor = self.collection.find({"_id": {"$in": keys}, "account_id": oid(account_id)})
        return [contact_from(doc) async for doc in cursor]

    async def page(
        self, account_id: str, where: ContactFilter, first: int, after: str | None
    ) -> Page[Contact]:
        query = filter_doc(account_id, where)
        after_id = decode_id_cursor(CURSOR, after)
        if after_id is not None:
            query.setdefault("_id", {})["$gt"] = after_id
        docs = await self.collection.find(query).sort("_id", ASCENDING).limit(first + 1).to_list()
        items = [contact_from(doc) for doc in docs[:first]]
        return Page(items, [encode_cursor(CURSOR, c.id) for c in items], len(docs) > first)

    async def count(self, account_id: str, where: ContactFilter) -> int:
        return await self.collection.count_documents(filter_doc(account_id, where))

    async def update_fields(self, before: Contact, after: Contact) -> None:
        try:
            await self.collection.update_one(
                {"_id": oid(after.id), "account_id": oid(after.account_id)},
                {"$set": contact_diff(before, after)},
            )
        except DuplicateKeyError as error:
            raise DuplicateEmail(after.email) from error

    async def pending_before(self, account_id: str, instant: datetime, limit: int) -> list[Contact]:
        query = {
            "account_id": oid(account_id),
            "state": MarketingState.MARKETING_UNTIL_NEXT_UPDATE.value,
            "pending_since": {"$lt": instant},
        }
        docs = await self.collection.find(query).limit(limit).to_list()
        return [contact_from(doc) for doc in docs]

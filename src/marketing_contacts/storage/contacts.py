"""The contacts collection: reads, filters and field edits (status writes go through writer)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.bulk import Selection
from marketing_contacts.domain.channels import (
    AudienceCounts,
    Channel,
    counted_under,
    reachable_conditions,
)
from marketing_contacts.domain.conditions import Condition
from marketing_contacts.domain.contacts import Contact, email_key
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import MarketingState
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page
from marketing_contacts.services.ports.contacts import DuplicateEmail
from marketing_contacts.storage.audit import with_entry
from marketing_contacts.storage.codec import contact_from, details_diff
from marketing_contacts.storage.contact_query import (
    conditions_doc,
    expression,
    filter_doc,
    scope_doc,
    selection_query,
)
from marketing_contacts.storage.database import CONTACTS, Doc, Mongo, is_duplicate_key
from marketing_contacts.storage.ids import oid
from marketing_contacts.storage.paging import Keyset, keyset_page

#: pages of a filter run in id order, the order of the indexes below
PAGES = Keyset("contact")


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
        # C2: a company's contacts
        _by_account("company_ids", "_id"),
        _by_account("email_hard_bounced", "_id"),
        _by_account("unsubscribed_from_all", "_id"),
        # S6: the unengaged filter's pages; the unengaged ones by state (a bulk change of the
        # unengaged selects marketing ones)
        _by_account("unengaged", "_id"),
        _by_account("unengaged", "state", "_id"),
        # C11: a search by prefix reads the keys between the prefix and the next string after
        # it (storage.search); its matches are then sorted by id
        _by_account("search_keys", "_id"),
        # U4: the pending contacts an update date takes to N
        _by_account("state", "pending_since"),
    ]
}


async def count_by_state(
    contacts: AsyncCollection[Doc], query: Doc, session: AsyncClientSession | None = None
) -> dict[MarketingState, int]:
    """How many contacts `query` selects in each marketing state, in one aggregation."""
    pipeline: list[Doc] = [{"$match": query}, {"$group": {"_id": "$state", "n": {"$sum": 1}}}]
    cursor = await contacts.aggregate(pipeline, session=session)
    return {MarketingState(row["_id"]): row["n"] async for row in cursor}


def _count_of(conditions: Sequence[Condition]) -> Doc:
    """A $group accumulator: how many of the group's contacts meet every condition."""
    return {"$sum": {"$cond": [expression(conditions), 1, 0]}}


class MongoContactStore:
    def __init__(self, mongo: Mongo) -> None:
        self.mongo = mongo
        self.collection = mongo[CONTACTS]

    async def count_by_state(
        self, scope: Scope, selection: Selection, created_until: datetime | None = None
    ) -> dict[MarketingState, int]:
        return await count_by_state(
            self.collection, selection_query(scope, selection, created_until)
        )

    async def audience_counts(
        self, scope: Scope, selection: Selection, channel: Channel
    ) -> AudienceCounts:
        """One aggregation: the selection's $match, then one $sum of a $cond per count."""
        counts: Doc = {
            "matched": {"$sum": 1},
            "reachable": _count_of(reachable_conditions(channel)),
        }
        for reason, conditions in counted_under(channel).items():
            counts[reason.value] = _count_of(conditions)
        pipeline: list[Doc] = [
            {"$match": selection_query(scope, selection, None)},
            {"$group": {"_id": None, **counts}},
        ]
        rows = await (await self.collection.aggregate(pipeline)).to_list()
        if not rows:
            return AudienceCounts()
        (row,) = rows
        return AudienceCounts(
            matched=row["matched"],
            reachable=row["reachable"],
            excluded={reason: row[reason.value] for reason in counted_under(channel)},
        )

    async def page_of_selection(
        self,
        scope: Scope,
        selection: Selection,
        conditions: Sequence[Condition],
        first: int,
        after: str | None,
    ) -> Page[Contact]:
        query = conditions_doc(scope, [*selection.conditions(), *conditions])
        return await keyset_page(self.collection, query, PAGES, first, after, contact_from)

    async def get(self, scope: Scope, contact_id: str) -> Contact | None:
        key = oid(contact_id)
        if key is None:
            return None
        doc = await self.collection.find_one({"_id": key, **scope_doc(scope)})
        return None if doc is None else contact_from(doc)

    async def by_email(self, scope: Scope, email: str) -> Contact | None:
        doc = await self.collection.find_one({"email_key": email_key(email), **scope_doc(scope)})
        return None if doc is None else contact_from(doc)

    async def get_many(self, scope: Scope, contact_ids: Sequence[str]) -> list[Contact]:
        keys = [key for key in map(oid, contact_ids) if key is not None]
        if not keys:
            return []
        cursor = self.collection.find({"_id": {"$in": keys}, **scope_doc(scope)})
        return [contact_from(doc) async for doc in cursor]

    async def page(
        self, scope: Scope, where: ContactFilter, first: int, after: str | None
    ) -> Page[Contact]:
        query = filter_doc(scope, where)
        return await keyset_page(self.collection, query, PAGES, first, after, contact_from)

    async def count(self, scope: Scope, where: ContactFilter) -> int:
        return await self.collection.count_documents(filter_doc(scope, where))

    async def update_fields(
        self, before: Contact, after: Contact, audit: AuditEntry | None = None
    ) -> None:
        changed = details_diff(before, after)
        if not changed:
            return

        async def write(session: AsyncClientSession | None) -> None:
            await self.collection.update_one(
                {"_id": oid(after.id), "account_id": oid(after.account_id)},
                {"$set": changed},
                session=session,
            )

        try:
            await with_entry(self.mongo, audit, write)
        except DuplicateKeyError as error:
            if not is_duplicate_key(error, "email_key"):
                raise
            raise DuplicateEmail(after.email) from error

    async def pending_before(self, account_id: str, instant: datetime, limit: int) -> list[Contact]:
        query = {
            "account_id": oid(account_id),
            "state": MarketingState.MARKETING_UNTIL_NEXT_UPDATE.value,
            "pending_since": {"$lt": instant},
        }
        docs = await self.collection.find(query).limit(limit).batch_size(limit).to_list()
        return [contact_from(doc) for doc in docs]

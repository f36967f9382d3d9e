"""Tier changes and alerts of an account, newest first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel

from marketing_contacts.domain.alerts import TierAlert
from marketing_contacts.domain.tiers import TierChange
from marketing_contacts.services.paging import Page, Stored
from marketing_contacts.storage.codec import alert_from, tier_change_from
from marketing_contacts.storage.database import ALERTS, TIER_CHANGES, Doc, Mongo
from marketing_contacts.storage.ids import oid
from marketing_contacts.storage.paging import Keyset, keyset_page

T = TypeVar("T")

_NEWEST_FIRST = [IndexModel([("account_id", ASCENDING), ("_id", DESCENDING)])]
INDEXES = {TIER_CHANGES: _NEWEST_FIRST, ALERTS: _NEWEST_FIRST}


class MongoTierRecords:
    def __init__(self, mongo: Mongo) -> None:
        self.mongo = mongo

    async def tier_changes(
        self, account_id: str, first: int, after: str | None
    ) -> Page[Stored[TierChange]]:
        return await self._page(TIER_CHANGES, tier_change_from, account_id, first, after)

    async def alerts(
        self, account_id: str, first: int, after: str | None
    ) -> Page[Stored[TierAlert]]:
        return await self._page(ALERTS, alert_from, account_id, first, after)

    async def count_tier_changes(self, account_id: str) -> int:
        return await self.mongo[TIER_CHANGES].count_documents({"account_id": oid(account_id)})

    async def count_alerts(self, account_id: str) -> int:
        return await self.mongo[ALERTS].count_documents({"account_id": oid(account_id)})

    async def alerts_since(
        self, account_id: str, since: datetime, limit: int
    ) -> list[Stored[TierAlert]]:
        # an alert's id is made as it is stored, after its `at`: the id bound (whole seconds)
        # walks the (account_id, _id) index from just before `since`; `at` decides
        query = {
            "account_id": oid(account_id),
            "_id": {"$gte": ObjectId.from_datetime(since)},
            "at": {"$gte": since},
        }
        found = self.mongo[ALERTS].find(query).sort("_id", ASCENDING).limit(limit)
        return [Stored(str(doc["_id"]), alert_from(doc)) for doc in await found.to_list()]

    async def _page(
        self,
        collection: str,
        decode: Callable[[Doc], T],
        account_id: str,
        first: int,
        after: str | None,
    ) -> Page[Stored[T]]:
        def stored(doc: Doc) -> Stored[T]:
            return Stored(str(doc["_id"]), decode(doc))

        query: Doc = {"account_id": oid(account_id)}
        keyset = Keyset(collection, descending=True)
        return await keyset_page(self.mongo[collection], query, keyset, first, after, stored)

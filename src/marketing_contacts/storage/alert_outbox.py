"""Alerts awaiting delivery: marked when their change commits, cleared once published (A3)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING, IndexModel

from marketing_contacts.services.paging import Stored
from marketing_contacts.services.ports.alerts import UndeliveredAlert
from marketing_contacts.storage.codec import AWAITING_DELIVERY, alert_from
from marketing_contacts.storage.database import ALERTS, Mongo
from marketing_contacts.storage.ids import oid

#: sparse: only the few alerts still awaiting delivery are in it
INDEXES = {ALERTS: [IndexModel([(AWAITING_DELIVERY, ASCENDING)], sparse=True)]}


class MongoAlertOutbox:
    def __init__(self, mongo: Mongo) -> None:
        self.mongo = mongo

    async def delivered(self, alert_ids: Sequence[str]) -> None:
        if alert_ids:
            await self.mongo[ALERTS].update_many(
                {"_id": {"$in": [oid(alert_id) for alert_id in alert_ids]}},
                {"$unset": {AWAITING_DELIVERY: ""}},
            )

    async def awaiting(self, raised_before: datetime, limit: int) -> list[UndeliveredAlert]:
        found = (
            self.mongo[ALERTS]
            .find({AWAITING_DELIVERY: {"$lte": raised_before}})
            .sort(AWAITING_DELIVERY, ASCENDING)
            .limit(limit)
        )
        return [
            UndeliveredAlert(str(doc["account_id"]), Stored(str(doc["_id"]), alert_from(doc)))
            for doc in await found.to_list()
        ]

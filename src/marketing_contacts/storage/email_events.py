"""Email events (C7): one document per event, kept by the address's key (its lower case).

An event's id carries the second it happened (IdGenerator.new_id(at=...)), so the address's
events newest first are its ids in descending order, read from (account_id, email_key, _id).
"""

from __future__ import annotations

from collections.abc import Sequence

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.contacts import Contact, email_key
from marketing_contacts.domain.email_events import EmailEvent, EmailEventType
from marketing_contacts.services.paging import Page
from marketing_contacts.storage.audit import record
from marketing_contacts.storage.codec import details_diff
from marketing_contacts.storage.database import CONTACTS, EMAIL_EVENTS, Doc, Mongo
from marketing_contacts.storage.ids import oid
from marketing_contacts.storage.paging import Keyset, keyset_page, page_of
from marketing_contacts.storage.transactions import transact

PAGES = Keyset("email-event", descending=True)

INDEXES = {
    EMAIL_EVENTS: [
        IndexModel([("account_id", ASCENDING), ("email_key", ASCENDING), ("_id", DESCENDING)])
    ]
}


def event_doc(event: EmailEvent) -> Doc:
    return {
        "_id": ObjectId(event.id),
        "account_id": ObjectId(event.account_id),
        "email": event.email,
        "email_key": email_key(event.email),
        "type": event.type.value,
        "occurred_at": event.occurred_at,
        "campaign_id": event.campaign_id,
    }


def event_from(doc: Doc) -> EmailEvent:
    return EmailEvent(
        id=str(doc["_id"]),
        account_id=str(doc["account_id"]),
        email=doc["email"],
        type=EmailEventType(doc["type"]),
        occurred_at=doc["occurred_at"],
        campaign_id=doc["campaign_id"],
    )


class MongoEmailEvents:
    def __init__(self, mongo: Mongo) -> None:
        self.mongo = mongo
        self.events = mongo[EMAIL_EVENTS]
        self.contacts = mongo[CONTACTS]

    async def record(
        self,
        event: EmailEvent,
        marked: tuple[Contact, Contact] | None = None,
        audit: AuditEntry | None = None,
    ) -> None:
        async def work(session: AsyncClientSession) -> None:
            await self.events.insert_one(event_doc(event), session=session)
            if marked is not None:
                before, after = marked
                changed = details_diff(before, after)
                if changed:
                    await self.contacts.update_one(
                        {"_id": oid(after.id), "account_id": oid(after.account_id)},
                        {"$set": changed},
                        session=session,
                    )
            await record(self.mongo, audit, session)

        await transact(self.mongo, work)

    def _of(self, account_id: str, email: str) -> Doc:
        return {"account_id": oid(account_id), "email_key": email_key(email)}

    async def page(
        self, account_id: str, email: str, first: int, after: str | None
    ) -> Page[EmailEvent]:
        query = self._of(account_id, email)
        return await keyset_page(self.events, query, PAGES, first, after, event_from)

    async def first_pages(
        self, account_id: str, emails: Sequence[str], first: int
    ) -> dict[str, Page[EmailEvent]]:
        keys = sorted({key for email in emails if (key := email_key(email)) is not None})
        found: dict[str, list[Doc]] = {}
        if keys:
            # one aggregation for every address: the newest first + 1 of each, from the index
            pipeline: list[Doc] = [
                {"$match": {"account_id": oid(account_id), "email_key": {"$in": keys}}},
                {
                    "$group": {
                        "_id": "$email_key",
                        "newest": {
                            "$topN": {"n": first + 1, "sortBy": {"_id": -1}, "output": "$$ROOT"}
                        },
                    }
                },
            ]
            async for row in await self.events.aggregate(pipeline):
                found[row["_id"]] = row["newest"]
        return {
            email: page_of(found.get(email_key(email) or "", []), first, PAGES, event_from)
            for email in emails
        }

    async def count(self, account_id: str, email: str) -> int:
        return await self.events.count_documents(self._of(account_id, email))

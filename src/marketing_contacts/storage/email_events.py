"""Email events (C7): one document per event, kept by the address's key (its lower case).

An event's id carries the second it happened (IdGenerator.new_id(at=...)), so the address's
events newest first are its ids in descending order, read from (account_id, email_key, _id).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.contacts import Contact, email_key
from marketing_contacts.domain.email_events import EmailEvent, EmailEventType
from marketing_contacts.services.paging import Page
from marketing_contacts.services.ports.email_events import EMPTY
from marketing_contacts.storage.audit import record
from marketing_contacts.storage.codec import details_diff
from marketing_contacts.storage.database import CONTACTS, EMAIL_EVENTS, Doc, Mongo
from marketing_contacts.storage.ids import oid
from marketing_contacts.storage.paging import Keyset, first_pages_of, keyset_page, page_of
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

    def _of(self, account_id: str, email: str, merged: Sequence[str]) -> Doc:
        """The events of the address and of those merged into its contact (C10): one range
        of the index per address, merged newest first by the index's order."""
        keys = _keys([email, *merged])
        return {
            "account_id": oid(account_id),
            "email_key": keys[0] if len(keys) == 1 else {"$in": keys},
        }

    async def page(
        self,
        account_id: str,
        email: str,
        first: int,
        after: str | None,
        *,
        merged: Sequence[str] = (),
    ) -> Page[EmailEvent]:
        query = self._of(account_id, email, merged)
        return await keyset_page(self.events, query, PAGES, first, after, event_from)

    async def first_pages(
        self,
        account_id: str,
        emails: Sequence[str],
        first: int,
        *,
        merged: Mapping[str, Sequence[str]] = EMPTY,
    ) -> dict[str, Page[EmailEvent]]:
        # each address's newest first + 1 (with its merged ones'), a limited read of the
        # index each, in one command
        queries = {
            email: self._of(account_id, email, merged.get(email, ()))
            for email in emails
            if email_key(email) is not None
        }
        found = await first_pages_of(self.events, queries, PAGES, first)
        return {email: page_of(found.get(email, []), first, PAGES, event_from) for email in emails}

    async def count(self, account_id: str, email: str, *, merged: Sequence[str] = ()) -> int:
        return await self.events.count_documents(self._of(account_id, email, merged))


def _keys(emails: Iterable[str]) -> list[str]:
    return sorted({key for email in emails if (key := email_key(email)) is not None})

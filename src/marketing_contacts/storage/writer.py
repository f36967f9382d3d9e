"""Atomic, conditional writes of decided batches (design principle 3).

Each batch is one multi-document transaction: the account write holds only at the revision the
decision was made on, each contact write only at the status sequence it was decided on. A failed
condition aborts the whole batch and raises StaleWrite, so the caller re-reads and decides again.
Counters therefore move in the same commit as the states they count: never one without the other.

Transient errors (a write conflict with a concurrent transaction) run the transaction again, by
the driver's rules (storage.transactions). The account document is written last: every write of
an account touches it, so a transaction that a killed process leaves open blocks the whole
account only if it died in the last moment before its commit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from typing import TypeVar

from pymongo import UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError, PyMongoError

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.associations import RecordType
from marketing_contacts.domain.bulk import BulkOperationStatus
from marketing_contacts.domain.contacts import Contact, StatusUpdate
from marketing_contacts.domain.usage import UsageCounts
from marketing_contacts.services.paging import Stored
from marketing_contacts.services.ports.changes import BulkChunk, ChangeBatch, Committed, StaleWrite
from marketing_contacts.services.ports.contacts import DuplicateEmail
from marketing_contacts.storage.audit import record
from marketing_contacts.storage.bulk_codec import progress_increments
from marketing_contacts.storage.codec import (
    account_from,
    account_state_doc,
    alert_doc,
    contact_diff,
    contact_doc,
    counts_doc,
    history_doc,
    tier_change_doc,
)
from marketing_contacts.storage.contacts import count_by_state
from marketing_contacts.storage.database import (
    ACCOUNTS,
    ALERTS,
    BULK_OPERATIONS,
    CONTACTS,
    LISTS,
    STATUS_HISTORY,
    TIER_CHANGES,
    UPDATE_DATES,
    Mongo,
    is_duplicate_key,
)
from marketing_contacts.storage.deals import drop_from_deals
from marketing_contacts.storage.engagements import drop_from_engagements
from marketing_contacts.storage.forms import write_submission
from marketing_contacts.storage.ids import oid
from marketing_contacts.storage.imports import advance_import
from marketing_contacts.storage.merge import absorb, write_primary
from marketing_contacts.storage.transactions import transact

T = TypeVar("T")


class MongoChangeWriter:
    def __init__(self, mongo: Mongo) -> None:
        self.mongo = mongo

    async def _transact(
        self, work: Callable[[AsyncClientSession], Awaitable[T]], *, snapshot: bool = False
    ) -> T:
        """A transaction whose taken email address surfaces as DuplicateEmail."""
        try:
            return await transact(self.mongo, work, snapshot=snapshot)
        except PyMongoError as error:
            if is_duplicate_key(error, "email_key"):
                raise DuplicateEmail(str(error)) from error
            raise

    async def commit(self, batch: ChangeBatch) -> Committed:
        account_id = batch.account_after.id
        tier_change_docs = (
            [] if batch.tier_change is None else [tier_change_doc(account_id, batch.tier_change)]
        )
        alert_docs = [alert_doc(account_id, alert) for alert in batch.alerts]

        async def write(session: AsyncClientSession) -> None:
            if batch.created:
                await self.mongo[CONTACTS].insert_many(
                    [contact_doc(c) for c in batch.created], session=session
                )
            await self._update_statuses(batch.status_updates, session)
            if batch.bulk is not None:
                await self._advance_bulk(batch.bulk, session)
            if batch.imported is not None:
                await advance_import(self.mongo, batch.imported, session)
            merge = batch.merge
            moved = {} if merge is None else await absorb(self.mongo, merge, session)
            await self._delete(batch.deleted, session)
            if merge is not None:  # after the delete: the primary may take over its address
                await write_primary(self.mongo, merge, moved, session)
            if batch.history:
                await self.mongo[STATUS_HISTORY].insert_many(
                    [history_doc(entry) for entry in batch.history], session=session
                )
            if tier_change_docs:
                await self.mongo[TIER_CHANGES].insert_many(tier_change_docs, session=session)
            if alert_docs:
                await self.mongo[ALERTS].insert_many(alert_docs, session=session)
            if batch.submission is not None:  # F1: with its contact and the counts
                await write_submission(self.mongo, batch.submission, session)
            await record(self.mongo, batch.audit, session)
            if batch.account_after is not batch.account_before:  # last: see the module's doc
                await self._write_account(batch.account_before, batch.account_after, session)

        await self._transact(write)
        committed_at = datetime.now(UTC)
        return Committed(
            tier_change=(
                None
                if batch.tier_change is None
                else Stored(str(tier_change_docs[0]["_id"]), batch.tier_change)
            ),
            alerts=tuple(
                Stored(str(doc["_id"]), alert)
                for doc, alert in zip(alert_docs, batch.alerts, strict=True)
            ),
            at=committed_at,
        )

    async def _write_account(
        self, before: Account, after: Account, session: AsyncClientSession
    ) -> None:
        result = await self.mongo[ACCOUNTS].update_one(
            {"_id": oid(before.id), "revision": before.revision},
            {"$set": account_state_doc(after)},
            session=session,
        )
        if result.matched_count != 1:
            raise StaleWrite(f"account {before.id} moved past revision {before.revision}")

    async def _update_statuses(
        self, updates: Sequence[StatusUpdate], session: AsyncClientSession
    ) -> None:
        if not updates:
            return
        operations = [
            UpdateOne(
                {
                    "_id": oid(u.before.id),
                    "account_id": oid(u.before.account_id),
                    "status_seq": u.before.status_seq,
                },
                {"$set": contact_diff(u.before, u.after)},
            )
            for u in updates
        ]
        result = await self.mongo[CONTACTS].bulk_write(operations, session=session)
        if result.matched_count != len(operations):
            raise StaleWrite("a contact's status changed since it was read")

    async def _advance_bulk(self, bulk: BulkChunk, session: AsyncClientSession) -> None:
        """The operation moves past the page and records it, if the page is still its next and
        the run still holds the lease."""
        result = await self.mongo[BULK_OPERATIONS].update_one(
            {
                "_id": oid(bulk.operation_id),
                "status": BulkOperationStatus.RUNNING.value,
                "next_page": bulk.page,
                "lease_owner": bulk.owner,
            },
            {
                "$inc": progress_increments(bulk.progress),
                "$set": {"lease_until": bulk.lease_until, "next_page": bulk.page + 1},
            },
            session=session,
        )
        if result.matched_count != 1:
            raise StaleWrite(
                f"operation {bulk.operation_id} is no longer at page {bulk.page} under {bulk.owner}"
            )

    async def _delete(self, contacts: Sequence[Contact], session: AsyncClientSession) -> None:
        """Each contact as it was read (at its status sequence), and off the size of each list
        it was a member of when it went (membership changes meet this in the transaction)."""
        left: Counter[str] = Counter()
        for c in contacts:
            deleted = await self.mongo[CONTACTS].find_one_and_delete(
                {"_id": oid(c.id), "account_id": oid(c.account_id), "status_seq": c.status_seq},
                {"list_ids": 1},
                session=session,
            )
            if deleted is None:
                raise StaleWrite("a contact changed or went since it was read")
            left.update(deleted.get("list_ids", ()))
        if contacts:  # C6: off their engagements (a batch is one account's)
            ids = [c.id for c in contacts]
            await drop_from_engagements(self.mongo, contacts[0].account_id, ids, session)
            await drop_from_deals(
                self.mongo, contacts[0].account_id, RecordType.CONTACT, ids, session
            )
        if left:
            await self.mongo[LISTS].bulk_write(
                [
                    UpdateOne({"_id": oid(list_id)}, {"$inc": {"size": -members}})
                    for list_id, members in sorted(left.items())
                ],
                session=session,
            )

    async def read_counts(self, account_id: str) -> tuple[Account, UsageCounts] | None:
        async def read(session: AsyncClientSession) -> tuple[Account, UsageCounts] | None:
            doc = await self.mongo[ACCOUNTS].find_one({"_id": oid(account_id)}, session=session)
            if doc is None:
                return None
            by_state = await count_by_state(
                self.mongo[CONTACTS], {"account_id": oid(account_id)}, session
            )
            return account_from(doc), UsageCounts.tally(by_state)

        return await self._transact(read, snapshot=True)

    async def repair_counts(self, before: Account, actual: UsageCounts) -> None:
        result = await self.mongo[ACCOUNTS].update_one(
            {"_id": oid(before.id), "revision": before.revision},
            {"$set": {"counts": counts_doc(actual), "revision": before.revision + 1}},
        )
        if result.matched_count != 1:
            raise StaleWrite(before.id)

    async def record_update_date(
        self, before: Account, after: Account, applied: date, contacts_changed: int, at: datetime
    ) -> bool:
        log = {  # one per account and date by its _id: a second run's insert is a duplicate
            "_id": f"{before.id}:{applied.isoformat()}",
            "account_id": oid(before.id),
            "update_date": applied.isoformat(),
            "contacts_changed": contacts_changed,
            "applied_at": at,
        }

        async def record(session: AsyncClientSession) -> None:
            await self.mongo[UPDATE_DATES].insert_one(log, session=session)
            await self._write_account(before, after, session)

        try:
            await self._transact(record)
        except DuplicateKeyError:
            return False
        return True

"""Decided changes written atomically and conditionally (design principle 3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.alerts import TierAlert
from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.bulk import BulkProgress
from marketing_contacts.domain.contacts import Contact, StatusUpdate
from marketing_contacts.domain.forms import FormSubmission
from marketing_contacts.domain.statuses import HistoryEntry
from marketing_contacts.domain.tiers import TierChange
from marketing_contacts.domain.usage import UsageCounts
from marketing_contacts.services.paging import Stored
from marketing_contacts.services.ports.imports import ImportChunk


class StaleWrite(Exception):
    """A conditional write found the state changed since it was read; reload and decide again."""


class StoreBusy(Exception):
    """A write kept meeting another transaction that holds its records (one a killed process left
    open, until the database ends it) for as long as the database timeout allows: retry shortly."""


@dataclass(frozen=True)
class BulkChunk:
    """A page of a bulk operation, committed with its contacts' changes: the operation moves
    past the page, its progress moves on and its lease renews, all only while the operation is
    still RUNNING, the page is still its next one (so no page is ever applied twice) and the
    run still holds the lease (so a run whose lease was handed on stops)."""

    operation_id: str
    owner: str
    page: int
    progress: BulkProgress
    lease_until: datetime


@dataclass(frozen=True)
class ContactMerge:
    """C10: `secondary` merged into `primary`, which becomes `merged` (domain.merge). The batch
    deletes the secondary through its `deleted` (at its status sequence, off its lists' sizes)
    and, in the same transaction, the writer:

    - writes the primary's fields that differ in `merged`, its status among them, only while
      its `status_seq` and its memberships (lists, companies, primary company) are the ones it
      was read with, and the secondary's memberships likewise (a list or company association
      changed meanwhile makes the batch stale: so `merged` is exactly what is stored, and each
      list the primary joins grows by one, the delete having taken the secondary off it);
    - moves the secondary's status history onto the primary, numbered after the primary's own
      `status_seq` entries (`primary.status_seq`), before the batch's `history` is written;
    - puts the primary in the secondary's place in its deals and engagements (once, also
      where both were named), and counts on the primary the engagements that now name it;
    - moves the primary's activity dates (C12) to the secondary's, where those are later."""

    primary: Contact
    secondary: Contact
    merged: Contact


@dataclass(frozen=True)
class ChangeBatch:
    """Everything one decision writes, atomically and conditionally (design principle 3).

    The account write holds only if its revision is still `account_before.revision`; each status
    update only if the contact's `status_seq` is still the one it was decided on; each delete
    likewise. Otherwise nothing is written and `StaleWrite` is raised. A batch whose
    `account_after` is `account_before` (it moves no counter) does not write the account, so it
    does not wait on the account's revision either: its contacts' conditions guard it.
    """

    account_before: Account
    account_after: Account
    created: tuple[Contact, ...] = ()
    status_updates: tuple[StatusUpdate, ...] = ()
    deleted: tuple[Contact, ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    tier_change: TierChange | None = None
    alerts: tuple[TierAlert, ...] = ()
    bulk: BulkChunk | None = None
    #: I1: a chunk of an import, written with its contacts (see ImportChunk)
    imported: ImportChunk | None = None
    #: C10: a merge of two contacts, written with the batch (see ContactMerge)
    merge: ContactMerge | None = None
    #: F1: a form submission, stored with the contact it creates or changes and the counts;
    #: its form's submission count moves by one in the same transaction (StaleWrite, nothing
    #: written, when the form is gone)
    submission: FormSubmission | None = None
    #: P4: the write's entry in the audit log, written in the same transaction
    audit: AuditEntry | None = None


@dataclass(frozen=True)
class Committed:
    """What a committed batch stored, with the ids of its new records."""

    tier_change: Stored[TierChange] | None
    alerts: tuple[Stored[TierAlert], ...]
    #: when the database acknowledged the commit, to the microsecond: never stored, it marks
    #: the published alerts so that their delivery can be timed from the commit
    at: datetime


class ChangeWriter(Protocol):
    async def commit(self, batch: ChangeBatch) -> Committed:
        """Write the batch atomically; StaleWrite (nothing written) if a condition fails;
        DuplicateEmail if a created contact's address is taken."""
        ...

    async def read_counts(self, account_id: str) -> tuple[Account, UsageCounts] | None:
        """The account and a recount of its contacts, read from one snapshot."""
        ...

    async def repair_counts(self, before: Account, actual: UsageCounts) -> None:
        """Set the counters to `actual` if the revision still holds; else StaleWrite."""
        ...

    async def record_update_date(
        self, before: Account, after: Account, applied: date, contacts_changed: int, at: datetime
    ) -> bool:
        """Move the account past `applied` once: False if that date was applied already;
        StaleWrite if the account changed since `before` was read."""
        ...

"""The Protocols the services depend on; storage/, events/ and the test fakes implement them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, Protocol, TypeVar

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.alerts import TierAlert
from marketing_contacts.domain.bulk import (
    BulkOperation,
    BulkOperationStatus,
    BulkProgress,
    Selection,
)
from marketing_contacts.domain.contacts import Contact, StatusUpdate
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import MarketingState, StatusChange
from marketing_contacts.domain.tiers import TierChange
from marketing_contacts.domain.usage import Usage, UsageCounts

T = TypeVar("T")


class StaleWrite(Exception):
    """A conditional write found the state changed since it was read; reload and decide again."""


class StoreBusy(Exception):
    """A write kept meeting another transaction that holds its records (one a killed process left
    open, until the database ends it) for as long as the database timeout allows: retry shortly."""


class DuplicateEmail(Exception):
    """C8: the address is taken in this account."""


@dataclass(frozen=True)
class Stored(Generic[T]):
    """A record as stored, with the id the store gave it."""

    id: str
    item: T


class BadCursor(Exception):
    """An `after` cursor this store did not hand out."""


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a connection; `cursors[i]` is the opaque cursor of `items[i]`."""

    items: list[T]
    cursors: list[str]
    has_next_page: bool


@dataclass(frozen=True)
class HistoryEntry:
    """A status history entry of one contact; `seq` orders a contact's entries."""

    account_id: str
    contact_id: str
    seq: int
    change: StatusChange


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
class BulkPage:
    """One page of a resolved selection: its number and the contacts of it that still exist."""

    number: int
    contacts: list[Contact]


@dataclass(frozen=True)
class ChangeBatch:
    """Everything one decision writes, atomically and conditionally (design principle 3).

    The account write holds only if its revision is still `account_before.revision`; each status
    update only if the contact's `status_seq` is still the one it was decided on; each delete
    likewise. Otherwise nothing is written and `StaleWrite` is raised.
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


@dataclass(frozen=True)
class Committed:
    """What a committed batch stored, with the ids of its new records."""

    tier_change: Stored[TierChange] | None
    alerts: tuple[Stored[TierAlert], ...]


class Clock(Protocol):
    def now(self) -> datetime: ...


class AccountStore(Protocol):
    async def get(self, account_id: str) -> Account | None: ...

    async def insert(self, account: Account) -> None: ...

    async def replace_settings(self, before: Account, after: Account) -> None:
        """Write name, zone, policy and thresholds if the revision still holds; else StaleWrite."""
        ...

    async def due_for_update(self, now: datetime) -> list[str]:
        """Ids of the accounts whose next update date has started by `now`."""
        ...

    async def all_ids(self) -> list[str]: ...


class ContactStore(Protocol):
    async def get(self, account_id: str, contact_id: str) -> Contact | None: ...

    async def get_many(self, account_id: str, contact_ids: Sequence[str]) -> list[Contact]: ...

    async def page(
        self, account_id: str, where: ContactFilter, first: int, after: str | None
    ) -> Page[Contact]: ...

    async def count(self, account_id: str, where: ContactFilter) -> int: ...

    async def update_fields(self, before: Contact, after: Contact) -> None:
        """Write the fields other than the status that differ; DuplicateEmail if the address
        is taken."""
        ...

    async def pending_before(self, account_id: str, instant: datetime, limit: int) -> list[Contact]:
        """Up to `limit` contacts in P that became pending before `instant`."""
        ...

    def new_id(self) -> str:
        """A fresh contact id; ids sort in creation order."""
        ...


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


@dataclass(frozen=True)
class ApiToken:
    """An API token as stored: only the hash of its secret is kept."""

    id: str
    account_id: str
    name: str
    marketing_access: bool
    secret_hash: str
    created_at: datetime


class TokenStore(Protocol):
    async def insert(self, token: ApiToken) -> None: ...

    async def find_by_hash(self, secret_hash: str) -> ApiToken | None: ...


class HistoryStore(Protocol):
    async def page(
        self, account_id: str, contact_id: str, first: int, after: str | None
    ) -> Page[HistoryEntry]:
        """Newest first."""
        ...

    async def first_pages(
        self, account_id: str, contact_ids: Sequence[str], first: int
    ) -> dict[str, Page[HistoryEntry]]:
        """The first page of each contact's history, in one read (a page of contacts asks for
        them together); a contact without history gets an empty page."""
        ...


class TierRecords(Protocol):
    async def tier_changes(
        self, account_id: str, first: int, after: str | None
    ) -> Page[Stored[TierChange]]: ...

    async def alerts(
        self, account_id: str, first: int, after: str | None
    ) -> Page[Stored[TierAlert]]: ...

    async def alerts_since(
        self, account_id: str, since: datetime, limit: int
    ) -> list[Stored[TierAlert]]:
        """Up to `limit` alerts of the account raised at or after `since`, oldest first."""
        ...


@dataclass(frozen=True)
class UndeliveredAlert:
    """An alert committed with its change but not yet handed to the event channel (A3)."""

    account_id: str
    alert: Stored[TierAlert]


class AlertOutbox(Protocol):
    """Alerts are stored with their change as awaiting delivery; publishing them clears that.
    What a crash or a broker outage left awaiting, a worker delivers later (at least once: a
    subscriber may hear an alert twice, with the same id, never zero times)."""

    async def delivered(self, alert_ids: Sequence[str]) -> None:
        """These alerts reached the event channel."""
        ...

    async def awaiting(self, raised_before: datetime, limit: int) -> list[UndeliveredAlert]:
        """Alerts still awaiting delivery that were raised before `raised_before`, oldest
        first."""
        ...


@dataclass(frozen=True)
class IdempotencyKey:
    """B5: a key a client sent with an input, held for 24 hours."""

    key: str
    input_hash: str
    operation_id: str
    expires_at: datetime


class BulkStore(Protocol):
    async def insert(
        self, operation: BulkOperation, key: IdempotencyKey | None
    ) -> IdempotencyKey | None:
        """Persist a QUEUED operation; with a key already held (and not expired), persist
        nothing and return the key as held."""
        ...

    async def held_key(self, account_id: str, key: str, now: datetime) -> IdempotencyKey | None:
        """B5: the account's idempotency key, unless it expired by `now`."""
        ...

    async def get(self, account_id: str, operation_id: str) -> BulkOperation | None: ...

    async def load(self, operation_id: str) -> BulkOperation | None: ...

    async def page(self, account_id: str, first: int, after: str | None) -> Page[BulkOperation]:
        """Newest first."""
        ...

    async def count_by_state(
        self, account_id: str, selection: Selection, created_until: datetime | None = None
    ) -> dict[MarketingState, int]: ...

    async def claim(
        self, operation_id: str, owner: str, now: datetime, lease_until: datetime
    ) -> BulkOperation | None:
        """Take a QUEUED operation, a RUNNING one whose lease ran out, or one this owner holds;
        it is RUNNING afterwards. None when another worker holds it or it has finished."""
        ...

    async def resolve(self, operation: BulkOperation, page_size: int) -> BulkOperation:
        """B1: write down the ids of the selection's contacts created by the operation's start
        (`created_at`; later ones are not included), in id order, in pages of `page_size`, and
        record `matched`. Safe to repeat until it has recorded: one resolution wins."""
        ...

    async def page_to_apply(self, operation: BulkOperation) -> BulkPage | None:
        """The operation's next page (`next_page`), None past the last one."""
        ...

    async def finish(
        self,
        operation: BulkOperation,
        status: BulkOperationStatus,
        progress: BulkProgress,
        now: datetime,
        failure: str | None = None,
    ) -> BulkOperation | None:
        """End a RUNNING or QUEUED operation; None if it had ended already."""
        ...

    async def cancel(
        self, account_id: str, operation_id: str, now: datetime
    ) -> BulkOperation | None:
        """CANCELLED if QUEUED or RUNNING; None otherwise."""
        ...

    async def drop_pages(self, operation_id: str) -> None:
        """Forget the resolved selection of an operation that ended (pages left by a worker
        that died also expire on their own)."""
        ...

    async def stale(self, queued_before: datetime, now: datetime) -> list[BulkOperation]:
        """QUEUED operations persisted before `queued_before`, RUNNING ones whose lease ran out."""
        ...

    async def mark_enqueued(self, operation_id: str) -> int:
        """Count one more hand-over to the job queue; returns the new count."""
        ...


class JobQueue(Protocol):
    async def enqueue_bulk_operation(self, operation_id: str, attempt: int) -> None: ...

    async def is_waiting(self, operation_id: str, attempt: int) -> bool:
        """The job of that hand-over still waits in the queue for a worker."""
        ...


@dataclass(frozen=True)
class UsageChanged:
    usage: Usage


@dataclass(frozen=True)
class AlertRaised:
    alert: Stored[TierAlert]


@dataclass(frozen=True)
class BulkProgressed:
    """A bulk operation recorded a chunk or ended; subscribers read its state."""

    operation_id: str


Event = UsageChanged | AlertRaised | BulkProgressed


class EventPublisher(Protocol):
    async def publish(self, account_id: str, events: Sequence[Event]) -> None: ...

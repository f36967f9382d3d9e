"""Bulk operations: the operations, their idempotency keys, and their resolved selections."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.bulk import BulkOperation, BulkOperationStatus, BulkProgress
from marketing_contacts.domain.contacts import Contact
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page


@dataclass(frozen=True)
class IdempotencyKey:
    """B5: a key a client sent with an input, held for 24 hours."""

    key: str
    input_hash: str
    operation_id: str
    expires_at: datetime


class TooManyActive(Exception):
    """P5: the account has as many background operations queued or running as it may."""


@dataclass(frozen=True)
class BulkPage:
    """One page of a resolved selection: its number and the contacts of it that still exist."""

    number: int
    contacts: list[Contact]


class BulkOperations(Protocol):
    """The operations themselves: queued, claimed under a lease, ended (B4, B5)."""

    async def insert(
        self,
        operation: BulkOperation,
        key: IdempotencyKey | None,
        max_active: int | None = None,
        audit: AuditEntry | None = None,
    ) -> IdempotencyKey | None:
        """Persist a QUEUED operation with the audit entry of its start; with a key already
        held (and not expired), persist nothing and return the key as held. P5: with
        `max_active`, persist nothing and raise TooManyActive when the account has that many
        QUEUED or RUNNING already, decided atomically with the insert (concurrent starts of
        one account never pass it together)."""
        ...

    async def get(self, scope: Scope, operation_id: str) -> BulkOperation | None:
        """P3: an operation is its requester's record: a scope of some owners sees theirs."""
        ...

    async def load(self, operation_id: str) -> BulkOperation | None: ...

    async def page(self, scope: Scope, first: int, after: str | None) -> Page[BulkOperation]:
        """Newest first."""
        ...

    async def count(self, scope: Scope) -> int:
        """How many operations the scope sees, whatever their status (all pages together)."""
        ...

    async def claim(
        self, operation_id: str, owner: str, now: datetime, lease_until: datetime
    ) -> BulkOperation | None:
        """Take a QUEUED operation, a RUNNING one whose lease ran out, or one this owner holds;
        it is RUNNING afterwards. None when another worker holds it or it has finished."""
        ...

    async def finish(
        self,
        operation: BulkOperation,
        status: BulkOperationStatus,
        progress: BulkProgress,
        now: datetime,
        failure: str | None = None,
        owner: str | None = None,
    ) -> BulkOperation | None:
        """End a RUNNING or QUEUED operation (with `owner`: only while that run holds its
        lease); None if it had ended already, or another run holds it."""
        ...

    async def cancel(
        self, scope: Scope, operation_id: str, now: datetime, audit: AuditEntry | None = None
    ) -> BulkOperation | None:
        """CANCELLED, with the audit entry, if QUEUED or RUNNING; None (nothing written)
        otherwise."""
        ...

    async def stale(self, queued_before: datetime, now: datetime) -> list[BulkOperation]:
        """QUEUED operations persisted before `queued_before`, RUNNING ones whose lease ran out."""
        ...

    async def oldest_active(self, account_id: str, first: int) -> list[BulkOperation]:
        """The account's `first` oldest QUEUED or RUNNING operations, oldest first: the next
        ones its turns work on."""
        ...


class IdempotencyKeys(Protocol):
    async def held(self, account_id: str, key: str, now: datetime) -> IdempotencyKey | None:
        """B5: the account's idempotency key, unless it expired by `now`."""
        ...


class BulkPages(Protocol):
    """A resolved selection, written down page by page (B1, B4)."""

    async def resolve(self, operation: BulkOperation, page_size: int) -> BulkOperation:
        """B1: write down the ids of the selection's contacts created by the operation's start
        (`created_at`; later ones are not included), in id order, in pages of `page_size`, and
        record `matched`. Safe to repeat until it has recorded: one resolution wins."""
        ...

    async def pages_to_apply(self, operation: BulkOperation, count: int) -> list[BulkPage]:
        """The operation's next `count` pages from `next_page` on, in order, each with the
        contacts of it that still exist, as they are now; fewer past the last one (none when
        every page was applied)."""
        ...

    async def drop_pages(self, operation_id: str) -> None:
        """Forget the resolved selection of an operation that ended (pages left by a worker
        that died also expire on their own)."""
        ...

    async def holds(self, operation: BulkOperation, contact_id: str) -> bool:
        """Whether a page of the resolved operation not applied yet (from its `next_page` on)
        holds the contact (C10 merges none of those)."""
        ...

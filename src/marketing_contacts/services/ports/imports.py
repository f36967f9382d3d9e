"""CSV imports (I1-I5): the uploaded files, the imports, and their row errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.contacts import Contact
from marketing_contacts.domain.imports import (
    Cursor,
    Import,
    ImportCounts,
    ImportStatus,
    RowError,
)
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page


class FileTooLarge(Exception):
    """An upload went past the bound it was stored under: nothing of it is kept."""


@dataclass(frozen=True)
class StoredFile:
    id: str
    length: int
    sha256: str


class FileStore(Protocol):
    """Files every process reads (storage.files): written once, read from any byte on."""

    async def put(
        self, account_id: str, name: str, chunks: AsyncIterator[bytes], max_bytes: int
    ) -> StoredFile:
        """Store the bytes as one file; FileTooLarge (nothing kept) past `max_bytes`."""
        ...

    def read(self, account_id: str, file_id: str, offset: int = 0) -> AsyncIterator[bytes]:
        """The file's bytes from `offset` on, in pieces of a bounded size."""
        ...

    async def delete(self, account_id: str, file_id: str) -> None:
        """Forget the file (nothing when it is gone already)."""
        ...


@dataclass(frozen=True)
class ImportChunk:
    """A chunk of an import, committed with its contacts' changes (ChangeBatch.imported): the
    import moves from `before` to `after` and adds the chunk's counts and row errors, renewing
    its lease, all only while it is still RUNNING at `before` under `owner` (so no row is ever
    applied twice, and a run whose lease was handed on stops): else StaleWrite."""

    import_id: str
    account_id: str
    owner: str
    before: Cursor
    after: Cursor
    counts: ImportCounts
    errors: tuple[RowError, ...]
    lease_until: datetime


class TooManyImports(Exception):
    """P5: the account has as many background operations queued or running as it may."""


@dataclass(frozen=True)
class ImportKey:
    """I5: an idempotency key held for 24 hours, with the fingerprint of what it started."""

    key: str
    fingerprint: str
    import_id: str
    expires_at: datetime


class ImportStore(Protocol):
    """Every read a requester makes takes its scope (P3: an import is its requester's record,
    like a bulk operation); writes take their audit entry (P4), in the same transaction."""

    async def insert(
        self,
        imported: Import,
        key: ImportKey | None,
        max_active: int,
        audit: AuditEntry | None = None,
    ) -> ImportKey | None:
        """Persist a QUEUED import; with a key held already (not expired), persist nothing and
        return it. P5: TooManyImports, nothing persisted, when the account has `max_active`
        background operations (bulk ones included) queued or running, decided atomically."""
        ...

    async def held(self, account_id: str, key: str, now: datetime) -> ImportKey | None: ...

    async def get(self, scope: Scope, import_id: str) -> Import | None: ...

    async def load(self, import_id: str) -> Import | None: ...

    async def page(self, scope: Scope, first: int, after: str | None) -> Page[Import]:
        """Newest first."""
        ...

    async def count(self, scope: Scope) -> int: ...

    async def errors(
        self, account_id: str, import_id: str, first: int, after: str | None
    ) -> Page[RowError]:
        """I4: the import's row errors, in row order."""
        ...

    async def claim(
        self, import_id: str, owner: str, now: datetime, lease_until: datetime
    ) -> Import | None:
        """Take a QUEUED import, a RUNNING one whose lease ran out, or one `owner` holds: it
        is RUNNING under `owner` afterwards; None otherwise."""
        ...

    async def finish(
        self,
        imported: Import,
        status: ImportStatus,
        now: datetime,
        owner: str | None = None,
        failure: str | None = None,
    ) -> Import | None:
        """End a QUEUED or RUNNING import (with `owner`: only while that run holds it); None
        when it had ended, or another run holds it."""
        ...

    async def cancel(
        self, scope: Scope, import_id: str, now: datetime, audit: AuditEntry | None = None
    ) -> Import | None:
        """CANCELLED, with the audit entry, if QUEUED or RUNNING; None otherwise."""
        ...

    async def stale(self, queued_before: datetime, now: datetime) -> list[Import]:
        """QUEUED imports persisted before `queued_before`, RUNNING ones whose lease ran out."""
        ...

    async def by_emails(self, account_id: str, email_keys: Sequence[str]) -> list[Contact]:
        """I2, C8: the account's contacts with these addresses (case-insensitive keys)."""
        ...


class ImportJobs(Protocol):
    async def enqueue_import(self, import_id: str, attempt: int = 0) -> bool:
        """A job that runs the import (`attempt` > 0: one that takes over a dead worker's)."""
        ...

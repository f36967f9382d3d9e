"""Exports (I6): the export records and their CSV files."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from datetime import datetime
from typing import Protocol

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.exports import Export
from marketing_contacts.domain.visibility import Scope


class ExportStore(Protocol):
    """An export is its requester's record (P3): a scope of some owners sees the exports those
    owners requested. Its file is kept where every API and worker process reads it."""

    async def insert(
        self, export: Export, max_active: int, audit: AuditEntry | None = None
    ) -> None:
        """Persist a QUEUED export with the audit entry of its start. P5: persist nothing and
        raise TooManyActive when the account has `max_active` background operations (bulk
        operations and exports) QUEUED or RUNNING already, decided atomically with the insert
        (concurrent starts of one account never pass it together)."""
        ...

    async def get(self, scope: Scope, export_id: str) -> Export | None: ...

    async def load(self, export_id: str) -> Export | None:
        """The export whatever its requester (the worker's read)."""
        ...

    async def claim(self, export_id: str, now: datetime) -> Export | None:
        """A QUEUED export, or a RUNNING one (its run ended without finishing it), RUNNING
        afterwards; None once it has finished."""
        ...

    async def write_file(self, export: Export, chunks: AsyncIterable[bytes]) -> None:
        """The export's file as `chunks` make it, replacing whatever a run before left (a
        partial file of a crashed run); the chunks are stored as they come (bounded memory)."""
        ...

    async def complete(self, export: Export, rows: int, now: datetime) -> Export | None:
        """COMPLETED with `rows` and 7 days to its expiry, if it was RUNNING; None otherwise."""
        ...

    async def fail(self, export: Export, failure: str, now: datetime) -> Export | None:
        """FAILED with the reason, its file dropped, if it was QUEUED or RUNNING."""
        ...

    def read_file(self, export: Export) -> AsyncIterator[bytes]:
        """The file's bytes, chunk by chunk (nothing when there is no file)."""
        ...

    async def expired(self, now: datetime, first: int) -> list[Export]:
        """Up to `first` exports whose file expired by `now`, oldest expiry first."""
        ...

    async def delete(self, export: Export) -> None:
        """The export and its file gone (the file first: a sweep that stops between the two
        finds the export again)."""
        ...

    async def queued_before(self, instant: datetime, first: int) -> list[Export]:
        """Up to `first` exports still QUEUED that were started before `instant` (their job was
        never enqueued, or was lost)."""
        ...

"""In-memory imports, their row errors and keys, and uploaded files (I1-I5), as
storage.imports and storage.files keep them."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.contacts import Contact, email_key
from marketing_contacts.domain.imports import Import, ImportStatus, RowError
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page
from marketing_contacts.services.ports.changes import StaleWrite
from marketing_contacts.services.ports.imports import (
    FileTooLarge,
    ImportChunk,
    ImportKey,
    StoredFile,
    TooManyImports,
)
from tests.support.waiting import let_others_run
from tests.unit.services.fake_audit import record
from tests.unit.services.fake_background import active_operations
from tests.unit.services.fake_paging import keyset_page, object_id, sequence

if TYPE_CHECKING:
    from tests.unit.services.fakes import FakeData

PIECE = 1000  # pieces end inside records: reads cross record boundaries
_ACTIVE = (ImportStatus.QUEUED, ImportStatus.RUNNING)


class FakeFileStore:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    async def put(
        self, account_id: str, name: str, chunks: AsyncIterator[bytes], max_bytes: int
    ) -> StoredFile:
        body = bytearray()
        async for piece in chunks:
            body.extend(piece)
            if len(body) > max_bytes:
                raise FileTooLarge(name)
        file_id = self.data.new_id()
        self.data.files[file_id] = (account_id, bytes(body))
        return StoredFile(file_id, len(body), hashlib.sha256(body).hexdigest())

    async def read(self, account_id: str, file_id: str, offset: int = 0) -> AsyncIterator[bytes]:
        owner, body = self.data.files.get(file_id, (account_id, b""))
        assert owner == account_id
        for start in range(offset, len(body), PIECE):
            await let_others_run()
            yield body[start : start + PIECE]

    async def delete(self, account_id: str, file_id: str) -> None:
        self.data.files.pop(file_id, None)


def advance_import(data: FakeData, chunk: ImportChunk, *, check_only: bool) -> None:
    """As storage.imports.advance_import: StaleWrite unless RUNNING at `before` under `owner`."""
    current = data.imports.get(chunk.import_id)
    if (
        current is None
        or current.status is not ImportStatus.RUNNING
        or current.cursor != chunk.before
        or current.lease_owner != chunk.owner
    ):
        raise StaleWrite(f"import {chunk.import_id} is not at {chunk.before} under {chunk.owner}")
    if check_only:
        return
    data.imports[chunk.import_id] = replace(
        current,
        counts=current.counts.plus(chunk.counts),
        cursor=chunk.after,
        lease_until=chunk.lease_until,
    )
    data.import_errors.setdefault(chunk.import_id, []).extend(chunk.errors)


class FakeImportStore:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def _seen(self, scope: Scope) -> list[Import]:
        return [
            i
            for i in self.data.imports.values()
            if i.account_id == scope.account_id
            and (scope.owners is None or i.requested_by in scope.owners)
        ]

    async def insert(
        self,
        imported: Import,
        key: ImportKey | None,
        max_active: int,
        audit: AuditEntry | None = None,
    ) -> ImportKey | None:
        await let_others_run()
        data = self.data
        if key is not None:
            held = data.import_keys.get((imported.account_id, key.key))
            if held is not None and held.expires_at > imported.created_at:
                return held
        active = active_operations(data, imported.account_id)
        if active >= max_active:
            raise TooManyImports(imported.account_id)
        if key is not None:
            data.import_keys[(imported.account_id, key.key)] = key
        data.imports[imported.id] = imported
        record(data, audit)
        return None

    async def held(self, account_id: str, key: str, now: datetime) -> ImportKey | None:
        held = self.data.import_keys.get((account_id, key))
        return held if held is not None and held.expires_at > now else None

    async def get(self, scope: Scope, import_id: str) -> Import | None:
        await let_others_run()
        return next((i for i in self._seen(scope) if i.id == import_id), None)

    async def load(self, import_id: str) -> Import | None:
        await let_others_run()
        return self.data.imports.get(import_id)

    async def page(self, scope: Scope, first: int, after: str | None) -> Page[Import]:
        return keyset_page(
            self._seen(scope), lambda i: i.id, object_id, "import", first, after, descending=True
        )

    async def count(self, scope: Scope) -> int:
        return len(self._seen(scope))

    async def errors(
        self, account_id: str, import_id: str, first: int, after: str | None
    ) -> Page[RowError]:
        found = self.data.import_errors.get(import_id, [])
        return keyset_page(found, lambda e: e.row, sequence, "importError", first, after)

    async def claim(
        self, import_id: str, owner: str, now: datetime, lease_until: datetime
    ) -> Import | None:
        await let_others_run()
        current = self.data.imports.get(import_id)
        if current is None or not current.claimable_by(owner, now):
            return None
        claimed = replace(
            current,
            status=ImportStatus.RUNNING,
            lease_owner=owner,
            lease_until=lease_until,
            started_at=current.started_at or now,
        )
        self.data.imports[import_id] = claimed
        return claimed

    async def finish(
        self,
        imported: Import,
        status: ImportStatus,
        now: datetime,
        owner: str | None = None,
        failure: str | None = None,
    ) -> Import | None:
        current = self.data.imports.get(imported.id)
        if current is None or current.status not in _ACTIVE:
            return None
        if owner is not None and current.lease_owner != owner:
            return None
        ended = replace(
            current, status=status, finished_at=now, failure_reason=failure, lease_until=None
        )
        self.data.imports[imported.id] = ended
        return ended

    async def cancel(
        self, scope: Scope, import_id: str, now: datetime, audit: AuditEntry | None = None
    ) -> Import | None:
        current = await self.get(scope, import_id)
        if current is None or current.status not in _ACTIVE:
            return None
        cancelled = replace(current, status=ImportStatus.CANCELLED, finished_at=now)
        self.data.imports[import_id] = cancelled
        record(self.data, audit)
        return cancelled

    async def stale(self, queued_before: datetime, now: datetime) -> list[Import]:
        return [
            i
            for i in self.data.imports.values()
            if (i.status is ImportStatus.QUEUED and i.created_at < queued_before)
            or (
                i.status is ImportStatus.RUNNING
                and i.lease_until is not None
                and i.lease_until < now
            )
        ]

    async def by_emails(self, account_id: str, email_keys: Sequence[str]) -> list[Contact]:
        await let_others_run()
        wanted = set(email_keys)
        return [
            c
            for c in self.data.contacts.values()
            if c.account_id == account_id and email_key(c.email) in wanted
        ]

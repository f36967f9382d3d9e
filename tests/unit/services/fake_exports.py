"""Exports in memory: the same promises as storage.exports, over FakeData (a file is its list
of chunks)."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.bulk import BulkOperationStatus
from marketing_contacts.domain.exports import Export
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.ports.bulk import TooManyActive
from tests.support.waiting import let_others_run
from tests.unit.services.fake_audit import record
from tests.unit.services.fake_background import active_operations

if TYPE_CHECKING:
    from tests.unit.services.fakes import FakeData

ACTIVE = (BulkOperationStatus.QUEUED, BulkOperationStatus.RUNNING)


class FakeExportStore:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    async def insert(
        self, export: Export, max_active: int, audit: AuditEntry | None = None
    ) -> None:
        await let_others_run()
        if active_operations(self.data, export.account_id) >= max_active:
            raise TooManyActive(export.account_id)
        self.data.exports[export.id] = export
        record(self.data, audit)

    async def get(self, scope: Scope, export_id: str) -> Export | None:
        await let_others_run()
        found = self.data.exports.get(export_id)
        if found is None or found.account_id != scope.account_id:
            return None
        return found if scope.sees(found.requested_by) else None

    async def load(self, export_id: str) -> Export | None:
        await let_others_run()
        return self.data.exports.get(export_id)

    async def claim(self, export_id: str, now: datetime) -> Export | None:
        await let_others_run()
        found = self.data.exports.get(export_id)
        if found is None or found.status not in ACTIVE:
            return None
        claimed = replace(
            found, status=BulkOperationStatus.RUNNING, started_at=found.started_at or now
        )
        self.data.exports[export_id] = claimed
        return claimed

    async def write_file(self, export: Export, chunks: AsyncIterable[bytes]) -> None:
        self.data.export_files[export.id] = []
        async for chunk in chunks:
            self.data.export_files[export.id].append(chunk)

    async def complete(self, export: Export, rows: int, now: datetime) -> Export | None:
        await let_others_run()
        found = self.data.exports.get(export.id)
        if found is None or found.status is not BulkOperationStatus.RUNNING:
            return None
        done = found.completed(rows, now)
        self.data.exports[export.id] = done
        return done

    async def fail(self, export: Export, failure: str, now: datetime) -> Export | None:
        await let_others_run()
        found = self.data.exports.get(export.id)
        if found is None or found.status not in ACTIVE:
            return None
        failed = replace(found, status=BulkOperationStatus.FAILED, failure=failure, finished_at=now)
        self.data.exports[export.id] = failed
        self.data.export_files.pop(export.id, None)
        return failed

    async def read_file(self, export: Export) -> AsyncIterator[bytes]:
        for chunk in list(self.data.export_files.get(export.id, [])):
            await let_others_run()
            yield chunk

    async def expired(self, now: datetime, first: int) -> list[Export]:
        await let_others_run()
        gone = [
            e
            for e in self.data.exports.values()
            if e.expires_at is not None and e.expires_at <= now
        ]
        return sorted(gone, key=lambda e: (e.expires_at, e.id))[:first]

    async def delete(self, export: Export) -> None:
        await let_others_run()
        self.data.export_files.pop(export.id, None)
        self.data.exports.pop(export.id, None)

    async def queued_before(self, instant: datetime, first: int) -> list[Export]:
        await let_others_run()
        queued = [
            e
            for e in self.data.exports.values()
            if e.status is BulkOperationStatus.QUEUED and e.created_at < instant
        ]
        return sorted(queued, key=lambda e: e.id)[:first]

"""Exports (I6, P3, P5): start one, read it, write its file in the background, sweep it away.

`start` persists a QUEUED export (P5: counted with the account's active bulk operations, in the
transaction that inserts it) and then enqueues its job; `run` is that job: it pages the
selection's contacts in the scope the export keeps (its requester's, as it was at the start),
by id, and streams the CSV into the export's file a page at a time, so memory stays bounded
whatever the selection's size. A run that crashes leaves the export RUNNING; the job's next
run starts the file over (the store replaces a partial file), which keeps an export idempotent
without tracking where a run stopped. `sweep` deletes the exports whose 7 days are over, file
first, and enqueues the exports whose enqueueing was lost.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from marketing_contacts.domain.bulk import (
    MAX_ACTIVE_OPERATIONS,
    BulkOperationStatus,
    Selection,
)
from marketing_contacts.domain.errors import ErrorCode, check_id, refuse
from marketing_contacts.domain.exports import Export, csv_lines, header, row_of
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.ports.bulk import TooManyActive
from marketing_contacts.services.selections import check_live_list
from marketing_contacts.services.wiring import Ports

log = logging.getLogger(__name__)
#: contacts read, and written to the file, at a time
PAGE_SIZE = 200
#: exports deleted by one pass of the sweep's loop
SWEEP_BATCH = 100
#: an export still QUEUED this long after its start had its enqueueing lost: the sweep
#: enqueues it again
REQUEUE_AFTER = timedelta(minutes=1)


def download_path(export_id: str) -> str:
    """I6: the path of an export's file on the API (http.app serves it)."""
    return f"/exports/{export_id}/file"


@dataclass(frozen=True)
class Swept:
    deleted: list[str]
    requeued: list[str]


class ExportService:
    def __init__(self, ports: Ports, max_active: int = MAX_ACTIVE_OPERATIONS) -> None:
        self.ports = ports
        self.exports = ports.exports
        #: P5: background operations an account may have queued or running at once
        self.max_active = max_active

    async def start(self, caller: Caller, selection: Selection) -> Export:
        """I6: a QUEUED export of the selection within the caller's scope (P3); persisted
        first, then enqueued (the sweep enqueues what this missed). P5: TOO_MANY, and nothing
        persisted, past `max_active` background operations queued or running."""
        await check_live_list(self.ports, caller, selection)
        export = Export(
            id=self.ports.ids.new_id(),
            account_id=caller.account_id,
            selection=selection,
            status=BulkOperationStatus.QUEUED,
            created_at=self.ports.clock.now(),
            requested_by=caller.user_id,
            owners=caller.scope.owners,
        )
        audit = self.ports.audit_entry(caller.account_id, caller.actor, "startExport", [export.id])
        try:
            await self.exports.insert(export, self.max_active, audit)
        except TooManyActive:
            raise refuse(
                ErrorCode.TOO_MANY,
                f"the account has {self.max_active} background operations queued or running, "
                "the most it may have: start this export once one of them has ended",
            ) from None
        await self._enqueue(export)
        return export

    async def get(self, caller: Caller, export_id: str) -> Export | None:
        """P3: an export the caller does not see is None, as a missing one is."""
        check_id(export_id, "id")
        return await self.exports.get(caller.scope, export_id)

    async def downloadable(self, caller: Caller, export_id: str) -> Export | None:
        """The export whose file the caller may download now: seen by the caller, COMPLETED
        and not expired (the sweep may not have deleted it yet); None otherwise."""
        if not export_id or len(export_id) > 200:
            return None
        export = await self.exports.get(caller.scope, export_id)
        if export is None or not export.downloadable(self.ports.clock.now()):
            return None
        return export

    def download_path(self, export: Export) -> str | None:
        """Where the export's file is downloaded on this API, while it can be."""
        if not export.downloadable(self.ports.clock.now()):
            return None
        return download_path(export.id)

    def file_of(self, export: Export) -> AsyncIterator[bytes]:
        return self.exports.read_file(export)

    async def run(self, export_id: str) -> Export | None:
        """The export's job: its file written and the export COMPLETED with its rows; None
        when it had finished already (a job run again does nothing)."""
        export = await self.exports.claim(export_id, self.ports.clock.now())
        if export is None:
            return None
        written = [0]
        await self.exports.write_file(export, self._csv(export, written))
        return await self.exports.complete(export, written[0], self.ports.clock.now())

    async def fail(self, export_id: str, failure: str) -> Export | None:
        """A run's permanent failure: the export FAILED with the reason, never a silent stop."""
        export = await self.exports.load(export_id)
        if export is None:
            return None
        return await self.exports.fail(export, failure, self.ports.clock.now())

    async def _csv(self, export: Export, written: list[int]) -> AsyncIterator[bytes]:
        """The header, then a chunk of rows per page of the selection's contacts, in id
        order; `written[0]` counts the rows."""
        yield header().encode()
        after: str | None = None
        while True:
            page = await self.ports.contacts.page_of_selection(
                export.scope, export.selection, (), PAGE_SIZE, after
            )
            rows = [row_of(contact) for contact in page.items if export.selects(contact)]
            written[0] += len(rows)
            if rows:
                yield csv_lines(rows).encode()
            if not page.has_next_page or not page.cursors:
                return
            after = page.cursors[-1]

    async def sweep(self, now: datetime | None = None) -> Swept:
        """I6: every export whose file expired, deleted with its file; exports whose
        enqueueing was lost, enqueued again."""
        now = now or self.ports.clock.now()
        deleted: list[str] = []
        while batch := await self.exports.expired(now, SWEEP_BATCH):
            for export in batch:
                await self.exports.delete(export)
                deleted.append(export.id)
        requeued = []
        for export in await self.exports.queued_before(now - REQUEUE_AFTER, SWEEP_BATCH):
            if await self._enqueue(export):
                requeued.append(export.id)
        return Swept(deleted, requeued)

    async def _enqueue(self, export: Export) -> bool:
        """Have a worker write the export (principle 5: it was persisted first); a failure
        leaves it QUEUED for the sweep."""
        try:
            return await self.ports.jobs.enqueue_export(export.id)
        except Exception:
            log.exception("enqueueing export %s failed; the sweep will retry", export.id)
            return False

"""Bulk status changes, the worker's side (B4): claim, resolve, apply page by page, finish.

Every step is safe to run twice or to be cut short: resolving writes the selection's contact ids
down in pages; applying a page is one transaction that changes its contacts and moves the
operation past the page; a restarted run resumes from the next page. A lease lets another
worker take over an operation whose worker died, or stalled past the lease: the run that lost
the lease stops at its next page, leaving the operation to the one that holds it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from marketing_contacts.domain.bulk import (
    BulkOperation,
    BulkOperationStatus,
    decide_chunk,
    with_missing,
)
from marketing_contacts.services.bulk import enqueue
from marketing_contacts.services.ledger import batch_for
from marketing_contacts.services.ports.changes import BulkChunk, ChangeBatch
from marketing_contacts.services.ports.events import BulkProgressed
from marketing_contacts.services.wiring import Ports

log = logging.getLogger(__name__)

CHUNK = 500
LEASE = timedelta(seconds=60)
#: a QUEUED operation older than this was persisted but probably never enqueued
ENQUEUE_GRACE = timedelta(seconds=30)


@dataclass(frozen=True)
class BulkRunnerSettings:
    chunk: int = CHUNK
    lease: timedelta = LEASE


class BulkRunner:
    def __init__(self, ports: Ports, settings: BulkRunnerSettings | None = None) -> None:
        self.ports = ports
        self.settings = settings or BulkRunnerSettings()

    async def run(self, operation_id: str, owner: str) -> BulkOperation | None:
        """Apply the operation to its end (or its cancellation); None if another holds it."""
        now = self.ports.clock.now()
        operation = await self.ports.operations.claim(
            operation_id, owner, now, now + self.settings.lease
        )
        if operation is None:
            return None
        if not operation.resolved:
            operation = await self.ports.bulk_pages.resolve(operation, self.settings.chunk)
        account_id = operation.account_id
        while await self.ports.retrying_on(account_id, lambda: self._chunk(operation_id, owner)):
            pass
        stopped = await self.ports.operations.load(operation_id)
        if stopped is None:
            return None
        if stopped.lease_owner != owner:
            log.warning(
                "bulk operation %s: run %s stalled past its lease, which went to %s; it stops",
                operation_id,
                owner,
                stopped.lease_owner,
            )
            return None
        return await self._finish(stopped)

    async def fail(self, operation_id: str, reason: str) -> None:
        """A permanent failure: the operation ends FAILED with a readable reason."""
        operation = await self.ports.operations.load(operation_id)
        if operation is None:
            return
        await self.ports.operations.finish(
            operation,
            BulkOperationStatus.FAILED,
            operation.progress,
            self.ports.clock.now(),
            failure=reason,
        )
        await self.ports.bulk_pages.drop_pages(operation_id)
        await self.ports.ledger.tell(operation.account_id, BulkProgressed(operation_id))

    async def sweep(self) -> list[str]:
        """Enqueue what was persisted but not queued, and what a dead worker left running."""
        now = self.ports.clock.now()
        enqueued = []
        for operation in await self.ports.operations.stale(now - ENQUEUE_GRACE, now):
            if await self._waiting(operation):
                continue
            log.warning(
                "bulk operation %s is %s with no live worker: enqueueing it again",
                operation.id,
                operation.status.value,
            )
            await enqueue(self.ports, operation)
            enqueued.append(operation.id)
        return enqueued

    async def _waiting(self, operation: BulkOperation) -> bool:
        """A QUEUED operation whose job still waits for a free worker needs no second job."""
        return (
            operation.status is BulkOperationStatus.QUEUED
            and operation.enqueued > 0
            and await self.ports.jobs.is_waiting(operation.id, operation.enqueued)
        )

    async def _chunk(self, operation_id: str, owner: str) -> bool:
        """Apply the next page; False when none is left, the operation stopped, or another run
        holds it now."""
        batch = await self.next_page(operation_id, owner)
        if batch is None:
            return False
        await self.ports.ledger.commit(batch, BulkProgressed(operation_id))
        return True

    async def next_page(self, operation_id: str, owner: str) -> ChangeBatch | None:
        """The next page's changes as `owner` would commit them (only while it holds the
        lease and the page is still next); None when there is nothing for `owner` to apply."""
        operation = await self.ports.operations.load(operation_id)
        if (
            operation is None
            or operation.status is not BulkOperationStatus.RUNNING
            or operation.lease_owner != owner
        ):
            return None
        page = await self.ports.bulk_pages.page_to_apply(operation)
        if page is None:
            return None
        account = await self.ports.account(operation.account_id)
        now = self.ports.clock.now()
        outcome = decide_chunk(account, page.contacts, operation.target, operation.id, now)
        chunk = BulkChunk(
            operation_id=operation.id,
            owner=owner,
            page=page.number,
            progress=outcome.progress,
            lease_until=now + self.settings.lease,
        )
        return replace(batch_for(account, outcome.change, outcome.updates), bulk=chunk)

    async def _finish(self, operation: BulkOperation) -> BulkOperation:
        """Every page is applied: the pages go first, so a COMPLETED operation has left nothing
        behind (a run cut short in between finds no page left and completes it the same way)."""
        await self.ports.bulk_pages.drop_pages(operation.id)
        ended: BulkOperation | None = operation
        if operation.status is not BulkOperationStatus.CANCELLED:
            ended = await self.ports.operations.finish(
                operation,
                BulkOperationStatus.COMPLETED,
                with_missing(operation.progress),
                self.ports.clock.now(),
            )
            if ended is None:  # cancelled meanwhile: as it ended
                ended = await self.ports.operations.load(operation.id)
        await self.ports.ledger.tell(operation.account_id, BulkProgressed(operation.id))
        return ended or operation

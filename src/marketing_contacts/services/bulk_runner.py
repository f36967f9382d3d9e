"""Bulk status changes, the worker's side (B4): turns of an account; claim, resolve, apply
page by page, finish.

Every step is safe to run twice or to be cut short: resolving writes the selection's contact ids
down in pages; applying a page is one transaction that changes its contacts and moves the
operation past the page; a restarted run resumes from the next page. A lease lets another
worker take over an operation whose worker died, or stalled past the lease: the run that lost
the lease stops at its next page, leaving the operation to the one that holds it.

Workers share their time fairly between accounts: a job takes one *turn* of one account, which
runs the account's operations one at a time, oldest first, within a budget of pages and time.
An operation the budget cuts short stays RUNNING under the turn's lease, and the account's next
turn, queued behind the other accounts' turns, resumes it. So an account's backlog holds one
worker slot at a time, and another account's operation waits for a turn, not for the backlog.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from marketing_contacts.domain.bulk import (
    BulkOperation,
    BulkOperationStatus,
    decide_chunk,
    with_missing,
)
from marketing_contacts.services.ledger import batch_for
from marketing_contacts.services.ports.changes import BulkChunk, ChangeBatch
from marketing_contacts.services.ports.events import BulkProgressed
from marketing_contacts.services.wiring import Ports

log = logging.getLogger(__name__)

CHUNK = 500
LEASE = timedelta(seconds=60)
#: a QUEUED operation older than this was persisted but probably never enqueued
ENQUEUE_GRACE = timedelta(seconds=30)
#: a turn applies at most this many pages (resolving a selection counts as one) ...
TURN_PAGES = 20
#: ... and begins no page past this long after it started
TURN_LENGTH = timedelta(seconds=10)


@dataclass(frozen=True)
class BulkRunnerSettings:
    chunk: int = CHUNK
    lease: timedelta = LEASE
    turn_pages: int = TURN_PAGES
    turn_length: timedelta = TURN_LENGTH


@dataclass
class Budget:
    """What is left of a turn: pages, and time until `until`."""

    pages: int
    until: datetime

    @classmethod
    def unlimited(cls) -> Budget:
        return cls(sys.maxsize, datetime.max.replace(tzinfo=UTC))

    def spend(self) -> None:
        self.pages -= 1

    def spent(self, now: datetime) -> bool:
        return self.pages <= 0 or now >= self.until


@dataclass(frozen=True)
class Turn:
    """What one turn of an account did: the operations it ended, in the order they ended."""

    account_id: str
    ended: tuple[BulkOperation, ...]


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
        return await self._advance(operation, owner, Budget.unlimited())

    async def take_turn(
        self, account_id: str, owner: str, transient: Callable[[Exception], bool]
    ) -> Turn:
        """One turn of the account's bulk work under `owner`: its operations one at a time,
        oldest first, until the turn's budget is spent or the oldest is another run's. A
        permanent failure ends its operation FAILED with the reason and the turn goes on; a
        `transient` one is raised, for the job to take the turn again later."""
        now = self.ports.clock.now()
        budget = Budget(self.settings.turn_pages, now + self.settings.turn_length)
        ended: list[BulkOperation] = []
        while not budget.spent(self.ports.clock.now()):
            operation = await self._claim_oldest(account_id, owner)
            if operation is None:
                break
            try:
                advanced = await self._advance(operation, owner, budget)
            except Exception as error:
                if transient(error):
                    raise
                log.exception("bulk operation %s failed", operation.id)
                advanced = await self.fail(operation.id, f"{type(error).__name__}: {error}")
                budget.spend()
            if advanced is None or not advanced.status.finished:
                break
            ended.append(advanced)
        return Turn(account_id, tuple(ended))

    async def next_turn(self, account_id: str, owner: str) -> bool:
        """After `owner`'s turn ended: while the account has an operation that its next turn
        could take, enqueue that turn (behind the jobs queued meanwhile); True if enqueued.
        An operation started while the turn was ending found the account's job still there
        and enqueued nothing: this sees it."""
        oldest = await self.ports.operations.oldest_active(account_id)
        if oldest is None or not oldest.claimable_by(owner, self.ports.clock.now()):
            return False
        return await self.ports.jobs.enqueue_account_bulk(account_id)

    async def fail(self, operation_id: str, reason: str) -> BulkOperation | None:
        """A permanent failure: the operation ends FAILED with a readable reason."""
        operation = await self.ports.operations.load(operation_id)
        if operation is None:
            return None
        failed = await self.ports.operations.finish(
            operation,
            BulkOperationStatus.FAILED,
            operation.progress,
            self.ports.clock.now(),
            failure=reason,
        )
        await self.ports.bulk_pages.drop_pages(operation_id)
        await self.ports.ledger.tell(operation.account_id, BulkProgressed(operation_id))
        return failed or await self.ports.operations.load(operation_id)

    async def sweep(self) -> list[str]:
        """Give a job to each account whose work has no live one: operations persisted but
        never queued (or whose job Redis lost), and those a dead or stalled worker left
        RUNNING past its lease. Returns the operations of the accounts that got a job."""
        now = self.ports.clock.now()
        by_account: dict[str, list[BulkOperation]] = {}
        for operation in await self.ports.operations.stale(now - ENQUEUE_GRACE, now):
            by_account.setdefault(operation.account_id, []).append(operation)
        handed: list[str] = []
        for account_id, operations in by_account.items():
            running = [o for o in operations if o.status is BulkOperationStatus.RUNNING]
            if running:
                enqueued = await self.ports.jobs.replace_account_bulk(account_id)
            else:
                enqueued = await self.ports.jobs.enqueue_account_bulk(account_id)
            if not enqueued:
                continue  # the account's job waits for a free worker: it takes them up
            for operation in running or operations[:1]:
                log.warning(
                    "bulk operation %s is %s with no live worker: a new job takes account %s"
                    " (%d operations waiting or left running)",
                    operation.id,
                    operation.status.value,
                    account_id,
                    len(operations),
                )
            handed += [o.id for o in operations]
        return handed

    async def _claim_oldest(self, account_id: str, owner: str) -> BulkOperation | None:
        """The account's oldest active operation, claimed for `owner`; None when there is
        none, or another run holds it (an account's operations run one at a time)."""
        oldest = await self.ports.operations.oldest_active(account_id)
        if oldest is None:
            return None
        now = self.ports.clock.now()
        return await self.ports.operations.claim(oldest.id, owner, now, now + self.settings.lease)

    async def _advance(
        self, operation: BulkOperation, owner: str, budget: Budget
    ) -> BulkOperation | None:
        """Apply the operation's pages while the budget lasts, and end it after its last: the
        operation as it then stands (still RUNNING under `owner` when the budget ran out
        first), None when another run holds it now."""
        if not operation.resolved:
            operation = await self.ports.bulk_pages.resolve(operation, self.settings.chunk)
            budget.spend()
        account_id, operation_id = operation.account_id, operation.id
        while not budget.spent(self.ports.clock.now()):
            if not await self.ports.retrying_on(
                account_id, lambda: self._chunk(operation_id, owner)
            ):
                return await self._stopped(await self.ports.operations.load(operation_id), owner)
            budget.spend()
        current = await self.ports.operations.load(operation_id)
        if (
            current is not None
            and current.status is BulkOperationStatus.RUNNING
            and current.lease_owner == owner
            and current.progress.processed < current.progress.matched
        ):
            return current  # pages are left: the account's next turn resumes it
        return await self._stopped(current, owner)

    async def _stopped(self, stopped: BulkOperation | None, owner: str) -> BulkOperation | None:
        """No page is left for `owner`: end the operation, unless another run holds it."""
        if stopped is None:
            return None
        if stopped.lease_owner != owner:
            log.warning(
                "bulk operation %s: run %s stalled past its lease, which went to %s; it stops",
                stopped.id,
                owner,
                stopped.lease_owner,
            )
            return None
        return await self._finish(stopped)

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

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
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.audit import Actor
from marketing_contacts.domain.bulk import (
    BulkOperation,
    BulkOperationStatus,
    decide_chunk,
    with_missing,
)
from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.services.ledger import batch_for
from marketing_contacts.services.list_deletions import ListDeletions
from marketing_contacts.services.locks import account_busy
from marketing_contacts.services.ports.bulk import BulkPage
from marketing_contacts.services.ports.changes import (
    BulkChunk,
    ChangeBatch,
    StaleWrite,
    StoreBusy,
)
from marketing_contacts.services.ports.events import BulkProgressed
from marketing_contacts.services.turns import Budget
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
#: pages a run reads in one command, ahead of committing them one transaction each
READ_AHEAD = 4


#: S7: what passes with time, however the worker judges it: a transaction another holds,
#: a decision the store moved past, a busy account, a rate limit, the store briefly away
PASSING = (StoreBusy, StaleWrite, TimeoutError, ConnectionError)
PASSING_CODES = frozenset({ErrorCode.CONFLICT, ErrorCode.RATE_LIMITED})


def passes(error: Exception) -> bool:
    """A failure that trying again later gets past (S7: a workflow's action is retried)."""
    return isinstance(error, PASSING) or (
        isinstance(error, DomainError) and any(e.code in PASSING_CODES for e in error.errors)
    )


@dataclass(frozen=True)
class BulkRunnerSettings:
    chunk: int = CHUNK
    lease: timedelta = LEASE
    turn_pages: int = TURN_PAGES
    turn_length: timedelta = TURN_LENGTH
    read_ahead: int = READ_AHEAD


@dataclass
class PageRun:
    """What a run of one operation knows between its pages, so that a page costs its commit
    and a share of one read: the operation and the account as the run's last commit left
    them, and the pages it read ahead. Each commit holds only on exactly that state (the
    operation still RUNNING at that page under this owner, the account at that revision, each
    contact at its status sequence: storage.writer); one that finds any of it moved raises
    StaleWrite, and the run forgets what it knew and reads it again."""

    operation_id: str
    owner: str
    operation: BulkOperation | None = None
    account: Account | None = None
    ahead: deque[BulkPage] = field(default_factory=deque)
    #: the last read found fewer pages than it asked for: none is left past those ahead
    read_to_end: bool = False

    @property
    def applied_all(self) -> bool:
        """Every page was committed by this run (so the stored operation is past its last)."""
        return self.read_to_end and not self.ahead and self.operation is not None

    def forget(self) -> None:
        self.operation, self.account = None, None
        self.ahead.clear()
        self.read_to_end = False

    def committed(self, batch: ChangeBatch) -> None:
        """As `batch` (one of this run's pages) left the operation and the account."""
        assert batch.bulk is not None and self.operation is not None
        self.operation = self.operation.past_page(batch.bulk.progress, batch.bulk.lease_until)
        self.account = batch.account_after


@dataclass(frozen=True)
class Turn:
    """What one turn of an account did: the operations it ended, in the order they ended,
    and the deleted lists whose membership it took out to the end."""

    account_id: str
    ended: tuple[BulkOperation, ...]
    lists_removed: tuple[str, ...] = ()


class BulkRunner:
    def __init__(self, ports: Ports, settings: BulkRunnerSettings | None = None) -> None:
        self.ports = ports
        self.settings = settings or BulkRunnerSettings()
        self.list_deletions = ListDeletions(ports, self.settings.chunk, self.settings.lease)

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
        """One turn of the account's bulk work under `owner`: the membership of its deleted
        lists first (services.list_deletions), then its operations one at a time, oldest
        first, until the turn's budget is spent, the oldest is another run's, or none
        waited behind the one that ended (`next_turn` sees any started meanwhile). A
        permanent failure ends its operation FAILED with the reason and the turn goes on; a
        `transient` one is raised, for the job to take the turn again later. S7: a workflow's
        operation is never ended FAILED for a failure that `passes` (the store busy, a stale
        write, a conflict, a rate limit), whatever `transient` says: the turn raises CONFLICT,
        which the worker retries with backoff (and past its tries, the sweeper hands the
        operation, left RUNNING, to a new job once its lease runs out)."""
        now = self.ports.clock.now()
        budget = Budget(self.settings.turn_pages, now + self.settings.turn_length)
        removed = await self.list_deletions.take(account_id, owner, budget)
        ended: list[BulkOperation] = []
        others_waiting = True
        while others_waiting and not budget.spent(self.ports.clock.now()):
            operation, others_waiting = await self._claim_oldest(account_id, owner)
            if operation is None:
                break
            try:
                advanced = await self._advance(operation, owner, budget)
            except Exception as error:
                if transient(error):
                    raise
                if operation.for_workflow and passes(error):
                    # S7: the job retries the turn with backoff (the worker's CONFLICT)
                    raise account_busy() from error
                log.exception("bulk operation %s failed", operation.id)
                advanced = await self.fail(operation.id, f"{type(error).__name__}: {error}")
                budget.spend()
            if advanced is None or not advanced.status.finished:
                break
            ended.append(advanced)
        return Turn(account_id, tuple(ended), tuple(removed))

    async def next_turn(self, account_id: str, owner: str) -> bool:
        """After `owner`'s turn ended: while the account has an operation or a deleted list
        that its next turn could take, enqueue that turn (behind the jobs queued meanwhile);
        True if enqueued. Work started while the turn was ending found the account's job
        still there and enqueued nothing: this sees it."""
        oldest = await self.ports.operations.oldest_active(account_id, 1)
        if not (
            oldest and oldest[0].claimable_by(owner, self.ports.clock.now())
        ) and not await self.list_deletions.waiting(account_id, owner):
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
        """Give a job to each account whose work has no live one: operations and list
        deletions persisted but never queued (or whose job Redis lost), and those a dead or
        stalled worker left past its lease. Returns the ids of the operations and deleted
        lists of the accounts that got a job."""
        now = self.ports.clock.now()
        left: dict[str, list[str]] = {}
        #: accounts whose work a job held, and let the lease run out: that job is replaced
        held: set[str] = set()
        for operation in await self.ports.operations.stale(now - ENQUEUE_GRACE, now):
            left.setdefault(operation.account_id, []).append(operation.id)
            if operation.status is BulkOperationStatus.RUNNING:
                held.add(operation.account_id)
        for deletion in await self.ports.lists.stale_deletions(now - ENQUEUE_GRACE, now):
            left.setdefault(deletion.account_id, []).append(deletion.list_id)
            if deletion.owner is not None:
                held.add(deletion.account_id)
            await self.ports.jobs.mark_list_deletions(deletion.account_id)
        handed: list[str] = []
        for account_id, ids in left.items():
            jobs = self.ports.jobs
            if account_id in held:
                enqueued = await jobs.replace_account_bulk(account_id)
            else:
                enqueued = await jobs.enqueue_account_bulk(account_id)
            if not enqueued:
                continue  # the account's job waits for a free worker: it takes them up
            log.warning(
                "bulk work of account %s (%s) %s with no live worker: a new job takes it",
                account_id,
                ", ".join(ids),
                "was left past its lease" if account_id in held else "was never queued",
            )
            handed += ids
        return handed

    async def _claim_oldest(self, account_id: str, owner: str) -> tuple[BulkOperation | None, bool]:
        """The account's oldest active operation, claimed for `owner` (None when there is
        none, or another run holds it: an account's operations run one at a time), and whether
        another one waited behind it (one started later is the next turn's: `next_turn`)."""
        oldest = await self.ports.operations.oldest_active(account_id, 2)
        if not oldest:
            return None, False
        now = self.ports.clock.now()
        claimed = await self.ports.operations.claim(
            oldest[0].id, owner, now, now + self.settings.lease
        )
        return claimed, len(oldest) > 1

    async def _advance(
        self, operation: BulkOperation, owner: str, budget: Budget
    ) -> BulkOperation | None:
        """Apply the operation's pages while the budget lasts, and end it after its last: the
        operation as it then stands (still RUNNING under `owner` when the budget ran out
        first), None when another run holds it now."""
        if not operation.resolved:
            operation = await self.ports.bulk_pages.resolve(operation, self.settings.chunk)
            budget.spend()
        run = PageRun(operation.id, owner, operation)
        while not budget.spent(self.ports.clock.now()):
            if not await self.ports.retrying_on(
                operation.account_id, lambda: self._chunk(run, budget.pages)
            ):
                return await self._pages_ended(run, owner)
            budget.spend()
        known = run.operation
        if (
            known is not None
            and not run.applied_all
            and known.progress.processed < known.progress.matched
        ):
            return known  # pages are left: the account's next turn resumes it
        return await self._pages_ended(run, owner)

    async def _pages_ended(self, run: PageRun, owner: str) -> BulkOperation | None:
        """No page is left for the run: it ends the operation it applied to the end, and any
        other (cancelled, handed on, left by an earlier run) as it is stored now."""
        if run.applied_all:
            assert run.operation is not None
            return await self._finish(run.operation, owner)
        return await self._stopped(await self.ports.operations.load(run.operation_id), owner)

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
        return await self._finish(stopped, owner)

    async def _chunk(self, run: PageRun, pages_left: int) -> bool:
        """Apply the run's next page; False when none is left, the operation stopped, or
        another run holds it now."""
        batch = await self.next_page(run, pages_left)
        if batch is None:
            return False
        try:
            await self.ports.ledger.commit(batch, BulkProgressed(run.operation_id))
        except StaleWrite:
            run.forget()
            raise
        run.committed(batch)
        return True

    async def next_page(self, run: PageRun, pages_left: int = 1) -> ChangeBatch | None:
        """The run's next page's changes as its owner would commit them (only while it holds
        the lease and the page is still next); None when there is nothing for it to apply.
        What the run does not know it reads: the operation, the next pages (up to
        `pages_left`, at most `read_ahead`, in one read) and the account."""
        operation = run.operation or await self.ports.operations.load(run.operation_id)
        if (
            operation is None
            or operation.status is not BulkOperationStatus.RUNNING
            or operation.lease_owner != run.owner
        ):
            return None
        run.operation = operation
        if not run.ahead and not run.read_to_end:
            count = max(1, min(pages_left, self.settings.read_ahead))
            if operation.page_count is not None:  # not past the last page
                count = min(count, operation.page_count - operation.next_page)
            if count > 0:
                run.ahead.extend(await self.ports.bulk_pages.pages_to_apply(operation, count))
            last = operation.next_page + len(run.ahead)
            run.read_to_end = len(run.ahead) < count or last == operation.page_count
        if not run.ahead or run.ahead[0].number != operation.next_page:
            return None
        page = run.ahead.popleft()
        now = self.ports.clock.now()
        # a page with any transition (refused ones too) writes the account, on its revision
        account = run.account or await self.ports.account(operation.account_id)
        outcome = decide_chunk(
            account, page.contacts, operation.target, operation.status_source, now
        )
        run.account = account
        chunk = BulkChunk(
            operation_id=operation.id,
            owner=run.owner,
            page=page.number,
            progress=outcome.progress,
            lease_until=now + self.settings.lease,
        )
        # P4: a page names the user who started the operation, and the contacts it changed
        written = [operation.id, *(u.after.id for u in outcome.updates)]
        audit = self.ports.audit_entry(
            operation.account_id, Actor(operation.requested_by), "bulkOperation", written
        )
        return replace(batch_for(account, outcome.change, outcome.updates, audit), bulk=chunk)

    async def _finish(self, operation: BulkOperation, owner: str) -> BulkOperation | None:
        """Every page is applied: the pages go first, so a COMPLETED operation has left nothing
        behind (a run cut short in between finds no page left and completes it the same way).
        It completes only while `owner` holds it; None when another run does now."""
        await self.ports.bulk_pages.drop_pages(operation.id)
        ended: BulkOperation | None = operation
        if operation.status is not BulkOperationStatus.CANCELLED:
            ended = await self.ports.operations.finish(
                operation,
                BulkOperationStatus.COMPLETED,
                with_missing(operation.progress),
                self.ports.clock.now(),
                owner=owner,
            )
            if ended is None:  # cancelled meanwhile (as it ended), or handed on
                ended = await self.ports.operations.load(operation.id)
                if ended is not None and not ended.status.finished:
                    return None  # another run holds it, and ends it the same way
        await self.ports.ledger.tell(operation.account_id, BulkProgressed(operation.id))
        return ended or operation

"""In-memory bulk operations: the same promises as storage.bulk_operations, over FakeData."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.bulk import (
    BulkOperation,
    BulkOperationStatus,
    BulkProgress,
    Selection,
)
from marketing_contacts.domain.conditions import all_hold
from marketing_contacts.domain.contacts import Contact
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page
from marketing_contacts.services.ports.bulk import BulkPage, IdempotencyKey, TooManyActive
from tests.support.waiting import let_others_run
from tests.unit.services.fake_audit import record
from tests.unit.services.fake_background import active_operations
from tests.unit.services.fake_paging import keyset_page, object_id

if TYPE_CHECKING:
    from tests.unit.services.fakes import FakeData

ACTIVE = (BulkOperationStatus.QUEUED, BulkOperationStatus.RUNNING)


def selected(
    data: FakeData, scope: Scope, selection: Selection, created_until: datetime | None
) -> list[Contact]:
    conditions = [*scope.conditions(), *selection.conditions(created_until)]
    return sorted(
        (
            c
            for c in data.contacts.values()
            if c.account_id == scope.account_id and all_hold(conditions, c)
        ),
        key=lambda c: c.id,
    )


def _operation_id(operation: BulkOperation) -> str:
    return operation.id


class FakeBulkOperations:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    async def insert(
        self,
        operation: BulkOperation,
        key: IdempotencyKey | None,
        max_active: int | None = None,
        audit: AuditEntry | None = None,
    ) -> IdempotencyKey | None:
        await let_others_run()
        if key is not None:
            held = await FakeIdempotencyKeys(self.data).held(
                operation.account_id, key.key, operation.created_at
            )
            if held is not None:
                return held
        if max_active is not None and self._active(operation.account_id) >= max_active:
            raise TooManyActive(operation.account_id)
        if key is not None:
            self.data.idempotency[(operation.account_id, key.key)] = key
        self.data.operations[operation.id] = operation
        record(self.data, audit)
        return None

    def _active(self, account_id: str) -> int:
        """P5: the account's queued or running background operations of every kind."""
        return active_operations(self.data, account_id)

    def _seen(self, scope: Scope) -> list[BulkOperation]:
        return [
            o
            for o in self.data.operations.values()
            if o.account_id == scope.account_id and scope.sees(o.requested_by)
        ]

    async def get(self, scope: Scope, operation_id: str) -> BulkOperation | None:
        found = self.data.operations.get(operation_id)
        return found if found is not None and found in self._seen(scope) else None

    async def load(self, operation_id: str) -> BulkOperation | None:
        await let_others_run()
        return self.data.operations.get(operation_id)

    async def page(self, scope: Scope, first: int, after: str | None) -> Page[BulkOperation]:
        await let_others_run()
        mine = self._seen(scope)
        return keyset_page(mine, _operation_id, object_id, "bulk", first, after, descending=True)

    async def count(self, scope: Scope) -> int:
        await let_others_run()
        return len(self._seen(scope))

    async def claim(
        self, operation_id: str, owner: str, now: datetime, lease_until: datetime
    ) -> BulkOperation | None:
        await let_others_run()
        op = self.data.operations.get(operation_id)
        if op is None:
            return None
        free = op.status is BulkOperationStatus.QUEUED or (
            op.status is BulkOperationStatus.RUNNING
            and ((op.lease_until is not None and op.lease_until < now) or op.lease_owner == owner)
        )
        if not free:
            return None
        op = replace(
            op,
            status=BulkOperationStatus.RUNNING,
            lease_until=lease_until,
            lease_owner=owner,
            started_at=op.started_at or now,
        )
        self.data.operations[operation_id] = op
        return op

    async def finish(
        self,
        operation: BulkOperation,
        status: BulkOperationStatus,
        progress: BulkProgress,
        now: datetime,
        failure: str | None = None,
        owner: str | None = None,
    ) -> BulkOperation | None:
        current = self.data.operations.get(operation.id)
        if current is None or current.status not in ACTIVE:
            return None
        if owner is not None and current.lease_owner != owner:
            return None
        done = replace(
            current,
            status=status,
            progress=progress,
            finished_at=now,
            failure=failure,
            lease_until=None,
        )
        self.data.operations[operation.id] = done
        return done

    async def cancel(
        self, scope: Scope, operation_id: str, now: datetime, audit: AuditEntry | None = None
    ) -> BulkOperation | None:
        current = await self.get(scope, operation_id)
        if current is None or current.status not in ACTIVE:
            return None
        done = replace(current, status=BulkOperationStatus.CANCELLED, finished_at=now)
        self.data.operations[operation_id] = done
        record(self.data, audit)
        return done

    async def stale(self, queued_before: datetime, now: datetime) -> list[BulkOperation]:
        return [
            o
            for o in self.data.operations.values()
            if (o.status is BulkOperationStatus.QUEUED and o.created_at < queued_before)
            or (
                o.status is BulkOperationStatus.RUNNING
                and o.lease_until is not None
                and o.lease_until < now
            )
        ]

    async def oldest_active(self, account_id: str, first: int) -> list[BulkOperation]:
        await let_others_run()
        active = [
            o
            for o in self.data.operations.values()
            if o.account_id == account_id and o.status in ACTIVE
        ]
        return sorted(active, key=lambda o: o.id)[:first]


class FakeIdempotencyKeys:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    async def held(self, account_id: str, key: str, now: datetime) -> IdempotencyKey | None:
        held = self.data.idempotency.get((account_id, key))
        return held if held is not None and held.expires_at > now else None


class FakeBulkPages:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    async def resolve(self, operation: BulkOperation, page_size: int) -> BulkOperation:
        ids = [
            c.id
            for c in selected(self.data, operation.scope, operation.selection, operation.created_at)
        ]
        if operation.selection.ids is not None:
            ids = operation.selection.in_selection_order(set(ids))
        resolution = self.data.new_id()
        pages = [ids[at : at + page_size] for at in range(0, len(ids), page_size)]
        self.data.pages.setdefault(operation.id, {})[resolution] = pages
        await let_others_run()
        current = self.data.operations[operation.id]
        if current.resolved:  # another run resolved it meanwhile: its pages stand
            del self.data.pages[operation.id][resolution]
            return current
        current = replace(
            current,
            resolved=True,
            resolution=resolution,
            next_page=0,
            page_count=len(pages),
            progress=replace(current.progress, matched=len(ids)),
        )
        self.data.operations[operation.id] = current
        return current

    async def pages_to_apply(self, operation: BulkOperation, count: int) -> list[BulkPage]:
        await let_others_run()
        pages = self.data.pages.get(operation.id, {}).get(operation.resolution or "", [])
        first = operation.next_page
        return [
            BulkPage(
                number,
                [
                    contact
                    for cid in pages[number]
                    if (contact := self.data.contacts.get(cid)) is not None
                    and contact.account_id == operation.account_id
                    and operation.scope.sees(contact.owner_id)
                ],
            )
            for number in range(first, min(first + count, len(pages)))
        ]

    async def drop_pages(self, operation_id: str) -> None:
        self.data.pages.pop(operation_id, None)

    async def holds(self, operation: BulkOperation, contact_id: str) -> bool:
        await let_others_run()
        if not operation.resolved:
            return False
        pages = self.data.pages.get(operation.id, {}).get(operation.resolution or "", [])
        return any(contact_id in page for page in pages[operation.next_page :])


class FakeJobQueue:
    """The job queue as arq keeps it: a line of job ids, first in first out; an id is refused
    while its job waits or runs, and an ended update-date or reconciliation job keeps its id
    (arq keeps its result), an ended bulk turn does not. `failing` makes the queue unreachable.

    A test plays the workers: `take` the next job, `end` it; `lose` drops everything (Redis
    restarted without its data)."""

    def __init__(self) -> None:
        self.line: list[str] = []
        self.running: set[str] = set()
        self.kept: set[str] = set()
        #: every job id enqueued, in order
        self.enqueued: list[str] = []
        self.generations: dict[str, int] = {}
        self.failing = False
        #: accounts marked as having list deletions
        self.list_deletions: set[str] = set()

    def bulk_job(self, account_id: str) -> str:
        """The id of the account's current bulk job (its generation moves on when replaced)."""
        return f"bulk:{account_id}:{self.generations.get(account_id, 0)}"

    def is_current(self, job: str) -> bool:
        return job == self.bulk_job(account_of(job))

    async def enqueue_account_bulk(self, account_id: str) -> bool:
        return self._enqueue(self.bulk_job(account_id))

    async def replace_account_bulk(self, account_id: str) -> bool:
        job = self.bulk_job(account_id)
        if job in self.line:
            return False
        if job in self.running:
            self.generations[account_id] = self.generations.get(account_id, 0) + 1
        return self._enqueue(self.bulk_job(account_id))

    async def mark_list_deletions(self, account_id: str) -> None:
        if self.failing:
            raise ConnectionError("the job queue is unreachable")
        self.list_deletions.add(account_id)

    async def take_list_deletions_mark(self, account_id: str) -> bool:
        if account_id not in self.list_deletions:
            return False
        self.list_deletions.discard(account_id)
        return True

    async def enqueue_update_dates(self, account_id: str, update_date: date) -> bool:
        return self._enqueue(f"update-dates:{account_id}:{update_date.isoformat()}")

    async def enqueue_reconciliation(self, account_id: str, day: date) -> bool:
        return self._enqueue(f"reconcile:{account_id}:{day.isoformat()}")

    async def enqueue_export(self, export_id: str) -> bool:
        return self._enqueue(f"export:{export_id}")

    async def enqueue_import(self, import_id: str, attempt: int = 0) -> bool:
        return self._enqueue(f"import:{import_id}:{attempt}")

    def _enqueue(self, job: str) -> bool:
        if self.failing:
            raise ConnectionError("the job queue is unreachable")
        if job in self.line or job in self.running or job in self.kept:
            return False
        self.line.append(job)
        self.enqueued.append(job)
        return True

    def take(self) -> str:
        """A worker picks the first job of the line."""
        job = self.line.pop(0)
        self.running.add(job)
        return job

    def end(self, job: str) -> None:
        self.running.discard(job)
        if not job.startswith(("bulk:", "export:", "import:")):  # none keeps a result
            self.kept.add(job)

    def lose(self) -> None:
        self.line.clear()
        self.running.clear()
        self.kept.clear()


def account_of(job: str) -> str:
    """The account a job id names (`kind:account:...`)."""
    return job.split(":")[1]

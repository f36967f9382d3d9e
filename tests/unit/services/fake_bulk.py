"""In-memory bulk operations: the same promises as storage.bulk_operations, over FakeData."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from marketing_contacts.domain.bulk import (
    BulkOperation,
    BulkOperationStatus,
    BulkProgress,
    Selection,
)
from marketing_contacts.domain.conditions import all_hold
from marketing_contacts.domain.contacts import Contact
from marketing_contacts.services.paging import Page
from marketing_contacts.services.ports.bulk import BulkPage, IdempotencyKey
from tests.support.waiting import let_others_run
from tests.unit.services.fake_paging import keyset_page, object_id

if TYPE_CHECKING:
    from tests.unit.services.fakes import FakeData

ACTIVE = (BulkOperationStatus.QUEUED, BulkOperationStatus.RUNNING)


def selected(
    data: FakeData, account_id: str, selection: Selection, created_until: datetime | None
) -> list[Contact]:
    conditions = selection.conditions(created_until)
    return sorted(
        (
            c
            for c in data.contacts.values()
            if c.account_id == account_id and all_hold(conditions, c)
        ),
        key=lambda c: c.id,
    )


def add_progress(total: BulkProgress, chunk: BulkProgress) -> BulkProgress:
    failures = dict(total.failures)
    for code, n in chunk.failures.items():
        failures[code] = failures.get(code, 0) + n
    return replace(
        total,
        processed=total.processed + chunk.processed,
        changed_now=total.changed_now + chunk.changed_now,
        became_pending=total.became_pending + chunk.became_pending,
        unchanged=total.unchanged + chunk.unchanged,
        failed=total.failed + chunk.failed,
        failures=failures,
    )


def _operation_id(operation: BulkOperation) -> str:
    return operation.id


class FakeBulkOperations:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    async def insert(
        self, operation: BulkOperation, key: IdempotencyKey | None
    ) -> IdempotencyKey | None:
        await let_others_run()
        if key is not None:
            held = await FakeIdempotencyKeys(self.data).held(
                operation.account_id, key.key, operation.created_at
            )
            if held is not None:
                return held
            self.data.idempotency[(operation.account_id, key.key)] = key
        self.data.operations[operation.id] = operation
        return None

    async def get(self, account_id: str, operation_id: str) -> BulkOperation | None:
        found = self.data.operations.get(operation_id)
        return found if found is not None and found.account_id == account_id else None

    async def load(self, operation_id: str) -> BulkOperation | None:
        await let_others_run()
        return self.data.operations.get(operation_id)

    async def page(self, account_id: str, first: int, after: str | None) -> Page[BulkOperation]:
        await let_others_run()
        mine = [o for o in self.data.operations.values() if o.account_id == account_id]
        return keyset_page(mine, _operation_id, object_id, "bulk", first, after, descending=True)

    async def count(self, account_id: str) -> int:
        await let_others_run()
        return sum(o.account_id == account_id for o in self.data.operations.values())

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
    ) -> BulkOperation | None:
        current = self.data.operations.get(operation.id)
        if current is None or current.status not in ACTIVE:
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
        self, account_id: str, operation_id: str, now: datetime
    ) -> BulkOperation | None:
        current = await self.get(account_id, operation_id)
        if current is None or current.status not in ACTIVE:
            return None
        done = replace(current, status=BulkOperationStatus.CANCELLED, finished_at=now)
        self.data.operations[operation_id] = done
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

    async def mark_enqueued(self, operation_id: str) -> int:
        op = self.data.operations[operation_id]
        self.data.operations[operation_id] = replace(op, enqueued=op.enqueued + 1)
        return op.enqueued + 1


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
            for c in selected(
                self.data, operation.account_id, operation.selection, operation.created_at
            )
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
            progress=replace(current.progress, matched=len(ids)),
        )
        self.data.operations[operation.id] = current
        return current

    async def page_to_apply(self, operation: BulkOperation) -> BulkPage | None:
        await let_others_run()
        pages = self.data.pages.get(operation.id, {}).get(operation.resolution or "", [])
        if operation.next_page >= len(pages):
            return None
        ids = pages[operation.next_page]
        contacts = [self.data.contacts[cid] for cid in ids if cid in self.data.contacts]
        return BulkPage(operation.next_page, contacts)

    async def drop_pages(self, operation_id: str) -> None:
        self.data.pages.pop(operation_id, None)


class FakeJobQueue:
    """Records what was enqueued; `failing` makes the queue unreachable; a job is waiting until
    a test `take`s it (a worker picked it up) or `lose`s it (the queue's data was lost). Like
    arq, the queue ignores a hand-over whose job it still holds, waiting or run."""

    def __init__(self) -> None:
        self.enqueued: list[tuple[str, int]] = []
        self.waiting: set[tuple[str, int]] = set()
        #: the jobs the queue knows: waiting, or run (arq keeps their results)
        self.held: set[tuple[str, int]] = set()
        self.failing = False

    async def enqueue_bulk_operation(self, operation_id: str, attempt: int) -> None:
        if self.failing:
            raise ConnectionError("the job queue is unreachable")
        job = (operation_id, attempt)
        if job in self.held:
            return
        self.held.add(job)
        self.enqueued.append(job)
        self.waiting.add(job)

    async def is_waiting(self, operation_id: str, attempt: int) -> bool:
        return (operation_id, attempt) in self.waiting

    def take(self, operation_id: str) -> None:
        self.waiting = {job for job in self.waiting if job[0] != operation_id}

    def lose(self, operation_id: str) -> None:
        self.take(operation_id)
        self.held = {job for job in self.held if job[0] != operation_id}

"""Bulk status changes, the client's side (B1-B3, B5, P5): preview, start, cancel, read."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from marketing_contacts.domain.accounts import check_statuses_settable
from marketing_contacts.domain.bulk import (
    MAX_ACTIVE_OPERATIONS,
    BulkOperation,
    BulkOperationStatus,
    BulkProgress,
    Selection,
    StatusChangePreview,
    check_bulk_source,
    check_cancellable,
    check_confirmation,
    check_idempotency_key,
    preview_status_change,
)
from marketing_contacts.domain.errors import (
    MAX_ID_LENGTH,
    ErrorCode,
    check_id,
    check_length,
    quoted,
    refuse,
)
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.permissions import check_status_permission
from marketing_contacts.domain.statuses import MarketingStatus, StatusSourceType
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.paging import Page, paged
from marketing_contacts.services.ports.bulk import IdempotencyKey, TooManyActive
from marketing_contacts.services.ports.events import BulkProgressed
from marketing_contacts.services.selections import check_live_list
from marketing_contacts.services.wiring import Ports

log = logging.getLogger(__name__)
IDEMPOTENCY_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class BulkRequest:
    selection: Selection
    target: MarketingStatus
    confirm_count: int | None = None
    idempotency_key: str | None = None
    source_id: str | None = None
    #: S7: BULK_OPERATION, or WORKFLOW for a workflow's action (`source_id` names it)
    source_type: StatusSourceType = StatusSourceType.BULK_OPERATION

    def fingerprint(self) -> str:
        """B5: what 'the same input' means, as a stable hash."""
        selection = self.selection
        body = {
            "ids": None if selection.ids is None else list(selection.ids),
            "filter": None if selection.filter is None else _filter_body(selection.filter),
            "list_id": selection.list_id,
            "unengaged": selection.unengaged,
            "target": self.target.value,
            "confirm_count": self.confirm_count,
            "source_id": self.source_id,
        }
        if self.source_type is not StatusSourceType.BULK_OPERATION:  # keys held before S7 hold
            body["source_type"] = self.source_type.value
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _filter_body(where: ContactFilter) -> dict[str, str]:
    return {k: str(v) for k, v in vars(where).items() if v is not None}


class BulkService:
    def __init__(self, ports: Ports, max_active: int = MAX_ACTIVE_OPERATIONS) -> None:
        self.ports = ports
        #: P5: operations an account may have queued or running at once
        self.max_active = max_active

    async def preview(
        self, caller: Caller, selection: Selection, target: MarketingStatus
    ) -> StatusChangePreview:
        await check_live_list(self.ports, caller, selection)
        account = await self.ports.account(caller.account_id)
        check_statuses_settable(account, "status")
        selected = await self.ports.contacts.count_by_state(caller.scope, selection)
        return preview_status_change(account, selected, target)

    async def start(self, caller: Caller, request: BulkRequest) -> BulkOperation:
        """Persist the operation first, then enqueue it (a sweeper enqueues what this missed).

        B5: a key already held answers before anything else is checked, so the retry of a
        request whose answer was lost gets its operation even after the contacts moved on.
        P5: past `max_active` operations queued or running, TOO_MANY and nothing persisted."""
        check_length(request.source_id, MAX_ID_LENGTH, "source_id")
        check_bulk_source(request.source_type, request.source_id)
        check_idempotency_key(request.idempotency_key)
        if request.idempotency_key is not None:
            held = await self.ports.idempotency.held(
                caller.account_id, request.idempotency_key, self.ports.clock.now()
            )
            if held is not None:
                return await self._replay(caller, held, request)
        account = await self.ports.account(caller.account_id)
        check_statuses_settable(account, "status")
        check_status_permission(
            request.target,
            request.source_type,
            marketing_access=caller.marketing_access,
            edition=account.edition,
            source_field=("source_type",),
        )
        preview = await self.preview(caller, request.selection, request.target)
        check_confirmation(request.target, request.confirm_count, preview.matched)
        now = self.ports.clock.now()
        operation = BulkOperation(
            id=self.ports.ids.new_id(),
            account_id=caller.account_id,
            target=request.target,
            selection=request.selection,
            status=BulkOperationStatus.QUEUED,
            created_at=now,
            requested_by=caller.user_id,
            owners=caller.scope.owners,
            progress=BulkProgress(matched=preview.matched),
            source_id=request.source_id,
            source_type=request.source_type,
        )
        key = None
        if request.idempotency_key is not None:
            key = IdempotencyKey(
                request.idempotency_key,
                request.fingerprint(),
                operation.id,
                now + IDEMPOTENCY_WINDOW,
            )
        try:
            audit = self.ports.audit_entry(
                caller.account_id, caller.actor, "startBulkStatusChange", [operation.id]
            )
            held = await self.ports.operations.insert(operation, key, self.max_active, audit)
        except TooManyActive:
            raise refuse(
                ErrorCode.TOO_MANY,
                f"the account has {self.max_active} background operations queued or running, "
                "the most it may have: start this one once one of them has ended",
            ) from None
        if held is not None:
            return await self._replay(caller, held, request)
        await self._enqueue(operation)
        return operation

    async def _enqueue(self, operation: BulkOperation) -> None:
        """Have the account's job take the operation up in its turn (principle 5: it was
        persisted first); a failure leaves it QUEUED for the sweeper."""
        try:
            await self.ports.jobs.enqueue_account_bulk(operation.account_id)
        except Exception:
            log.exception(
                "enqueueing bulk operation %s failed; the sweeper will retry", operation.id
            )

    async def cancel(self, caller: Caller, operation_id: str) -> BulkOperation:
        """Stops the operation after its current chunk; what was applied stays applied."""
        check_id(operation_id, "id")
        audit = self.ports.audit_entry(
            caller.account_id, caller.actor, "cancelBulkOperation", [operation_id]
        )
        cancelled = await self.ports.operations.cancel(
            caller.scope, operation_id, self.ports.clock.now(), audit
        )
        if cancelled is not None:
            await self.ports.ledger.tell(caller.account_id, BulkProgressed(operation_id))
            return cancelled
        check_cancellable(await self._existing(caller, operation_id))
        raise refuse(ErrorCode.CONFLICT, "the operation ended meanwhile", "id")

    async def get(self, caller: Caller, operation_id: str) -> BulkOperation | None:
        check_id(operation_id, "id")
        return await self.ports.operations.get(caller.scope, operation_id)

    async def page(self, caller: Caller, first: int, after: str | None) -> Page[BulkOperation]:
        return await paged(first, after, self.ports.operations.page(caller.scope, first, after))

    async def count(self, caller: Caller) -> int:
        return await self.ports.operations.count(caller.scope)

    async def _existing(self, caller: Caller, operation_id: str) -> BulkOperation:
        operation = await self.get(caller, operation_id)
        if operation is None:
            raise refuse(
                ErrorCode.NOT_FOUND, f"operation {quoted(operation_id)} does not exist", "id"
            )
        return operation

    async def _replay(
        self, caller: Caller, held: IdempotencyKey, request: BulkRequest
    ) -> BulkOperation:
        """B5: same key and input within 24 hours returns the same operation; other input is
        a CONFLICT."""
        if held.input_hash != request.fingerprint():
            raise refuse(
                ErrorCode.CONFLICT,
                "this idempotency key was used with another input in the last 24 hours",
                "idempotency_key",
            )
        return await self._existing(caller, held.operation_id)

"""Bulk status changes in the schema: selections, previews, operations (B1-B5)."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

import strawberry

from marketing_contacts.domain.bulk import BulkOperation as DomainBulkOperation
from marketing_contacts.domain.bulk import BulkOperationStatus, Selection
from marketing_contacts.domain.bulk import StatusChangePreview as DomainPreview
from marketing_contacts.domain.statuses import MarketingStatus
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.errors import UserError, attempt, user_errors
from marketing_contacts.schema.inputs import ContactFilterInput
from marketing_contacts.schema.types import PageInfo
from marketing_contacts.services.bulk import BulkRequest

T = TypeVar("T")


@strawberry.input(one_of=True, description="Exactly one of the fields.")
class ContactSelection:
    ids: list[strawberry.ID] | None = strawberry.UNSET
    filter: ContactFilterInput | None = strawberry.UNSET
    list_id: strawberry.ID | None = strawberry.UNSET
    unengaged: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="True: marketing contacts whose email hard-bounced or who unsubscribed "
        "from all email.",
    )

    def to_selection(self) -> Selection:
        ids, where, list_id = _given(self.ids), _given(self.filter), _given(self.list_id)
        return Selection(
            ids=None if ids is None else tuple(str(i) for i in ids),
            filter=None if where is None else where.to_filter(),
            list_id=None if list_id is None else str(list_id),
            unengaged=_given(self.unengaged),
        )


def _given(value: T | None) -> T | None:
    """A @oneOf field left out is UNSET (it may have no default); read it as None."""
    return None if value is strawberry.UNSET else value


@strawberry.input
class BulkStatusChangeInput:
    selection: ContactSelection
    status: MarketingStatus
    confirm_count: int | None = strawberry.field(
        default=None,
        description="Required when status is MARKETING: the number of contacts the caller "
        "expects to change; a mismatch with the preview's matched count is "
        "CONFIRMATION_MISMATCH.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Same key and same input within 24 hours: the same operation is returned, "
        "nothing runs twice. Same key, other input: CONFLICT.",
    )
    source_id: str | None = None

    def to_request(self) -> BulkRequest:
        return BulkRequest(
            selection=self.selection.to_selection(),
            target=self.status,
            confirm_count=self.confirm_count,
            idempotency_key=self.idempotency_key,
            source_id=self.source_id,
        )


@strawberry.type
class StatusChangePreview:
    matched: int
    change_now: int = strawberry.field(
        description="Contacts whose status changes now (non-marketing to marketing, or pending "
        "back to marketing)."
    )
    become_pending: int = strawberry.field(
        description="Marketing contacts that would wait for the next update date."
    )
    unchanged: int
    marketing_contacts_after: int
    projected_after_next_update: int
    tier_limit_after: int
    would_upgrade: bool
    would_be_blocked: bool = strawberry.field(
        description="True where the account's upgrade policy is BLOCK and the change does not "
        "fit the tier."
    )
    blocked_by_tier: int = strawberry.field(
        description="Non-marketing contacts that would stay non-marketing because they do not "
        "fit a BLOCK tier; the operation reports them as failed."
    )

    @classmethod
    def of(cls, preview: DomainPreview) -> StatusChangePreview:
        return cls(**vars(preview))


@strawberry.type
class BulkOperation:
    id: strawberry.ID
    status: BulkOperationStatus
    target_status: MarketingStatus
    matched: int = strawberry.field(
        description="Contacts the selection matched when the operation started."
    )
    processed: int
    changed_now: int
    became_pending: int
    unchanged: int
    failed: int = strawberry.field(
        description="Contacts left unchanged because of an error or the tier limit; see errors."
    )
    progress: float = strawberry.field(description="processed / matched, 0 to 1.")
    errors: list[UserError]
    failure_reason: str | None = strawberry.field(
        description="Why the operation FAILED, when it did."
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, operation: DomainBulkOperation) -> BulkOperation:
        progress = operation.progress
        return cls(
            id=strawberry.ID(operation.id),
            status=operation.status,
            target_status=operation.target,
            matched=progress.matched,
            processed=progress.processed,
            changed_now=progress.changed_now,
            became_pending=progress.became_pending,
            unchanged=progress.unchanged,
            failed=progress.failed,
            progress=progress.progress,
            errors=user_errors(progress.errors()),
            failure_reason=operation.failure,
            created_at=operation.created_at,
            started_at=operation.started_at,
            finished_at=operation.finished_at,
        )


@strawberry.type
class BulkOperationEdge:
    cursor: str
    node: BulkOperation


@strawberry.type
class BulkOperationConnection:
    edges: list[BulkOperationEdge]
    page_info: PageInfo


@strawberry.type
class BulkOperationPayload:
    bulk_operation: BulkOperation | None
    user_errors: list[UserError]


@strawberry.type
class BulkQueries:
    @strawberry.field
    async def preview_status_change(
        self, info: Info, selection: ContactSelection, status: MarketingStatus
    ) -> StatusChangePreview:
        ctx = info.context
        preview = await ctx.services.bulk.preview(ctx.caller, selection.to_selection(), status)
        return StatusChangePreview.of(preview)

    @strawberry.field
    async def bulk_operation(self, info: Info, id: strawberry.ID) -> BulkOperation | None:
        found = await info.context.services.bulk.get(info.context.caller, str(id))
        return None if found is None else BulkOperation.of(found)

    @strawberry.field
    async def bulk_operations(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> BulkOperationConnection:
        ctx = info.context
        page = await ctx.services.bulk.page(ctx.caller, 20 if first is None else first, after)
        edges = [
            BulkOperationEdge(cursor=cursor, node=BulkOperation.of(item))
            for item, cursor in zip(page.items, page.cursors, strict=True)
        ]
        return BulkOperationConnection(edges=edges, page_info=PageInfo.of(page))


async def _start(info: Info, request: BulkStatusChangeInput) -> DomainBulkOperation:
    return await info.context.services.bulk.start(info.context.caller, request.to_request())


def _payload(result: DomainBulkOperation | list[UserError]) -> BulkOperationPayload:
    if isinstance(result, list):
        return BulkOperationPayload(bulk_operation=None, user_errors=result)
    return BulkOperationPayload(bulk_operation=BulkOperation.of(result), user_errors=[])


@strawberry.type
class BulkMutations:
    @strawberry.mutation(
        description="Queues the change as a background operation and returns at once."
    )
    async def start_bulk_status_change(
        self, info: Info, input: BulkStatusChangeInput
    ) -> BulkOperationPayload:
        return _payload(await attempt(info, _start(info, input)))

    @strawberry.mutation
    async def cancel_bulk_operation(self, info: Info, id: strawberry.ID) -> BulkOperationPayload:
        ctx = info.context
        return _payload(await attempt(info, ctx.services.bulk.cancel(ctx.caller, str(id))))

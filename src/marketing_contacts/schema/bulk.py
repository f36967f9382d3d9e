"""Bulk status changes in the schema: selections, previews, operations (B1-B5)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypeVar

import strawberry

from marketing_contacts.domain.bulk import BulkOperation as DomainBulkOperation
from marketing_contacts.domain.bulk import BulkOperationStatus, Selection
from marketing_contacts.domain.bulk import StatusChangePreview as DomainPreview
from marketing_contacts.domain.statuses import MarketingStatus, StatusSourceType
from marketing_contacts.schema.connections import After, Connection, First, connection, first_or
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.errors import UserError, attempt, user_errors
from marketing_contacts.schema.filters import ContactFilterInput
from marketing_contacts.services.bulk import BulkRequest

T = TypeVar("T")

OperationId = Annotated[strawberry.ID, strawberry.argument(description="The operation's id.")]


@strawberry.input(
    one_of=True,
    description="Which contacts a bulk change reads: exactly one of the fields. Resolved when "
    "the operation starts; contacts created later are not included.",
)
class ContactSelection:
    ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET,
        description="These contacts of the account, at most 10,000; ids of no contact of the "
        "account are left out.",
    )
    filter: ContactFilterInput | None = strawberry.field(
        default=strawberry.UNSET, description="The contacts that match the filter."
    )
    list_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The members of this list of the account."
    )
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


@strawberry.input(description="A bulk status change to start.")
class BulkStatusChangeInput:
    selection: ContactSelection = strawberry.field(description="The contacts to change.")
    status: MarketingStatus = strawberry.field(
        description="The status to set; MARKETING needs marketing access and confirmCount."
    )
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
    source_id: str | None = strawberry.field(
        default=None,
        description="An id of the caller's own (a campaign, a workflow), at most 200 "
        "characters, kept with the operation; the contacts' status source is the operation, "
        "or with sourceType WORKFLOW this id (required then).",
    )
    source_type: StatusSourceType | None = strawberry.field(
        default=None,
        description="BULK_OPERATION by default; WORKFLOW for a workflow's action (S7), with "
        "the workflow's id as sourceId.",
    )

    def to_request(self) -> BulkRequest:
        return BulkRequest(
            selection=self.selection.to_selection(),
            target=self.status,
            confirm_count=self.confirm_count,
            idempotency_key=self.idempotency_key,
            source_id=self.source_id,
            source_type=self.source_type or StatusSourceType.BULK_OPERATION,
        )


@strawberry.type(description="What a bulk status change would do, were it started now.")
class StatusChangePreview:
    matched: int = strawberry.field(description="Contacts the selection holds now.")
    change_now: int = strawberry.field(
        description="Contacts whose status changes now (non-marketing to marketing, or pending "
        "back to marketing)."
    )
    become_pending: int = strawberry.field(
        description="Marketing contacts that would wait for the next update date."
    )
    unchanged: int = strawberry.field(
        description="Contacts already in the target state (or that stay pending)."
    )
    marketing_contacts_after: int = strawberry.field(
        description="The account's marketing count after the change."
    )
    projected_after_next_update: int = strawberry.field(
        description="The marketing count right after the next update date, after the change."
    )
    tier_limit_after: int = strawberry.field(
        description="The tier limit after the change: higher when it would upgrade."
    )
    would_upgrade: bool = strawberry.field(
        description="True when the change would exceed the tier and the AUTO policy upgrade it."
    )
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


@strawberry.type(
    description="A bulk status change, applied in the background chunk by chunk; it survives "
    "a worker's restart without applying a contact twice or missing one."
)
class BulkOperation:
    id: strawberry.ID = strawberry.field(description="The operation's id.")
    status: BulkOperationStatus = strawberry.field(description="Where the operation is.")
    target_status: MarketingStatus = strawberry.field(description="The status the operation sets.")
    matched: int = strawberry.field(
        description="Contacts the selection matched when the operation started."
    )
    processed: int = strawberry.field(
        description="Contacts handled so far: changedNow + becamePending + unchanged + failed."
    )
    changed_now: int = strawberry.field(description="Contacts whose status changed at once.")
    became_pending: int = strawberry.field(
        description="Marketing contacts that become non-marketing at the next update date."
    )
    unchanged: int = strawberry.field(description="Contacts already in the target state.")
    failed: int = strawberry.field(
        description="Contacts left unchanged because of an error or the tier limit; see errors."
    )
    progress: float = strawberry.field(description="processed / matched, 0 to 1.")
    errors: list[UserError] = strawberry.field(
        description="Why contacts failed: one error per code, with how many it concerns."
    )
    failure_reason: str | None = strawberry.field(
        description="Why the operation FAILED, when it did."
    )
    created_at: datetime = strawberry.field(description="When the operation was queued.")
    started_at: datetime | None = strawberry.field(
        description="When a worker first took it; null while it is queued."
    )
    finished_at: datetime | None = strawberry.field(
        description="When it completed, failed or was cancelled; null until then."
    )

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


@strawberry.type(description="The result of startBulkStatusChange or cancelBulkOperation.")
class BulkOperationPayload:
    bulk_operation: BulkOperation | None = strawberry.field(
        description="The operation; null when userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was queued or cancelled; empty on success."
    )


Selected = Annotated[
    ContactSelection, strawberry.argument(description="The contacts the change would read.")
]
Target = Annotated[
    MarketingStatus, strawberry.argument(description="The status the change would set.")
]


@strawberry.type
class BulkQueries:
    @strawberry.field(
        description="What a bulk status change of the selection would do; nothing changes."
    )
    async def preview_status_change(
        self, info: Info, selection: Selected, status: Target
    ) -> StatusChangePreview:
        ctx = info.context
        preview = await ctx.services.bulk.preview(ctx.caller, selection.to_selection(), status)
        return StatusChangePreview.of(preview)

    @strawberry.field(
        description="A bulk operation of the caller's account; null when none has this id."
    )
    async def bulk_operation(self, info: Info, id: OperationId) -> BulkOperation | None:
        found = await info.context.services.bulk.get(info.context.caller, str(id))
        return None if found is None else BulkOperation.of(found)

    @strawberry.field(description="The account's bulk operations, newest first.")
    async def bulk_operations(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[BulkOperation]:
        bulk, caller = info.context.services.bulk, info.context.caller
        page = await bulk.page(caller, first_or(first, 20), after)
        return connection(page, BulkOperation.of, lambda: bulk.count(caller))


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
        self,
        info: Info,
        input: Annotated[
            BulkStatusChangeInput, strawberry.argument(description="The change to start.")
        ],
    ) -> BulkOperationPayload:
        return _payload(await attempt(info, _start(info, input)))

    @strawberry.mutation(
        description="Cancels a queued or running operation; what it applied stays applied."
    )
    async def cancel_bulk_operation(self, info: Info, id: OperationId) -> BulkOperationPayload:
        ctx = info.context
        return _payload(await attempt(info, ctx.services.bulk.cancel(ctx.caller, str(id))))

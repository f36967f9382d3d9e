"""Exports in the schema (I6): start one, read it; its file is downloaded over HTTP (http.app)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from marketing_contacts.domain.bulk import BulkOperationStatus
from marketing_contacts.domain.exports import Export as DomainExport
from marketing_contacts.schema.bulk import ContactSelection
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.errors import UserError, attempt

ExportId = Annotated[strawberry.ID, strawberry.argument(description="The export's id.")]


@strawberry.type(
    description="A CSV export of contacts (I6), written in the background; its file can be "
    "downloaded for 7 days, then it is deleted."
)
class Export:
    id: strawberry.ID = strawberry.field(description="The export's id.")
    status: BulkOperationStatus = strawberry.field(
        description="Where the export is: QUEUED, RUNNING, then COMPLETED (or FAILED)."
    )
    rows: int = strawberry.field(
        description="Contacts written to the file (0 until the export is COMPLETED)."
    )
    download_url: str | None = strawberry.field(
        description="Path of the CSV on this API (GET with the same Authorization header) "
        "while it is kept."
    )
    expires_at: datetime | None = strawberry.field(
        description="When the file is deleted: 7 days after it was written; null until then."
    )
    created_at: datetime = strawberry.field(description="When the export was started.")
    finished_at: datetime | None = strawberry.field(
        description="When the file was written (or the export failed); null until then."
    )

    @classmethod
    def of(cls, export: DomainExport, download_url: str | None) -> Export:
        return cls(
            id=strawberry.ID(export.id),
            status=export.status,
            rows=export.rows,
            download_url=download_url,
            expires_at=export.expires_at,
            created_at=export.created_at,
            finished_at=export.finished_at,
        )


@strawberry.type(description="The result of startExport.")
class ExportPayload:
    export: Export | None = strawberry.field(
        description="The export, QUEUED; null when userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was started; empty on success."
    )


@strawberry.input(description="An export to start.")
class StartExportInput:
    selection: ContactSelection = strawberry.field(
        description="The contacts to export, within the caller's visibility (as "
        "startBulkStatusChange selects them)."
    )


def _export(info: Info, export: DomainExport) -> Export:
    return Export.of(export, info.context.services.exports.download_path(export))


@strawberry.type
class ExportQueries:
    @strawberry.field(
        description="An export of the caller's account that the caller sees (an export is "
        "its requester's record); null when none has this id."
    )
    async def export(self, info: Info, id: ExportId) -> Export | None:
        found = await info.context.services.exports.get(info.context.caller, str(id))
        return None if found is None else _export(info, found)


@strawberry.type
class ExportMutations:
    @strawberry.mutation(
        description="Queues a CSV export of the selection (I6) and returns at once; at most 5 "
        "background operations (bulk changes, imports, exports) are queued or running per "
        "account (P5: TOO_MANY)."
    )
    async def start_export(
        self,
        info: Info,
        input: Annotated[StartExportInput, strawberry.argument(description="The export to start.")],
    ) -> ExportPayload:
        ctx = info.context

        async def start() -> DomainExport:
            return await ctx.services.exports.start(ctx.caller, input.selection.to_selection())

        result = await attempt(info, start())
        if isinstance(result, list):
            return ExportPayload(export=None, user_errors=result)
        return ExportPayload(export=_export(info, result), user_errors=[])

"""CSV imports (I1-I5): their type, queries and mutations.

startImport takes the file as a GraphQL multipart upload (http.app lets such a request be as
large as IMPORT_MAX_BYTES); the resolver streams it into storage a piece at a time and returns
the QUEUED import at once (I1). A worker applies it (services.imports.ImportRunner).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Protocol

import strawberry
from strawberry.file_uploads import Upload

from marketing_contacts.domain.bulk import BulkOperationStatus
from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.errors import ErrorCode, refuse
from marketing_contacts.domain.imports import Import as DomainImport
from marketing_contacts.domain.imports import RowError
from marketing_contacts.domain.statuses import MarketingStatus
from marketing_contacts.schema.connections import After, First, PageInfo, first_or
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.errors import UserError, attempt
from marketing_contacts.services.imports import ImportRequest
from marketing_contacts.services.paging import Page

ImportId = Annotated[strawberry.ID, strawberry.argument(description="The import's id.")]
#: how much of an upload the resolver holds at once
READ_BYTES = 256 * 1024


class Readable(Protocol):
    """An uploaded file as the server hands it over (starlette's UploadFile)."""

    filename: str | None

    async def read(self, size: int = -1) -> bytes: ...


async def pieces(upload: Readable) -> AsyncIterator[bytes]:
    while piece := await upload.read(READ_BYTES):
        yield piece


@strawberry.type(description="I4: a row that wrote nothing, and why.")
class ImportRowError:
    row: int = strawberry.field(description="1 is the first row after the header.")
    column: str | None = strawberry.field(
        description="The header of the column at fault; null when no one column is."
    )
    code: ErrorCode = strawberry.field(description="What kind of failure it is.")
    message: str = strawberry.field(description="What went wrong, for a person to read.")

    @classmethod
    def of(cls, error: RowError) -> ImportRowError:
        return cls(row=error.row, column=error.column, code=error.code, message=error.message)


@strawberry.type(description="One row error of a page, with its cursor.")
class ImportRowErrorEdge:
    cursor: str = strawberry.field(description="Opaque; pass it as after for the next ones.")
    node: ImportRowError = strawberry.field(description="The row error.")


@strawberry.type(description="A page of an import's row errors, in row order.")
class ImportRowErrorConnection:
    edges: list[ImportRowErrorEdge] = strawberry.field(description="The page's row errors.")
    page_info: PageInfo = strawberry.field(description="Whether more pages follow.")


@strawberry.type(
    description="A CSV import (I1-I5): queued, then applied by a worker chunk by chunk."
)
class Import:
    id: strawberry.ID = strawberry.field(description="The import's id.")
    status: BulkOperationStatus = strawberry.field(description="Where the import stands.")
    file_name: str = strawberry.field(description="The uploaded file's name.")
    marketing_status: MarketingStatus = strawberry.field(
        description="MARKETING: created and matched contacts are set as marketing (I3)."
    )
    rows: int = strawberry.field(description="Rows read so far (all rows once it ends).")
    processed: int = strawberry.field(
        description="Rows applied or failed so far: created + updated + unchanged + failed."
    )
    created: int = strawberry.field(description="Rows that created a contact (I2).")
    updated: int = strawberry.field(description="Rows that changed the contact they matched.")
    unchanged: int = strawberry.field(
        description="Rows whose contact already had every value they hold."
    )
    failed: int = strawberry.field(description="Rows that wrote nothing: see errors (I4).")
    progress: float = strawberry.field(description="0 to 1.")
    failure_reason: str | None = strawberry.field(
        description="Why the import stopped, when it FAILED; null otherwise."
    )
    created_at: datetime = strawberry.field(description="When startImport queued it.")
    started_at: datetime | None = strawberry.field(
        description="When a worker first took it up; null while it waits."
    )
    finished_at: datetime | None = strawberry.field(
        description="When it ended (completed, failed or cancelled); null until then."
    )
    domain: strawberry.Private[DomainImport]

    @strawberry.field(description="I4: the rows that wrote nothing, in row order.")
    async def errors(
        self, info: Info, first: First = 50, after: After = None
    ) -> ImportRowErrorConnection:
        imports, caller = info.context.services.imports, info.context.caller
        page: Page[RowError] = await imports.errors(caller, self.domain, first_or(first, 50), after)
        return ImportRowErrorConnection(
            edges=[
                ImportRowErrorEdge(cursor=cursor, node=ImportRowError.of(error))
                for error, cursor in zip(page.items, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(page),
        )

    @classmethod
    def of(cls, imported: DomainImport) -> Import:
        counts = imported.counts
        return cls(
            id=strawberry.ID(imported.id),
            status=imported.status,
            file_name=imported.file_name,
            marketing_status=imported.options.marketing_status,
            rows=counts.rows,
            processed=counts.created + counts.updated + counts.unchanged + counts.failed,
            created=counts.created,
            updated=counts.updated,
            unchanged=counts.unchanged,
            failed=counts.failed,
            progress=imported.progress,
            failure_reason=imported.failure_reason,
            created_at=imported.created_at,
            started_at=imported.started_at,
            finished_at=imported.finished_at,
            domain=imported,
        )


@strawberry.type(description="One import of a page, with its cursor.")
class ImportEdge:
    cursor: str = strawberry.field(description="Opaque; pass it as after for the next ones.")
    node: Import = strawberry.field(description="The import.")


@strawberry.type(description="A page of the caller's imports, newest first.")
class ImportConnection:
    edges: list[ImportEdge] = strawberry.field(description="The page's imports.")
    page_info: PageInfo = strawberry.field(description="Whether more pages follow.")


@strawberry.type(description="The result of startImport or cancelImport.")
class ImportPayload:
    import_: Import | None = strawberry.field(
        name="import", description="The import; null when userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was done; empty on success."
    )


@strawberry.input(description="Which column of the file holds which contact field.")
class ImportColumnInput:
    column: str = strawberry.field(description="The CSV header.")
    field: str = strawberry.field(
        description="A contact field: email, firstName, lastName, jobTitle, companyName, "
        "ownerId, lifecycleStage."
    )


@strawberry.input(description="A CSV file to import, and how (I1-I5).")
class StartImportInput:
    file: Upload = strawberry.field(
        description="The CSV file: UTF-8 (a BOM allowed), a header row, RFC 4180 quoting; "
        "at most IMPORT_MAX_BYTES (200 MB by default)."
    )
    mapping: list[ImportColumnInput] | None = strawberry.field(
        default=None,
        description="Omitted: headers named like the fields map to them; other columns are "
        "ignored.",
    )
    marketing_status: MarketingStatus | None = strawberry.field(
        default=MarketingStatus.NON_MARKETING,
        description="MARKETING: set all created and matched contacts as marketing (I3).",
    )
    lifecycle_stage: LifecycleStage | None = strawberry.field(
        default=None, description="The stage of created contacts (C4)."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="The same key and the same file within 24 hours return the same import; "
        "the same key with another file is CONFLICT (I5).",
    )

    def to_request(self) -> ImportRequest:
        """INVALID for a file given in the document itself: it comes as a multipart upload."""
        upload: Any = self.file
        if not callable(getattr(upload, "read", None)):
            raise refuse(
                ErrorCode.INVALID,
                "the file is sent as a multipart upload (the GraphQL multipart request spec)",
                "file",
            )
        return ImportRequest(
            file_name=getattr(upload, "filename", None),
            file=pieces(upload),
            mapping=None if self.mapping is None else [(m.column, m.field) for m in self.mapping],
            marketing_status=self.marketing_status or MarketingStatus.NON_MARKETING,
            lifecycle_stage=self.lifecycle_stage,
            idempotency_key=self.idempotency_key,
        )


def _payload(result: DomainImport | list[UserError]) -> ImportPayload:
    if isinstance(result, list):
        return ImportPayload(import_=None, user_errors=result)
    return ImportPayload(import_=Import.of(result), user_errors=[])


@strawberry.type
class ImportQueries:
    @strawberry.field(
        name="import", description="An import the caller sees; null when none has this id."
    )
    async def import_(self, info: Info, id: ImportId) -> Import | None:
        result = await attempt(info, info.context.services.imports.get(info.context.caller, id))
        if isinstance(result, list) or result is None:
            return None
        return Import.of(result)

    @strawberry.field(description="The caller's imports (P3: a requester's own), newest first.")
    async def imports(self, info: Info, first: First = 20, after: After = None) -> ImportConnection:
        imports, caller = info.context.services.imports, info.context.caller
        page = await imports.page(caller, first_or(first, 20), after)
        return ImportConnection(
            edges=[
                ImportEdge(cursor=cursor, node=Import.of(item))
                for item, cursor in zip(page.items, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(page),
        )


@strawberry.type
class ImportMutations:
    @strawberry.mutation(description="Queues the import and returns at once (I1).")
    async def start_import(
        self,
        info: Info,
        input: Annotated[StartImportInput, strawberry.argument(description="The file and how.")],
    ) -> ImportPayload:
        ctx = info.context

        async def start() -> DomainImport:
            return await ctx.services.imports.start(ctx.caller, input.to_request())

        return _payload(await attempt(info, start()))

    @strawberry.mutation(
        description="Stops the import after its current chunk; the rows applied stay applied."
    )
    async def cancel_import(self, info: Info, id: ImportId) -> ImportPayload:
        ctx = info.context
        return _payload(await attempt(info, ctx.services.imports.cancel(ctx.caller, str(id))))

"""CSV imports (I1-I5, P5): started by a client, run by a worker chunk by chunk.

`ImportService` is the client's side: startImport stores the upload (storage.files, so that
every worker reads it), checks its header against the mapping and persists the import QUEUED
before it is enqueued (principle 5: a sweeper enqueues what a lost job left). `ImportRunner` is
the worker's: it claims the import under a lease and streams the file from the cursor the
import stands at, a chunk of rows at a time; each chunk is one transaction that writes the
chunk's contacts, their history, the counts, the row errors and the import's new cursor, only
while the import is still RUNNING at the cursor the chunk was read from under this run's lease
(storage.imports.advance_import). So a run cut short anywhere resumes at the first row not
committed: no row is applied twice, none is lost.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from marketing_contacts.domain.accounts import check_statuses_settable
from marketing_contacts.domain.audit import Actor
from marketing_contacts.domain.contacts import LifecycleStage, email_key
from marketing_contacts.domain.errors import ErrorCode, check_id, quoted, refuse
from marketing_contacts.domain.imports import (
    Columns,
    Cursor,
    FileError,
    Import,
    ImportOptions,
    ImportStatus,
    ParsedRow,
    RecordSplitter,
    RowError,
    check_cancellable,
    check_idempotency_key,
    check_mapping,
    columns_of,
    file_name_of,
    header_of,
    parse_row,
    plan_chunk,
)
from marketing_contacts.domain.permissions import check_status_permission
from marketing_contacts.domain.statuses import MarketingStatus, StatusSourceType
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.paging import Page, check_first, paged
from marketing_contacts.services.ports.changes import ChangeBatch, StaleWrite
from marketing_contacts.services.ports.contacts import DuplicateEmail
from marketing_contacts.services.ports.events import BulkProgressed
from marketing_contacts.services.ports.imports import (
    FileTooLarge,
    ImportChunk,
    ImportKey,
    StoredFile,
    TooManyImports,
)
from marketing_contacts.services.wiring import Ports

log = logging.getLogger(__name__)
IDEMPOTENCY_WINDOW = timedelta(hours=24)
#: rows one chunk (one transaction) applies
CHUNK = 500
LEASE = timedelta(seconds=60)
#: a QUEUED import older than this was persisted but probably never enqueued
ENQUEUE_GRACE = timedelta(seconds=30)


@dataclass(frozen=True)
class ImportRequest:
    file_name: str | None
    file: AsyncIterator[bytes]
    #: (column, contact field's API name) pairs as given; None: by header name
    mapping: Sequence[tuple[str, str]] | None = None
    marketing_status: MarketingStatus = MarketingStatus.NON_MARKETING
    lifecycle_stage: LifecycleStage | None = None
    idempotency_key: str | None = None


def fingerprint(stored: StoredFile, request: ImportRequest) -> str:
    """I5: what 'the same file' means: its bytes, and the options it was started with."""
    body = {
        "sha256": stored.sha256,
        "mapping": None if request.mapping is None else [list(p) for p in request.mapping],
        "marketing_status": request.marketing_status.value,
        "lifecycle_stage": None if request.lifecycle_stage is None else request.lifecycle_stage,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


async def first_record(ports: Ports, account_id: str, file_id: str) -> tuple[bytes, int] | None:
    """The file's first record (its header) and the offset past it; None for an empty file."""
    splitter = RecordSplitter()
    pieces = ports.files.read(account_id, file_id)
    try:
        async for piece in pieces:
            for record in splitter.feed(piece):
                return record
        for record in splitter.end():
            return record
    finally:
        await pieces.aclose()  # type: ignore[attr-defined]
    return None


class ImportService:
    def __init__(self, ports: Ports, max_active: int, max_bytes: int) -> None:
        self.ports = ports
        #: P5: background operations an account may have queued or running at once
        self.max_active = max_active
        #: I1: IMPORT_MAX_BYTES
        self.max_bytes = max_bytes

    async def start(self, caller: Caller, request: ImportRequest) -> Import:
        """`_start`; a replayed key's import is the answer (the upload that repeated it is
        forgotten: the import keeps the file it was started with)."""
        try:
            return await self._start(caller, request)
        except _Replayed as replayed:
            return replayed.imported

    async def _start(self, caller: Caller, request: ImportRequest) -> Import:
        """I1: the file stored and the import QUEUED, returned at once. I5: a key held
        answers with its import (CONFLICT for another file). P5: TOO_MANY past the bound."""
        check_idempotency_key(request.idempotency_key)
        mapping = check_mapping(request.mapping)
        account = await self.ports.account(caller.account_id)
        if request.marketing_status is MarketingStatus.MARKETING:  # I3: as S2's set MARKETING
            check_statuses_settable(account, "marketing_status")
            check_status_permission(
                MarketingStatus.MARKETING,
                StatusSourceType.IMPORT,
                marketing_access=caller.marketing_access,
                edition=account.edition,
                field=("marketing_status",),
            )
        name = file_name_of(request.file_name)
        try:
            stored = await self.ports.files.put(
                caller.account_id, name, request.file, self.max_bytes
            )
        except FileTooLarge:
            raise refuse(
                ErrorCode.INVALID, f"a file to import has at most {self.max_bytes} bytes", "file"
            ) from None
        try:
            return await self._persist(caller, request, stored, name, mapping)
        except BaseException:
            await self.ports.files.delete(caller.account_id, stored.id)
            raise

    async def _persist(
        self,
        caller: Caller,
        request: ImportRequest,
        stored: StoredFile,
        name: str,
        mapping: tuple[tuple[str, str], ...] | None,
    ) -> Import:
        now = self.ports.clock.now()
        print_ = fingerprint(stored, request)
        if request.idempotency_key is not None:
            held = await self.ports.imports.held(caller.account_id, request.idempotency_key, now)
            if held is not None:
                raise _Replayed(await self._replay(caller, held, print_))
        first = await first_record(self.ports, caller.account_id, stored.id)
        if first is None:
            raise refuse(ErrorCode.INVALID, "the file is empty: it needs a header row", "file")
        columns = columns_of(header_of(first[0]), mapping)
        imported = Import(
            id=self.ports.ids.new_id(at=now),
            account_id=caller.account_id,
            requested_by=caller.user_id,
            owners=caller.scope.owners,
            file_id=stored.id,
            file_name=name,
            file_size=stored.length,
            fingerprint=print_,
            options=ImportOptions(
                mapping=tuple((column, attr) for attr, column in columns.names.items()),
                marketing_status=request.marketing_status,
                lifecycle_stage=request.lifecycle_stage,
            ),
            status=ImportStatus.QUEUED,
            created_at=now,
        )
        key = None
        if request.idempotency_key is not None:
            key = ImportKey(request.idempotency_key, print_, imported.id, now + IDEMPOTENCY_WINDOW)
        audit = self.ports.audit_entry(
            caller.account_id, caller.actor, "startImport", [imported.id]
        )
        try:
            held = await self.ports.imports.insert(imported, key, self.max_active, audit)
        except TooManyImports:
            raise refuse(
                ErrorCode.TOO_MANY,
                f"the account has {self.max_active} background operations queued or running, "
                "the most it may have: start this one once one of them has ended",
            ) from None
        if held is not None:
            raise _Replayed(await self._replay(caller, held, print_))
        try:
            await self.ports.jobs.enqueue_import(imported.id)
        except Exception:
            log.exception("enqueueing import %s failed; the sweeper will retry", imported.id)
        return imported

    async def _replay(self, caller: Caller, held: ImportKey, print_: str) -> Import:
        if held.fingerprint != print_:
            raise refuse(
                ErrorCode.CONFLICT,
                "this idempotency key was used with another file in the last 24 hours",
                "idempotency_key",
            )
        found = await self.ports.imports.get(caller.scope, held.import_id)
        if found is None:
            raise refuse(ErrorCode.CONFLICT, "this idempotency key is taken", "idempotency_key")
        return found

    async def get(self, caller: Caller, import_id: str) -> Import | None:
        check_id(import_id, "id")
        return await self.ports.imports.get(caller.scope, import_id)

    async def page(self, caller: Caller, first: int, after: str | None) -> Page[Import]:
        return await paged(first, after, self.ports.imports.page(caller.scope, first, after))

    async def count(self, caller: Caller) -> int:
        return await self.ports.imports.count(caller.scope)

    async def errors(
        self, caller: Caller, imported: Import, first: int, after: str | None
    ) -> Page[RowError]:
        """I4: the row errors of an import the caller read (so sees), in row order."""
        check_first(first)
        return await paged(
            first,
            after,
            self.ports.imports.errors(caller.account_id, imported.id, first, after),
        )

    async def cancel(self, caller: Caller, import_id: str) -> Import:
        """Stops the import after its current chunk; the rows applied stay applied."""
        check_id(import_id, "id")
        audit = self.ports.audit_entry(caller.account_id, caller.actor, "cancelImport", [import_id])
        cancelled = await self.ports.imports.cancel(
            caller.scope, import_id, self.ports.clock.now(), audit
        )
        if cancelled is not None:
            await self.ports.ledger.tell(caller.account_id, BulkProgressed(import_id))
            return cancelled
        found = await self.get(caller, import_id)
        if found is None:
            raise refuse(ErrorCode.NOT_FOUND, f"import {quoted(import_id)} does not exist", "id")
        check_cancellable(found)
        raise refuse(ErrorCode.CONFLICT, "the import ended meanwhile", "id")


class _Replayed(Exception):
    """I5: the key was held: the import it started answers (the new upload is deleted)."""

    def __init__(self, imported: Import) -> None:
        super().__init__(imported.id)
        self.imported = imported


@dataclass
class _Run:
    """What one run of an import knows between its chunks."""

    imported: Import
    owner: str
    columns: Columns
    #: owner ids looked up so far: whether each is a user of the account
    users: dict[str, bool] = field(default_factory=dict)


class ImportRunner:
    def __init__(self, ports: Ports, chunk: int = CHUNK, lease: timedelta = LEASE) -> None:
        self.ports = ports
        self.chunk = chunk
        self.lease = lease

    async def run(self, import_id: str, owner: str) -> Import | None:
        """I1: claim the import and apply it from where it stands to its end (or its
        cancellation); None when another run holds it, or it has ended."""
        now = self.ports.clock.now()
        imported = await self.ports.imports.claim(import_id, owner, now, now + self.lease)
        if imported is None:
            return None
        try:
            return await self._advance(imported, owner)
        except FileError as error:
            return await self._end(imported, owner, ImportStatus.FAILED, str(error))

    async def sweep(self) -> list[str]:
        """Principle 5: enqueue the imports persisted but never queued, and those a dead or
        stalled worker left past their lease (a new job, named after the lease, takes over)."""
        now = self.ports.clock.now()
        handed = []
        for imported in await self.ports.imports.stale(now - ENQUEUE_GRACE, now):
            attempt = 0
            if imported.lease_until is not None:
                attempt = int(imported.lease_until.timestamp() * 1000)
            if await self.ports.jobs.enqueue_import(imported.id, attempt):
                log.warning(
                    "import %s %s: a new job takes it",
                    imported.id,
                    "was left past its lease" if attempt else "was never queued",
                )
                handed.append(imported.id)
        return handed

    async def _advance(self, imported: Import, owner: str) -> Import | None:
        account_id = imported.account_id
        header = await first_record(self.ports, account_id, imported.file_id)
        if header is None:
            raise FileError("the file is empty")
        try:
            columns = columns_of(header_of(header[0]), imported.options.mapping)
        except Exception as error:
            raise FileError(f"the header does not match the import's mapping: {error}") from error
        run = _Run(imported, owner, columns)
        cursor = imported.cursor
        position = max(cursor.offset, header[1])
        splitter = RecordSplitter(start=position)
        rows: list[ParsedRow] = []
        row, before = cursor.row, cursor
        reached = Cursor(position, row)

        async def records() -> AsyncIterator[tuple[bytes, int]]:
            async for piece in self.ports.files.read(account_id, imported.file_id, position):
                for record in splitter.feed(piece):
                    yield record
            for record in splitter.end():
                yield record

        async for record, end in records():
            parsed = None
            if record.strip(b"\r\n\t ,"):  # a blank line is no row
                row += 1
                parsed = parse_row(record, row, columns)
                rows.append(parsed)
            reached = Cursor(end, row)
            if len(rows) >= self.chunk:
                if not await self._chunk(run, rows, before, reached):
                    return await self._stopped(run)
                rows, before = [], reached
        if reached != before and not await self._chunk(run, rows, before, reached):
            return await self._stopped(run)
        return await self._end(run.imported, owner, ImportStatus.COMPLETED)

    async def _chunk(self, run: _Run, rows: list[ParsedRow], before: Cursor, after: Cursor) -> bool:
        """Commit one chunk; False when the import stopped (cancelled), or another run holds
        it or moved it on."""

        async def attempt() -> bool:
            current = await self.ports.imports.load(run.imported.id)
            if (
                current is None
                or current.status is not ImportStatus.RUNNING
                or current.lease_owner != run.owner
                or current.cursor != before
            ):
                return False
            run.imported = current
            batch = await self._batch(run, rows, before, after)
            try:
                await self.ports.ledger.commit(batch, BulkProgressed(current.id))
            except DuplicateEmail as error:  # another writer took an address meanwhile
                raise StaleWrite(str(error)) from error
            return True

        return await self.ports.retrying_on(run.imported.account_id, attempt)

    async def _batch(
        self, run: _Run, rows: list[ParsedRow], before: Cursor, after: Cursor
    ) -> ChangeBatch:
        imported, ports = run.imported, self.ports
        account = await ports.account(imported.account_id)
        keys = sorted({key for parsed in rows if (key := parsed.email_key) is not None})
        matches = {
            key: contact
            for contact in await ports.imports.by_emails(imported.account_id, keys)
            if (key := email_key(contact.email)) is not None
        }
        owners = await self._users(run, rows)
        now = ports.clock.now()
        plan = plan_chunk(
            account, imported, rows, matches, owners, lambda: ports.ids.new_id(at=now), now
        )
        chunk = ImportChunk(
            import_id=imported.id,
            account_id=imported.account_id,
            owner=run.owner,
            before=before,
            after=after,
            counts=plan.counts,
            errors=plan.errors,
            lease_until=now + self.lease,
        )
        written = [imported.id, *(c.id for c in plan.created), *(u.after.id for u in plan.updates)]
        audit = ports.audit_entry(
            imported.account_id, Actor(imported.requested_by), "import", written
        )
        change = plan.change
        return ChangeBatch(
            account_before=account,
            account_after=change.account,
            created=plan.created,
            status_updates=plan.updates,
            history=plan.history,
            tier_change=change.tier_change,
            alerts=change.alerts,
            imported=chunk,
            audit=audit,
        )

    async def _users(self, run: _Run, rows: list[ParsedRow]) -> frozenset[str]:
        """C1: the rows' owner ids that are users of the account (each looked up once a run)."""
        for parsed in rows:
            owner = parsed.values.get("owner_id")
            if isinstance(owner, str) and owner not in run.users:
                user = await self.ports.users.get(run.imported.account_id, owner)
                run.users[owner] = user is not None
        return frozenset(owner for owner, known in run.users.items() if known)

    async def _stopped(self, run: _Run) -> Import | None:
        """The run stopped short: cancelled (the file goes), or another run holds it."""
        current = await self.ports.imports.load(run.imported.id)
        if current is not None and current.status is ImportStatus.CANCELLED:
            await self.ports.files.delete(current.account_id, current.file_id)
            return current
        return None

    async def _end(
        self, imported: Import, owner: str, status: ImportStatus, failure: str | None = None
    ) -> Import | None:
        ended = await self.ports.imports.finish(
            imported, status, self.ports.clock.now(), owner=owner, failure=failure
        )
        if ended is None:
            return await self._stopped(_Run(imported, owner, Columns({}, {})))
        await self.ports.files.delete(ended.account_id, ended.file_id)
        await self.ports.ledger.tell(ended.account_id, BulkProgressed(ended.id))
        return ended

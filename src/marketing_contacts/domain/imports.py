"""CSV imports (I1-I5): the file's records, the mapping of its columns, and what each row does.

A file is UTF-8 (an optional BOM), a header row, then one record per row, quoted as RFC 4180
quotes (a quoted field may hold commas, quotes doubled and line breaks). `RecordSplitter` cuts
the bytes into records as they stream in, keeping the byte offset after each one: the cursor an
import resumes from (I1). `plan_chunk` decides a chunk of rows against the account as it stands:
which contacts they create, which they change (I2, I3), which rows fail and why (I4), and what
the whole does to the counts and the tier (T1, T2, T6), to be written in one transaction.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from marketing_contacts.domain.accounts import LEGACY_SOURCE, Account
from marketing_contacts.domain.bulk import BulkOperationStatus
from marketing_contacts.domain.changes import UsageChange, plan_usage_change
from marketing_contacts.domain.contacts import (
    Contact,
    LifecycleStage,
    StatusUpdate,
    change_status,
    check_lifecycle_change,
    check_text_fields,
    email_key,
    history_of,
    normalize_email,
)
from marketing_contacts.domain.creation import CreationSource, initial_status
from marketing_contacts.domain.errors import (
    MAX_ID_LENGTH,
    DomainError,
    ErrorCode,
    check_id,
    quoted,
    refuse,
)
from marketing_contacts.domain.lifecycle import initial_stage
from marketing_contacts.domain.statuses import (
    HistoryEntry,
    MarketingState,
    MarketingStatus,
    StatusChange,
    StatusSource,
    StatusSourceType,
)
from marketing_contacts.domain.tiers import UpgradePolicy
from marketing_contacts.domain.usage import Transition, UsageCounts
from marketing_contacts.domain.visibility import Scope

#: I1: a record longer than this (an unterminated quote swallowing the file) fails the import
MAX_RECORD_BYTES = 65_536
#: the columns a header may have
MAX_COLUMNS = 200
#: a file's name, as the client sent it, kept to this many characters
MAX_FILE_NAME = 255
#: I1: the default of IMPORT_MAX_BYTES
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
BOM = b"\xef\xbb\xbf"

#: the contact fields a column maps to: their API names, and the contact's attribute
FIELDS: Mapping[str, str] = {
    "email": "email",
    "firstName": "first_name",
    "lastName": "last_name",
    "jobTitle": "job_title",
    "companyName": "company_name",
    "ownerId": "owner_id",
    "lifecycleStage": "lifecycle_stage",
}
#: I2: a row names a contact by one of these
NAMING = ("email", "first_name", "last_name")

ImportStatus = BulkOperationStatus


def _folded(name: str) -> str:
    """How a header is compared with a field's name: case, spaces, _ and - aside."""
    return re.sub(r"[\s_\-]", "", name).lower()


_BY_FOLDED = {_folded(api): attr for api, attr in FIELDS.items()}


@dataclass(frozen=True)
class ImportCounts:
    """I4: what the rows read so far did; the four outcomes add up to `rows`."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0

    def plus(self, other: ImportCounts) -> ImportCounts:
        return ImportCounts(
            rows=self.rows + other.rows,
            created=self.created + other.created,
            updated=self.updated + other.updated,
            unchanged=self.unchanged + other.unchanged,
            failed=self.failed + other.failed,
        )


@dataclass(frozen=True)
class Cursor:
    """Where an import stands in its file: the byte offset past the last record applied, and
    how many rows (after the header) lie before it."""

    offset: int = 0
    row: int = 0


@dataclass(frozen=True)
class ImportOptions:
    """What startImport chose, applied to every row."""

    #: (column, field attribute) pairs; None: by header name (`columns_of`). startImport
    #: stores the mapping it resolved against the file's header
    mapping: tuple[tuple[str, str], ...] | None = None
    #: I3: MARKETING sets created and matched contacts as marketing
    marketing_status: MarketingStatus = MarketingStatus.NON_MARKETING
    #: C4: the stage of created contacts (None: the account's default for IMPORT)
    lifecycle_stage: LifecycleStage | None = None


@dataclass(frozen=True)
class Import:
    id: str
    account_id: str
    requested_by: str
    file_id: str
    file_name: str
    file_size: int
    #: I5: the file's SHA-256 with the options: what "the same file" means
    fingerprint: str
    options: ImportOptions
    status: ImportStatus
    created_at: datetime
    #: P3: the owners whose contacts the requester sees (None: the whole account)
    owners: frozenset[str] | None = None
    counts: ImportCounts = ImportCounts()
    cursor: Cursor = Cursor()
    started_at: datetime | None = None
    finished_at: datetime | None = None
    failure_reason: str | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None

    @property
    def scope(self) -> Scope:
        return Scope(self.account_id, self.owners)

    @property
    def progress(self) -> float:
        """0 to 1: how far into the file it is (1 once it completed)."""
        if self.status is ImportStatus.COMPLETED:
            return 1.0
        if self.file_size <= 0:
            return 0.0
        return min(self.cursor.offset / self.file_size, 1.0)

    def claimable_by(self, owner: str, now: datetime) -> bool:
        if self.status is ImportStatus.QUEUED:
            return True
        if self.status is not ImportStatus.RUNNING:
            return False
        return self.lease_owner == owner or self.lease_until is None or self.lease_until < now


@dataclass(frozen=True)
class RowError:
    """I4: why a row wrote nothing."""

    row: int
    code: ErrorCode
    message: str
    column: str | None = None


class FileError(Exception):
    """The file cannot be read on: the import fails with this reason."""


# ---------------------------------------------------------------- records


@dataclass
class RecordSplitter:
    """RFC 4180 records cut out of a stream of bytes as they arrive, each with the offset
    just past it. A line break ends a record outside quotes only; a quote toggles being
    inside quotes (a doubled quote toggles twice), so quotes alone decide it."""

    #: the offset of the first byte fed (a resumed import starts past the header)
    start: int = 0
    _buffer: bytearray = field(default_factory=bytearray)
    _scanned: int = 0
    _quoted: bool = False

    def feed(self, data: bytes) -> Iterator[tuple[bytes, int]]:
        """The records `data` completes, each with the offset past it."""
        buffer = self._buffer
        buffer.extend(data)
        begin = 0
        position = self._scanned
        while True:
            if self._quoted:
                close = buffer.find(b'"', position)
                if close == -1:
                    position = len(buffer)
                    break
                self._quoted, position = False, close + 1
                continue
            newline = buffer.find(b"\n", position)
            quote = buffer.find(b'"', position, len(buffer) if newline == -1 else newline)
            if quote != -1:
                self._quoted, position = True, quote + 1
                continue
            if newline == -1:
                position = len(buffer)
                break
            record = bytes(buffer[begin : newline + 1])
            begin = position = newline + 1
            yield record, self.start + begin
        consumed = begin
        del buffer[:consumed]
        self.start += consumed
        self._scanned = position - consumed
        if len(buffer) > MAX_RECORD_BYTES:
            raise FileError(
                f"a record is longer than {MAX_RECORD_BYTES} bytes (is a quote left open?)"
            )

    def end(self) -> Iterator[tuple[bytes, int]]:
        """The last record, when the file does not end with a line break."""
        if self._buffer:
            record = bytes(self._buffer)
            self.start += len(record)
            self._buffer.clear()
            self._scanned = 0
            yield record, self.start


def fields_of(record: bytes) -> list[str]:
    """The fields of one record (its line break aside); ValueError when it is not UTF-8 or
    its quotes are not RFC 4180's."""
    text = record.decode("utf-8")
    if text.endswith("\n"):
        text = text[:-1]
    if text.endswith("\r"):
        text = text[:-1]
    if not text.strip():
        return []
    try:
        rows = list(csv.reader([text], strict=True))
    except csv.Error as error:
        raise ValueError(f"badly quoted: {error}") from error
    return rows[0] if rows else []


def header_of(record: bytes) -> list[str]:
    """The header row's column names (a BOM before it aside)."""
    if record.startswith(BOM):
        record = record[len(BOM) :]
    try:
        names = [name.strip() for name in fields_of(record)]
    except ValueError as error:
        raise refuse(
            ErrorCode.INVALID, f"the header row is not readable: {error}", "file"
        ) from None
    if not any(names):
        raise refuse(ErrorCode.INVALID, "the file starts with no header row", "file")
    if len(names) > MAX_COLUMNS:
        raise refuse(ErrorCode.INVALID, f"a file has at most {MAX_COLUMNS} columns", "file")
    return names


# ---------------------------------------------------------------- mapping


@dataclass(frozen=True)
class Columns:
    """Which column of a row holds which field (attribute), and the header names of them."""

    by_index: Mapping[int, str]
    names: Mapping[str, str]

    def column_of(self, attr: str) -> str | None:
        return self.names.get(attr)


def check_mapping(mapping: Sequence[tuple[str, str]] | None) -> tuple[tuple[str, str], ...] | None:
    """The mapping as (column, attribute) pairs: each field a contact field, mapped once."""
    if mapping is None:
        return None
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for index, (column, api_name) in enumerate(mapping):
        at = ("mapping", str(index))
        if not column.strip():
            raise refuse(ErrorCode.INVALID, "a column is named by its header", *at, "column")
        attr = FIELDS.get(api_name)
        if attr is None:
            raise refuse(
                ErrorCode.INVALID,
                f"{quoted(api_name)} is not a contact field: one of {', '.join(FIELDS)}",
                *at,
                "field",
            )
        if attr in seen:
            raise refuse(ErrorCode.INVALID, f"{api_name} is mapped twice", *at, "field")
        seen.add(attr)
        pairs.append((column.strip(), attr))
    return tuple(pairs)


def columns_of(header: Sequence[str], mapping: Sequence[tuple[str, str]] | None) -> Columns:
    """I1: the mapping given, or the headers named like the fields (others are ignored); the
    columns must name a contact: an email, a first or a last name."""
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        positions.setdefault(name, []).append(index)
    by_index: dict[int, str] = {}
    names: dict[str, str] = {}
    if mapping is None:
        for index, name in enumerate(header):
            attr = _BY_FOLDED.get(_folded(name))
            if attr is not None and attr not in names:
                by_index[index], names[attr] = attr, name
    else:
        for number, (column, attr) in enumerate(mapping):
            found = positions.get(column, [])
            at = ("mapping", str(number), "column")
            if not found:
                raise refuse(ErrorCode.INVALID, f"the file has no column {quoted(column)}", *at)
            if len(found) > 1:
                raise refuse(ErrorCode.INVALID, f"the file has two columns {quoted(column)}", *at)
            by_index[found[0]], names[attr] = attr, column
    if not any(attr in names for attr in NAMING):
        raise refuse(
            ErrorCode.INVALID,
            "no column maps to email, firstName or lastName: rows could name no contact",
            "mapping" if mapping is not None else "file",
        )
    return Columns(by_index, names)


# ---------------------------------------------------------------- rows


@dataclass(frozen=True)
class ParsedRow:
    """One row's non-empty mapped values (attribute -> value), or why it cannot be read."""

    row: int
    values: Mapping[str, object]
    error: RowError | None = None

    @property
    def email_key(self) -> str | None:
        email = self.values.get("email")
        return email_key(email) if isinstance(email, str) else None


def _stage(raw: str) -> LifecycleStage:
    try:
        return LifecycleStage(re.sub(r"[\s\-]+", "_", raw.strip()).upper())
    except ValueError:
        raise refuse(
            ErrorCode.INVALID,
            f"{quoted(raw)} is not a lifecycle stage: one of "
            + ", ".join(stage.value for stage in LifecycleStage),
            "lifecycle_stage",
        ) from None


def parse_row(record: bytes, row: int, columns: Columns) -> ParsedRow:
    """I4: the row's values, each checked as createContact checks it, or the first error."""
    try:
        cells = fields_of(record)
    except ValueError as error:
        return ParsedRow(row, {}, RowError(row, ErrorCode.INVALID, f"the row is {error}"))
    values: dict[str, object] = {}
    for index, attr in columns.by_index.items():
        if index < len(cells) and cells[index].strip():
            values[attr] = cells[index].strip()
    try:
        if "email" in values:
            values["email"] = normalize_email(str(values["email"]), "email")
        check_text_fields(values)
        if "owner_id" in values:
            check_id(str(values["owner_id"]), "owner_id")
        if "lifecycle_stage" in values:
            values["lifecycle_stage"] = _stage(str(values["lifecycle_stage"]))
    except DomainError as error:
        return ParsedRow(row, {}, row_error(row, error, columns))
    if not any(values.get(attr) for attr in NAMING):
        return ParsedRow(
            row,
            {},
            RowError(
                row, ErrorCode.INVALID, "the row has neither an email nor a first or last name"
            ),
        )
    return ParsedRow(row, values)


def row_error(row: int, error: DomainError, columns: Columns) -> RowError:
    first = error.errors[0]
    attr = first.field[0] if first.field else None
    column = None if attr is None else columns.column_of(attr)
    return RowError(row, first.code, first.message, column)


# ---------------------------------------------------------------- a chunk's decision


@dataclass(frozen=True)
class ChunkPlan:
    """What one chunk writes, in one transaction: the contacts it creates, the ones it changes
    (each once, from the version read to its last), their history, the counts and the tier
    (`change`), and its rows' outcomes."""

    created: tuple[Contact, ...]
    updates: tuple[StatusUpdate, ...]
    history: tuple[HistoryEntry, ...]
    change: UsageChange
    counts: ImportCounts
    errors: tuple[RowError, ...]


@dataclass
class _Working:
    """A contact as the chunk's rows so far leave it."""

    read: Contact | None  # as stored (None: this chunk creates it)
    now: Contact
    status_changed: StatusUpdate | None = None


def plan_chunk(
    account: Account,
    imported: Import,
    rows: Sequence[ParsedRow],
    matches: Mapping[str, Contact],
    owners: frozenset[str],
    new_id: Callable[[], str],
    now: datetime,
) -> ChunkPlan:
    """I2-I4 for `rows`, in order. `matches` are the account's contacts by email key (C8) as
    read for the chunk; `owners` the ids of the users of the account among the rows' owner
    ids. A row matched by email updates that contact with its values (a later row of the same
    email the contact the earlier one created or changed); otherwise it creates one. I3: the
    marketing option makes created contacts and matched N or P ones marketing (source IMPORT,
    the import's id); under BLOCK, a row past the tier fails whole with TIER_LIMIT_REACHED."""
    options = imported.options
    marketing = options.marketing_status is MarketingStatus.MARKETING
    source = StatusSource(StatusSourceType.IMPORT, imported.id)
    working: dict[str, _Working] = {}
    anonymous: list[_Working] = []  # created by rows without an email
    errors: list[RowError] = []
    created = updated = unchanged = 0
    counts = account.counts
    refused: list[Transition] = []

    def fail(row: int, code: ErrorCode, message: str, attr: str | None = None) -> None:
        column = None if attr is None else _column(imported, attr)
        errors.append(RowError(row, code, message, column))

    for parsed in rows:
        if parsed.error is not None:
            errors.append(parsed.error)
            continue
        values = dict(parsed.values)
        owner = values.get("owner_id")
        if owner is not None and owner not in owners:
            fail(parsed.row, ErrorCode.NOT_FOUND, "no user of the account has this id", "owner_id")
            continue
        key = parsed.email_key
        held = working.get(key) if key is not None else None
        if held is None and key is not None and key in matches:
            stored = matches[key]
            held = _Working(stored, stored)
        if (
            held is not None
            and held.read is not None
            and not imported.scope.sees(held.now.owner_id)
        ):
            # P3: the address is taken by a contact the requester does not see (C8's DUPLICATE)
            fail(
                parsed.row, ErrorCode.DUPLICATE, "a contact with this email address exists", "email"
            )
            continue
        if held is None:
            contact, update = _created(account, imported, values, source, new_id(), now)
            transition = Transition(contact.id, None, contact.state)
            if not _admitted(account, counts, transition):
                fail(parsed.row, ErrorCode.TIER_LIMIT_REACHED, _over_tier(account))
                refused.append(transition)
                continue
            counts = counts.apply(transition)
            entry = _Working(None, contact, update)
            if key is None:
                anonymous.append(entry)
            else:
                working[key] = entry
            created += 1
            continue
        try:
            edited = _edited(held.now, values, now)
        except DomainError as error:
            fail(parsed.row, error.errors[0].code, error.errors[0].message, "lifecycle_stage")
            continue
        status_update = (
            change_status(edited, options.marketing_status, source, now) if marketing else None
        )
        if status_update is not None:
            transition = Transition(edited.id, held.now.state, status_update.after.state)
            if not _admitted(account, counts, transition):
                fail(parsed.row, ErrorCode.TIER_LIMIT_REACHED, _over_tier(account))
                refused.append(transition)
                continue
            counts = counts.apply(transition)
            edited = status_update.after
            held.status_changed = status_update
        if edited == held.now:
            unchanged += 1
        else:
            updated += 1
        held.now = edited
        if key is not None:
            working[key] = held

    made = [w for w in (*working.values(), *anonymous) if w.read is None]
    changed = [w for w in working.values() if w.read is not None and w.now != w.read]
    updates = tuple(_update_of(w) for w in changed)
    transitions = [Transition(w.now.id, None, w.now.state) for w in made] + [
        Transition(u.before.id, u.before.state, u.after.state)
        for u in updates
        if u.before.state != u.after.state
    ]
    change = plan_usage_change(account, [*transitions, *refused], now, partial=True)
    history = [*history_of([w.status_changed for w in made if w.status_changed is not None])]
    history += history_of([u for w, u in zip(changed, updates, strict=True) if w.status_changed])
    return ChunkPlan(
        created=tuple(w.now for w in made),
        updates=updates,
        history=tuple(history),
        change=change,
        counts=ImportCounts(
            rows=len(rows),
            created=created,
            updated=updated,
            unchanged=unchanged,
            failed=len(errors),
        ),
        errors=tuple(sorted(errors, key=lambda e: e.row)),
    )


def _column(imported: Import, attr: str) -> str | None:
    """The header of the column holding `attr` (startImport stores the mapping resolved)."""
    for column, mapped in imported.options.mapping or ():
        if mapped == attr:
            return column
    return None


def _admitted(account: Account, counts: UsageCounts, transition: Transition) -> bool:
    """T6 for one row, in order: under BLOCK a row that would take the count past the tier
    is refused (what plan_usage_change's partial admission decides)."""
    if account.upgrade_policy is not UpgradePolicy.BLOCK or transition.marketing_delta <= 0:
        return True
    return counts.apply(transition).marketing <= account.tier_limit


def _over_tier(account: Account) -> str:
    return (
        f"the row would exceed the tier of {account.tier_limit} marketing contacts and the "
        "account's upgrade policy is BLOCK"
    )


def _created(
    account: Account,
    imported: Import,
    values: Mapping[str, object],
    source: StatusSource,
    contact_id: str,
    now: datetime,
) -> tuple[Contact, StatusUpdate | None]:
    """I2, I3, D2, C4: a new contact of the row, createdVia IMPORT."""
    options = imported.options
    stage = values.get("lifecycle_stage")
    blank = Contact(
        id=contact_id,
        account_id=account.id,
        created_via=CreationSource.IMPORT,
        created_at=now,
        updated_at=now,
        state=MarketingState.NON_MARKETING,
        status_source=StatusSource(StatusSourceType.CREATION_DEFAULT),
        status_changed_at=now,
        email=_text(values, "email"),
        first_name=_text(values, "first_name"),
        last_name=_text(values, "last_name"),
        job_title=_text(values, "job_title"),
        company_name=_text(values, "company_name"),
        owner_id=_text(values, "owner_id"),
        lifecycle_stage=initial_stage(
            CreationSource.IMPORT,
            stage if isinstance(stage, LifecycleStage) else options.lifecycle_stage,
            account.lifecycle_defaults,
        ),
    )
    if not account.marketing_contacts_enabled:  # K1: every contact counts
        status, status_source = MarketingStatus.MARKETING, LEGACY_SOURCE
    else:
        requested = (
            MarketingStatus.MARKETING
            if options.marketing_status is MarketingStatus.MARKETING
            else None
        )
        status, source_type = initial_status(
            CreationSource.IMPORT, requested, account.creation_defaults
        )
        status_source = (
            source if source_type is StatusSourceType.IMPORT else StatusSource(source_type)
        )
    blank = replace(blank, status_source=status_source)
    update = change_status(blank, status, status_source, now)
    return (blank if update is None else update.after), update


def _edited(contact: Contact, values: Mapping[str, object], now: datetime) -> Contact:
    """I2: the contact with the row's values (its email kept: the row matched by it); C3: a
    stage moves back only by clearing it first (INVALID)."""
    changes: dict[str, Any] = {
        attr: value
        for attr, value in values.items()
        if attr != "email" and getattr(contact, attr) != value
    }
    if "lifecycle_stage" in changes:
        stage = changes["lifecycle_stage"]
        assert isinstance(stage, LifecycleStage)
        check_lifecycle_change(contact.lifecycle_stage, stage)
    return replace(contact, **changes, updated_at=now) if changes else contact


def _update_of(held: _Working) -> StatusUpdate:
    """The write of a changed contact, from the version read to its last: the status change's
    entry when its status moved, else a change of its fields alone (no history entry)."""
    assert held.read is not None
    if held.status_changed is not None:
        return StatusUpdate(before=held.read, after=held.now, change=held.status_changed.change)
    return fields_only(held.read, held.now)


def fields_only(before: Contact, after: Contact) -> StatusUpdate:
    """A change of a contact's fields written as the writer writes any contact change: the
    fields that differ, conditional on the status sequence read (no history entry: the status
    is as it was)."""
    change = StatusChange(
        at=after.updated_at,
        from_state=before.state,
        to_state=after.state,
        source=before.status_source,
    )
    return StatusUpdate(before=before, after=after, change=change)


def _text(values: Mapping[str, object], attr: str) -> str | None:
    value = values.get(attr)
    return value if isinstance(value, str) else None


def file_name_of(raw: str | None) -> str:
    """The name a file is shown by: its base name, at most MAX_FILE_NAME characters."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return (name or "import.csv")[:MAX_FILE_NAME]


def check_idempotency_key(key: str | None) -> None:
    if key is not None and not 1 <= len(key) <= MAX_ID_LENGTH:
        raise refuse(
            ErrorCode.INVALID,
            f"an idempotency key is 1 to {MAX_ID_LENGTH} characters",
            "idempotency_key",
        )


def check_cancellable(imported: Import) -> None:
    if imported.status.finished:
        raise refuse(ErrorCode.CONFLICT, f"the import has ended ({imported.status.value})", "id")

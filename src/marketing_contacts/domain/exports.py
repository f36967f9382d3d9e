"""Exports (I6): a selection's contacts written to CSV in the background, kept 7 days.

An export is its requester's record, like a bulk operation (P3): it selects within the scope
its requester had when it started (`owners`), and only users who see the requester see it. Its
file has one header row (`COLUMNS`, named like the import's fields so that a file imports back)
and one row per contact, quoted by RFC 4180 (the csv module's minimal quoting, CRLF line ends).

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be read as a
formula by a spreadsheet (CSV injection): such a cell is written with a leading `'`, which a
spreadsheet shows as text; `restored_cell` undoes it, for a reader of the file that wants the
value back.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from marketing_contacts.domain.bulk import BulkOperationStatus, Selection
from marketing_contacts.domain.contacts import Contact
from marketing_contacts.domain.visibility import Scope

#: I6: how long a finished export's file can be downloaded; then it is deleted
KEPT_FOR = timedelta(days=7)
#: the header row, in order: the import's fields, then the fields only the service sets
COLUMNS = (
    "id",
    "email",
    "firstName",
    "lastName",
    "jobTitle",
    "companyName",
    "ownerId",
    "lifecycleStage",
    "marketingStatus",
    "marketingUntilNextUpdate",
    "createdVia",
    "createdAt",
    "updatedAt",
    "emailHardBounced",
    "unsubscribedFromAll",
)
#: what a spreadsheet reads as the start of a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: how a neutralised cell starts
NEUTRALISER = "'"


@dataclass(frozen=True)
class Export:
    id: str
    account_id: str
    selection: Selection
    status: BulkOperationStatus
    created_at: datetime
    #: the user who started it
    requested_by: str
    #: P3: the owners of the contacts it selects, as its requester saw them when it started
    #: (None: the whole account's)
    owners: frozenset[str] | None = None
    rows: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    #: I6: when the file goes (7 days after it was written); None until then
    expires_at: datetime | None = None
    #: why it FAILED, when it did
    failure: str | None = None

    @property
    def scope(self) -> Scope:
        """What the export selects from: its requester's records, fixed when it started."""
        return Scope(self.account_id, self.owners)

    @property
    def filename(self) -> str:
        return f"contacts-export-{self.id}.csv"

    def downloadable(self, now: datetime) -> bool:
        """I6: the file is there to download: written, and not yet expired."""
        return (
            self.status is BulkOperationStatus.COMPLETED
            and self.expires_at is not None
            and now < self.expires_at
        )

    def completed(self, rows: int, now: datetime) -> Export:
        return replace(
            self,
            status=BulkOperationStatus.COMPLETED,
            rows=rows,
            finished_at=now,
            expires_at=now + KEPT_FOR,
        )

    def selects(self, contact: Contact) -> bool:
        """B1: an export selects what existed when it started; a contact created later that
        its pages reach is left out."""
        return contact.created_at <= self.created_at


def neutralised(cell: str) -> str:
    """A cell a spreadsheet shows as text: a leading `'` before a formula's start."""
    return NEUTRALISER + cell if cell.startswith(FORMULA_STARTS) else cell


def restored_cell(cell: str) -> str:
    """The value a neutralised cell holds (any other cell as it is)."""
    if cell.startswith(NEUTRALISER) and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def row_of(contact: Contact) -> list[str]:
    """The contact's cells, in the order of COLUMNS."""
    values: Sequence[object] = (
        contact.id,
        contact.email,
        contact.first_name,
        contact.last_name,
        contact.job_title,
        contact.company_name,
        contact.owner_id,
        None if contact.lifecycle_stage is None else contact.lifecycle_stage.value,
        contact.marketing_status.value,
        contact.marketing_until_next_update,
        contact.created_via.value,
        contact.created_at,
        contact.updated_at,
        contact.email_hard_bounced,
        contact.unsubscribed_from_all,
    )
    return [neutralised(_text(value)) for value in values]


def csv_lines(rows: Iterable[Sequence[str]]) -> str:
    """The rows as RFC 4180 lines: quoted only where a cell holds a comma, a quote or a line
    break, a quote doubled, each line ended by CRLF."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def header() -> str:
    return csv_lines([COLUMNS])

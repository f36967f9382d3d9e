"""I6 in the domain: an export's columns, its rows' cells (quoted by RFC 4180, formulas
neutralised), and when its file can be downloaded."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from marketing_contacts.domain.bulk import BulkOperationStatus, Selection
from marketing_contacts.domain.contacts import Contact, LifecycleStage
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.exports import (
    COLUMNS,
    KEPT_FOR,
    Export,
    csv_lines,
    header,
    neutralised,
    restored_cell,
    row_of,
)
from marketing_contacts.domain.statuses import (
    MarketingState,
    StatusSource,
    StatusSourceType,
)

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def contact(**fields: object) -> Contact:
    base: dict[str, object] = {
        "id": "65f000000000000000000001",
        "account_id": "65f0000000000000000000aa",
        "created_via": CreationSource.API,
        "created_at": AT,
        "updated_at": AT + timedelta(hours=1),
        "state": MarketingState.NON_MARKETING,
        "status_source": StatusSource(StatusSourceType.USER, "u1"),
        "status_changed_at": AT,
    }
    return Contact(**{**base, **fields})  # type: ignore[arg-type]


def export(**fields: object) -> Export:
    base: dict[str, object] = {
        "id": "65f0000000000000000000ee",
        "account_id": "65f0000000000000000000aa",
        "selection": Selection(filter=None, ids=("65f000000000000000000001",)),
        "status": BulkOperationStatus.QUEUED,
        "created_at": AT,
        "requested_by": "u1",
    }
    return Export(**{**base, **fields})  # type: ignore[arg-type]


def test_i6_the_columns_are_the_imports_fields_then_the_read_only_ones() -> None:
    assert COLUMNS[:8] == (
        "id",
        "email",
        "firstName",
        "lastName",
        "jobTitle",
        "companyName",
        "ownerId",
        "lifecycleStage",
    )
    assert set(COLUMNS[8:]) == {
        "marketingStatus",
        "marketingUntilNextUpdate",
        "createdVia",
        "createdAt",
        "updatedAt",
        "emailHardBounced",
        "unsubscribedFromAll",
    }
    assert header() == ",".join(COLUMNS) + "\r\n"


@pytest.mark.parametrize(
    ("fields", "column", "cell"),
    [
        ({}, "email", ""),  # no value: an empty cell
        ({"email": "ann@example.com"}, "email", "ann@example.com"),
        ({"first_name": "Ann"}, "firstName", "Ann"),
        ({"owner_id": "u7"}, "ownerId", "u7"),
        ({"lifecycle_stage": LifecycleStage.LEAD}, "lifecycleStage", "LEAD"),
        ({}, "lifecycleStage", ""),
        ({"state": MarketingState.MARKETING}, "marketingStatus", "MARKETING"),
        (
            {"state": MarketingState.MARKETING_UNTIL_NEXT_UPDATE},
            "marketingUntilNextUpdate",
            "true",
        ),
        ({}, "marketingUntilNextUpdate", "false"),
        ({"created_via": CreationSource.FORM}, "createdVia", "FORM"),
        ({}, "createdAt", "2026-03-01T09:30:00+00:00"),
        ({}, "updatedAt", "2026-03-01T10:30:00+00:00"),
        ({"email_hard_bounced": True}, "emailHardBounced", "true"),
        ({"unsubscribed_from_all": True}, "unsubscribedFromAll", "true"),
        # CSV injection: a formula's start is neutralised, whatever the column
        ({"first_name": "=HYPERLINK(1)"}, "firstName", "'=HYPERLINK(1)"),
        ({"last_name": "+1"}, "lastName", "'+1"),
        ({"job_title": "-2"}, "jobTitle", "'-2"),
        ({"company_name": "@SUM(A1)"}, "companyName", "'@SUM(A1)"),
        ({"email": "-ann@example.com"}, "email", "'-ann@example.com"),
        ({"first_name": "\tTab"}, "firstName", "'\tTab"),
        ({"first_name": "Ann = Bob"}, "firstName", "Ann = Bob"),  # only a leading one
    ],
)
def test_i6_a_row_holds_each_field_in_its_column(
    fields: dict[str, object], column: str, cell: str
) -> None:
    row = row_of(contact(**fields))
    assert len(row) == len(COLUMNS)
    assert row[COLUMNS.index(column)] == cell


@pytest.mark.parametrize(
    ("cells", "line"),
    [
        (["a", "b"], "a,b\r\n"),
        (["Smith, Ann", "x"], '"Smith, Ann",x\r\n'),
        (['say "hi"', "x"], '"say ""hi""",x\r\n'),
        (["two\nlines", ""], '"two\nlines",\r\n'),
        (["", ""], ",\r\n"),
        (["Zoë", "日本"], "Zoë,日本\r\n"),
    ],
)
def test_i6_rows_are_quoted_by_rfc_4180_and_parse_back(cells: list[str], line: str) -> None:
    assert csv_lines([cells]) == line
    assert next(csv.reader(io.StringIO(line, newline=""))) == cells


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+33 1 23", "'+33 1 23"),
        ("-", "'-"),
        ("@home", "'@home"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("'quoted", "'quoted"),  # an apostrophe before no formula is the value itself
        ("", ""),
    ],
)
def test_i6_a_neutralised_cell_restores_to_its_value(value: str, cell: str) -> None:
    assert neutralised(value) == cell
    assert restored_cell(cell) == value


@pytest.mark.parametrize(
    ("status", "expires_in", "downloadable"),
    [
        (BulkOperationStatus.COMPLETED, timedelta(days=1), True),
        (BulkOperationStatus.COMPLETED, timedelta(0), False),  # its 7 days are over
        (BulkOperationStatus.COMPLETED, -timedelta(seconds=1), False),
        (BulkOperationStatus.RUNNING, None, False),
        (BulkOperationStatus.QUEUED, None, False),
        (BulkOperationStatus.FAILED, None, False),
    ],
)
def test_i6_a_file_is_downloadable_once_written_and_until_it_expires(
    status: BulkOperationStatus, expires_in: timedelta | None, downloadable: bool
) -> None:
    now = AT + timedelta(days=2)
    expires_at = None if expires_in is None else now + expires_in
    assert export(status=status, expires_at=expires_at).downloadable(now) is downloadable


def test_i6_a_completed_export_expires_7_days_after_its_file_was_written() -> None:
    done = export(status=BulkOperationStatus.RUNNING).completed(3, AT)
    assert (done.status, done.rows, done.finished_at) == (BulkOperationStatus.COMPLETED, 3, AT)
    assert done.expires_at == AT + KEPT_FOR == AT + timedelta(days=7)


@pytest.mark.parametrize(
    ("created", "selected"),
    [(AT - timedelta(seconds=1), True), (AT, True), (AT + timedelta(seconds=1), False)],
)
def test_i6_b1_an_export_selects_the_contacts_that_existed_when_it_started(
    created: datetime, selected: bool
) -> None:
    assert export().selects(contact(created_at=created)) is selected

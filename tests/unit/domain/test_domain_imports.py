"""CSV imports in the domain (I1, I2, I4): records cut out of a byte stream at any boundary,
headers mapped by name or by mapping, rows parsed and checked, and a chunk planned: matched by
email or created, a later row of the same email on the earlier row's contact, row errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from itertools import count

import pytest

from marketing_contacts.domain.accounts import Account, open_account
from marketing_contacts.domain.contacts import Contact, LifecycleStage
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.imports import (
    MAX_RECORD_BYTES,
    ChunkPlan,
    Columns,
    FileError,
    Import,
    ImportOptions,
    ImportStatus,
    ParsedRow,
    RecordSplitter,
    check_mapping,
    columns_of,
    fields_of,
    header_of,
    parse_row,
    plan_chunk,
)
from marketing_contacts.domain.statuses import (
    MarketingState,
    MarketingStatus,
    StatusSource,
    StatusSourceType,
)
from marketing_contacts.domain.tiers import UpgradePolicy

NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)
FILE = b'email,name\r\na@x.io,"Ann, ""A"""\r\n"b@x.io","B\nC"\r\n\r\nc@x.io,C'


def split(data: bytes, size: int) -> list[tuple[bytes, int]]:
    splitter = RecordSplitter()
    found = []
    for start in range(0, len(data), size):
        found += list(splitter.feed(data[start : start + size]))
    return found + list(splitter.end())


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, len(FILE)])
def test_i1_records_are_cut_at_line_breaks_outside_quotes_whatever_the_pieces(size: int) -> None:
    records = split(FILE, size)
    assert [record for record, _ in records] == [
        b"email,name\r\n",
        b'a@x.io,"Ann, ""A"""\r\n',
        b'"b@x.io","B\nC"\r\n',
        b"\r\n",
        b"c@x.io,C",
    ]
    assert [end for _, end in records] == [12, 33, 49, 51, len(FILE)]  # resumable offsets


def test_i1_a_record_left_open_past_the_bound_fails_the_file() -> None:
    with pytest.raises(FileError):
        split(b'a\n"' + b"x" * (MAX_RECORD_BYTES + 1), 4096)


@pytest.mark.parametrize(
    ("record", "fields"),
    [
        (b"a,b,c\r\n", ["a", "b", "c"]),
        (b'"a,1","b ""q""",\n', ["a,1", 'b "q"', ""]),
        (b'"multi\nline",x', ["multi\nline", "x"]),
        (b"\r\n", []),
    ],
)
def test_i1_fields_are_read_as_rfc_4180_quotes_them(record: bytes, fields: list[str]) -> None:
    assert fields_of(record) == fields


@pytest.mark.parametrize("record", [b'"a"b,c\n', b"\xff\xfe,a\n"])
def test_i4_a_badly_quoted_or_non_utf8_record_is_unreadable(record: bytes) -> None:
    with pytest.raises(ValueError):
        fields_of(record)


@pytest.mark.parametrize(
    ("header", "mapping", "by_index"),
    [
        ("\ufeffEmail,First Name,x,last_name\n", None,
         {0: "email", 1: "first_name", 3: "last_name"}),
        ("E-mail,jobtitle,Owner Id\n", None, {0: "email", 1: "job_title", 2: "owner_id"}),
        ("mail,who\n", [("mail", "email"), ("who", "first_name")], {0: "email", 1: "first_name"}),
    ],
)  # fmt: skip
def test_i1_columns_map_by_header_name_unless_a_mapping_is_given(
    header: str, mapping: list[tuple[str, str]] | None, by_index: dict[int, str]
) -> None:
    pairs = None if mapping is None else [(c, api) for c, api in mapping]
    api = {"email": "email", "first_name": "firstName"}
    given = None if pairs is None else check_mapping([(c, api[f]) for c, f in pairs])
    assert dict(columns_of(header_of(header.encode()), given).by_index) == by_index


@pytest.mark.parametrize(
    ("header", "mapping", "path"),
    [
        ("email\n", [("email", "phone")], ("mapping", "0", "field")),
        ("email\n", [("email", "email"), ("email", "email")], ("mapping", "1", "field")),
        ("email\n", [("mail", "email")], ("mapping", "0", "column")),
        ("email,email\n", [("email", "email")], ("mapping", "0", "column")),
        ("notes,phone\n", None, ("file",)),
        (",\n", None, ("file",)),
    ],
)
def test_i1_a_mapping_that_cannot_apply_is_invalid_at_its_place(
    header: str, mapping: list[tuple[str, str]] | None, path: tuple[str, ...]
) -> None:
    with pytest.raises(DomainError) as refused:
        columns_of(header_of(header.encode()), check_mapping(mapping))
    assert [(e.code, e.field) for e in refused.value.errors] == [(ErrorCode.INVALID, path)]


COLUMNS = Columns(
    {0: "email", 1: "first_name", 2: "lifecycle_stage", 3: "owner_id"},
    {"email": "Email", "first_name": "First", "lifecycle_stage": "Stage", "owner_id": "Owner"},
)


@pytest.mark.parametrize(
    ("record", "values", "error"),
    [
        (b"A@X.io, Ann ,lead,\n", {"email": "A@x.io", "first_name": "Ann",
                                   "lifecycle_stage": LifecycleStage.LEAD}, None),
        (b",Ann,Marketing qualified lead,\n", {"first_name": "Ann",
         "lifecycle_stage": LifecycleStage.MARKETING_QUALIFIED_LEAD}, None),
        (b"nope,Ann,,\n", {}, ("Email", ErrorCode.INVALID)),
        (b"a@x.io,,someday,\n", {}, ("Stage", ErrorCode.INVALID)),
        (b",,LEAD,\n", {}, (None, ErrorCode.INVALID)),
        (b'"a@x.io","A\x07",,\n', {}, ("First", ErrorCode.INVALID)),
    ],
)  # fmt: skip
def test_i4_a_row_is_parsed_and_checked_or_reported_at_its_column(
    record: bytes, values: dict[str, object], error: tuple[str | None, ErrorCode] | None
) -> None:
    parsed = parse_row(record, 5, COLUMNS)
    assert dict(parsed.values) == values
    found = None if parsed.error is None else (parsed.error.column, parsed.error.code)
    assert found == error
    assert parsed.error is None or parsed.error.row == 5


def an_account(limit: int = 1000, policy: UpgradePolicy = UpgradePolicy.AUTO) -> Account:
    opened = open_account(id="a" * 24, name="Acme", now=NOW, upgrade_policy=policy)
    return replace(opened, tier_limit=limit)


def an_import(marketing: bool = False, owners: frozenset[str] | None = None) -> Import:
    status = MarketingStatus.MARKETING if marketing else MarketingStatus.NON_MARKETING
    return Import(
        id="i" * 24,
        account_id="a" * 24,
        requested_by="u",
        file_id="f" * 24,
        file_name="c.csv",
        file_size=1,
        fingerprint="p",
        options=ImportOptions(
            mapping=tuple((name, attr) for attr, name in COLUMNS.names.items()),
            marketing_status=status,
            lifecycle_stage=LifecycleStage.SUBSCRIBER,
        ),
        status=ImportStatus.RUNNING,
        created_at=NOW,
        owners=owners,
    )


def stored(
    email: str, state: MarketingState = MarketingState.NON_MARKETING, **fields: object
) -> Contact:
    return Contact(
        id=f"c-{email}",
        account_id="a" * 24,
        created_via=CreationSource.API,
        created_at=NOW,
        updated_at=NOW,
        state=state,
        status_source=StatusSource(StatusSourceType.USER, "u"),
        status_changed_at=NOW,
        email=email,
        **fields,  # type: ignore[arg-type]
    )


def rows(*lines: str) -> list[ParsedRow]:
    return [parse_row(line.encode() + b"\n", n, COLUMNS) for n, line in enumerate(lines, 1)]


def plan(lines: list[str], matches: list[Contact], **options: object) -> ChunkPlan:
    ids = (f"new-{n}" for n in count(1))
    acct = options.pop("account", an_account())
    assert isinstance(acct, Account)
    imported = an_import(**options)  # type: ignore[arg-type]
    by_key = {c.email.lower(): c for c in matches if c.email}
    return plan_chunk(
        acct, imported, rows(*lines), by_key, frozenset({"u-1"}), lambda: next(ids), NOW
    )


@pytest.mark.parametrize(
    ("lines", "matches", "expected"),
    [
        # created, with the import's stage and D2's status
        (["n@x.io,Nia,,"], [], {"created": 1, "emails": ["n@x.io"]}),
        # matched case-insensitively and updated with the non-empty values
        (["ADA@x.io,Ada,,"], [stored("ada@x.io")], {"updated": 1, "first": {"ada@x.io": "Ada"}}),
        # a match that already holds every value
        (["ada@x.io,Ada,,"], [stored("ada@x.io", first_name="Ada")], {"unchanged": 1}),
        # a later row of the same email changes what the earlier one created
        (["n@x.io,Nia,,", "N@x.io,,customer,"], [], {"created": 1, "updated": 1,
                                                      "emails": ["n@x.io"]}),
        # an unknown owner, a stage moving back, a row naming nobody
        (["n@x.io,,,u-2"], [], {"failed": [(1, "Owner", ErrorCode.NOT_FOUND)]}),
        (["ada@x.io,,lead,"], [stored("ada@x.io", lifecycle_stage=LifecycleStage.CUSTOMER)],
         {"failed": [(1, "Stage", ErrorCode.INVALID)]}),
        ([",,lead,"], [], {"failed": [(1, None, ErrorCode.INVALID)]}),
    ],
)  # fmt: skip
def test_i2_i4_rows_are_matched_by_email_or_create_or_fail(
    lines: list[str], matches: list[Contact], expected: dict[str, object]
) -> None:
    planned = plan(lines, matches)
    outcome = planned.counts
    assert outcome.created == expected.get("created", 0)
    assert outcome.updated == expected.get("updated", 0)
    assert outcome.unchanged == expected.get("unchanged", 0)
    failed = [(e.row, e.column, e.code) for e in planned.errors]
    assert failed == expected.get("failed", [])
    assert (
        outcome.rows
        == len(lines)
        == outcome.created + outcome.updated + outcome.unchanged + len(failed)
    )
    if "emails" in expected:
        assert [c.email for c in planned.created] == expected["emails"]
        assert all(c.created_via is CreationSource.IMPORT for c in planned.created)
        assert all(c.state is MarketingState.NON_MARKETING for c in planned.created)
    for email, first in dict(expected.get("first", {})).items():  # type: ignore[call-overload]
        (update,) = [u for u in planned.updates if u.after.email == email]
        assert (
            update.after.first_name == first and update.before.status_seq == update.after.status_seq
        )


def test_i2_a_later_row_of_a_created_contact_is_one_creation() -> None:
    planned = plan(["n@x.io,Nia,,", "N@x.io,,customer,"], [])
    (made,) = planned.created
    assert (made.first_name, made.lifecycle_stage) == ("Nia", LifecycleStage.CUSTOMER)


@pytest.mark.parametrize(
    ("state", "after", "history"),
    [
        (MarketingState.NON_MARKETING, MarketingState.MARKETING, 1),
        (MarketingState.MARKETING_UNTIL_NEXT_UPDATE, MarketingState.MARKETING, 1),
        (MarketingState.MARKETING, MarketingState.MARKETING, 0),
    ],
)
def test_i3_the_marketing_option_makes_matched_n_and_p_contacts_m(
    state: MarketingState, after: MarketingState, history: int
) -> None:
    planned = plan(["ada@x.io,,,", "new@x.io,,,"], [stored("ada@x.io", state)], marketing=True)
    assert [c.state for c in planned.created] == [MarketingState.MARKETING]
    matched = [u.after.state for u in planned.updates] or [state]
    assert matched == [after]
    assert len(planned.history) == history + 1  # the created one's entry too
    for update in planned.updates:
        assert update.after.status_source == StatusSource(StatusSourceType.IMPORT, "i" * 24)


@pytest.mark.parametrize(
    ("policy", "created", "failed"),
    [(UpgradePolicy.AUTO, 3, []), (UpgradePolicy.BLOCK, 2, [3])],
)
def test_i3_t6_under_block_rows_past_the_tier_fail_with_tier_limit_reached(
    policy: UpgradePolicy, created: int, failed: list[int]
) -> None:
    acct = an_account(limit=2, policy=policy)
    planned = plan(["a@x.io,,,", "b@x.io,,,", "c@x.io,,,"], [], marketing=True, account=acct)
    assert len(planned.created) == created
    assert [(e.row, e.code) for e in planned.errors] == [
        (row, ErrorCode.TIER_LIMIT_REACHED) for row in failed
    ]
    assert planned.change.account.counts.marketing == created
    assert (planned.change.tier_change is not None) is (policy is UpgradePolicy.AUTO)


def test_p3_a_match_the_requester_does_not_see_fails_as_a_taken_address() -> None:
    planned = plan(
        ["ada@x.io,Ada,,"], [stored("ada@x.io", owner_id="u-9")], owners=frozenset({"u-1"})
    )
    assert [(e.column, e.code) for e in planned.errors] == [("Email", ErrorCode.DUPLICATE)]
    assert planned.updates == () and planned.created == ()

"""C6 and C12 as pure rules: which engagements move the last contact, how the activity dates
move (forward only, whatever the order engagements are logged in), what a body may hold, when
an engagement may say it happened, and how the records an engagement names are read and
refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketing_contacts.domain.associations import RecordRef, RecordType
from marketing_contacts.domain.engagements import (
    MAX_BODY_LENGTH,
    ActivityDates,
    EngagementType,
    check_body,
    moves_last_contacted,
    named_not_found,
    named_records,
)
from marketing_contacts.domain.errors import MAX_ID_LENGTH, MAX_NAMED_IDS, DomainError, ErrorCode
from marketing_contacts.domain.occurrences import CLOCK_SKEW, occurred_at

T = EngagementType
CONTACT, COMPANY, DEAL = RecordType.CONTACT, RecordType.COMPANY, RecordType.DEAL
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EARLIER, LATER = NOW - timedelta(days=1), NOW + timedelta(days=1)


def refused(call: Callable[[], object]) -> list[tuple[ErrorCode, tuple[str, ...]]]:
    with pytest.raises(DomainError) as error:
        call()
    return [(e.code, e.field) for e in error.value.errors]


@pytest.mark.parametrize(
    ("kind", "contacts"),
    [(T.TASK, False), (T.CALL, True), (T.NOTE, False), (T.EMAIL, True), (T.MEETING, True)],
)
def test_c12_calls_emails_and_meetings_move_the_last_contact(kind: T, contacts: bool) -> None:
    assert moves_last_contacted(kind) is contacts


@pytest.mark.parametrize(
    ("before", "kind", "at", "after"),
    [
        (ActivityDates(), T.NOTE, NOW, ActivityDates(NOW, None)),
        (ActivityDates(), T.CALL, NOW, ActivityDates(NOW, NOW)),
        (ActivityDates(EARLIER, EARLIER), T.TASK, NOW, ActivityDates(NOW, EARLIER)),
        (ActivityDates(EARLIER, EARLIER), T.MEETING, NOW, ActivityDates(NOW, NOW)),
        # an older engagement moves neither date back
        (ActivityDates(NOW, NOW), T.EMAIL, EARLIER, ActivityDates(NOW, NOW)),
        (ActivityDates(LATER, None), T.CALL, NOW, ActivityDates(LATER, NOW)),
        (ActivityDates(NOW, NOW), T.NOTE, NOW, ActivityDates(NOW, NOW)),
    ],
)
def test_c12_logging_moves_the_dates_forward_only(
    before: ActivityDates, kind: T, at: datetime, after: ActivityDates
) -> None:
    assert before.after(kind, at) == after


@given(
    st.lists(
        st.tuples(
            st.sampled_from(EngagementType),
            st.datetimes(
                min_value=datetime(2000, 1, 1),
                max_value=datetime(2030, 1, 1),
                timezones=st.just(UTC),
            ),
        ),
        max_size=30,
    )
)
def test_c12_last_activity_never_moves_backwards_over_any_sequence(
    logged: list[tuple[EngagementType, datetime]],
) -> None:
    dates = ActivityDates()
    for kind, at in logged:
        moved = dates.after(kind, at)
        for old, new in [
            (dates.last_activity_at, moved.last_activity_at),
            (dates.last_contacted_at, moved.last_contacted_at),
        ]:
            assert old is None or (new is not None and new >= old)
        dates = moved
    ats = [at for _, at in logged]
    contacted = [at for kind, at in logged if moves_last_contacted(kind)]
    assert dates.last_activity_at == (max(ats) if ats else None)
    assert dates.last_contacted_at == (max(contacted) if contacted else None)


@pytest.mark.parametrize(
    "body",
    [None, "", "Call back.\nIn May,\tafter the board.\r\n", "x" * MAX_BODY_LENGTH, "Ünïcode ✓"],
)
def test_a_body_is_text_with_tabs_and_line_breaks(body: str | None) -> None:
    check_body(body, "body")


@pytest.mark.parametrize(
    "body", ["x" * (MAX_BODY_LENGTH + 1), "nul\x00", "\x1b[31mred", "del\x7f", "next\x85line"]
)
def test_a_body_too_long_or_with_a_control_character_is_invalid(body: str) -> None:
    assert refused(lambda: check_body(body, "body")) == [(ErrorCode.INVALID, ("body",))]


@pytest.mark.parametrize(
    ("at", "kept"),
    [
        (NOW, NOW),
        (NOW - timedelta(days=3650), NOW - timedelta(days=3650)),
        (NOW + CLOCK_SKEW, NOW + CLOCK_SKEW),  # a caller's clock a little ahead
        (NOW.replace(microsecond=123_456), NOW.replace(microsecond=123_000)),  # as stored
        (datetime(1970, 1, 1, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC)),
    ],
)
def test_an_engagement_says_when_it_happened(at: datetime, kept: datetime) -> None:
    assert occurred_at(at, NOW, "occurred_at") == kept


@pytest.mark.parametrize(
    "at",
    [
        NOW + CLOCK_SKEW + timedelta(milliseconds=1),
        NOW + timedelta(days=365),
        datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),  # before any id's second
    ],
)
def test_an_engagement_in_the_future_or_before_1970_is_invalid(at: datetime) -> None:
    refusal = refused(lambda: occurred_at(at, NOW, "occurred_at"))
    assert refusal == [(ErrorCode.INVALID, ("occurred_at",))]


def test_c6_the_records_named_are_taken_once_each_in_the_order_named() -> None:
    named = {CONTACT: ["c2", "c1", "c2"], COMPANY: ["k1"], DEAL: []}
    assert named_records(named) == [
        RecordRef(CONTACT, "c2"),
        RecordRef(CONTACT, "c1"),
        RecordRef(COMPANY, "k1"),
    ]


@pytest.mark.parametrize(
    ("named", "refusal"),
    [
        (
            {COMPANY: [f"k{n}" for n in range(MAX_NAMED_IDS + 1)]},
            [(ErrorCode.TOO_MANY, ("company_ids",))],
        ),
        (
            {DEAL: ["d1", "x" * (MAX_ID_LENGTH + 1)]},
            [(ErrorCode.INVALID, ("deal_ids", "1"))],
        ),
    ],
)
def test_c6_too_many_records_or_a_too_long_id_is_refused_at_its_list(
    named: dict[RecordType, list[str]], refusal: list[tuple[ErrorCode, tuple[str, ...]]]
) -> None:
    assert refused(lambda: named_records(named)) == refusal


def test_c6_as_many_distinct_records_as_a_list_takes_pass() -> None:
    ids = [f"c{n}" for n in range(MAX_NAMED_IDS)]
    assert len(named_records({CONTACT: [*ids, *ids]})) == MAX_NAMED_IDS


def test_p3_each_record_not_found_is_refused_at_its_first_index() -> None:
    named = {CONTACT: ["c1", "c9", "c9"], COMPANY: ["c1", "k1"], DEAL: ["d1"]}
    found = {RecordRef(CONTACT, "c1"), RecordRef(COMPANY, "k1")}
    missing = named_not_found(named, found)
    assert missing is not None
    assert [(e.code, e.field) for e in missing.errors] == [
        (ErrorCode.NOT_FOUND, ("contact_ids", "1")),
        (ErrorCode.NOT_FOUND, ("company_ids", "0")),  # a contact's id is no company's
        (ErrorCode.NOT_FOUND, ("deal_ids", "0")),
    ]
    assert [e.message for e in missing.errors][1] == "company 'c1' does not exist"
    everything = {RecordRef(t, i) for t, ids in named.items() for i in ids}
    assert named_not_found(named, everything) is None

"""What a client sends is bounded and plain, and no message repeats more than a short prefix of
it: quoted values, bounded ids, names without control characters, bounded filters and zones."""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable

import pytest

from marketing_contacts.domain.contacts import check_text_fields
from marketing_contacts.domain.errors import (
    MAX_ID_LENGTH,
    MAX_NAMED_IDS,
    QUOTED_LENGTH,
    DomainError,
    ErrorCode,
    check_id,
    check_ids,
    check_no_controls,
    contacts_not_found,
    quoted,
)
from marketing_contacts.domain.filters import MAX_DOMAIN_LENGTH, ContactFilter
from marketing_contacts.domain.update_dates import MAX_ZONE_NAME_LENGTH, zone


def refusal(call: Callable[[], object]) -> list[tuple[ErrorCode, tuple[str, ...], str]]:
    with pytest.raises(DomainError) as refused:
        call()
    return [(e.code, e.field, e.message) for e in refused.value.errors]


def fields_of(call: Callable[[], object]) -> list[tuple[ErrorCode, tuple[str, ...]]]:
    return [(code, field) for code, field, _ in refusal(call)]


# ---------------------------------------------------------------- quoted


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("", "''"),
        ("ada@example.com", "'ada@example.com'"),
        ("x" * QUOTED_LENGTH, repr("x" * QUOTED_LENGTH)),
        ("x" * (QUOTED_LENGTH + 1), repr("x" * QUOTED_LENGTH) + "…"),
        ("y" * 1_000_000, repr("y" * QUOTED_LENGTH) + "…"),
        ("it's", '"it\'s"'),
        ("a\x00b", "'a\\x00b'"),  # as repr shows it: a control character is visible
    ],
)
def test_quoted_repeats_at_most_a_short_prefix(value: str, shown: str) -> None:
    assert quoted(value) == shown


def test_quoted_is_short_whatever_the_characters() -> None:
    """repr widens a character to at most 10 (\\U0010ffff): still a few hundred at most."""
    assert len(quoted(chr(0x10FFFF) * 10_000)) <= QUOTED_LENGTH * 10 + 3


# ---------------------------------------------------------------- ids


def test_an_id_past_its_bound_is_invalid_on_its_field() -> None:
    check_id("i" * MAX_ID_LENGTH, "id")
    check_id(None, "id")
    [(code, field, message)] = refusal(lambda: check_id("i" * (MAX_ID_LENGTH + 1), "id"))
    assert (code, field) == (ErrorCode.INVALID, ("id",))
    assert len(message) < 100


@pytest.mark.parametrize(
    ("ids", "index"),
    [
        (["a", "i" * (MAX_ID_LENGTH + 1)], "1"),
        (["i" * (MAX_ID_LENGTH + 1)] * 5_000, "0"),  # one error, however many are too long
        (["a", "b", "i" * 1_000_000, "i" * (MAX_ID_LENGTH + 1)], "2"),
    ],
)
def test_the_first_id_of_a_list_past_its_bound_is_the_one_error(ids: list[str], index: str) -> None:
    assert fields_of(lambda: check_ids(ids, "contact_ids")) == [
        (ErrorCode.INVALID, ("contact_ids", index))
    ]


def test_ids_within_their_bound_pass() -> None:
    check_ids([], "contact_ids")
    check_ids(["a", "i" * MAX_ID_LENGTH], "contact_ids")


@pytest.mark.parametrize(
    ("given", "found", "named", "more"),
    [
        (["a", "b"], {"a", "b"}, [], None),
        (["a", "x", "b", "x", "y"], {"a", "b"}, [("x", "1"), ("y", "4")], None),  # first index
        ([f"c{n}" for n in range(MAX_NAMED_IDS)], set(), MAX_NAMED_IDS, None),
        ([f"c{n}" for n in range(10_000)], {"c5"}, MAX_NAMED_IDS, 10_000 - 1 - MAX_NAMED_IDS),
    ],
)
def test_unknown_contacts_are_named_up_to_a_hundred_and_the_rest_counted(
    given: list[str], found: set[str], named: list[tuple[str, str]] | int, more: int | None
) -> None:
    refused = contacts_not_found(given, found, "contact_ids")
    if not named:
        assert refused is None
        return
    assert refused is not None
    errors = list(refused.errors)
    assert {e.code for e in errors} == {ErrorCode.NOT_FOUND}
    counted = errors.pop() if more is not None else None
    if isinstance(named, list):
        assert [(e.message, e.field) for e in errors] == [
            (f"contact {quoted(cid)} does not exist", ("contact_ids", index))
            for cid, index in named
        ]
    else:
        assert len(errors) == named
    if counted is not None:
        assert (counted.field, counted.message) == (
            ("contact_ids",),
            f"{more} more contacts do not exist",
        )


# ---------------------------------------------------------------- control characters

CONTROLS = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cc"]


@pytest.mark.parametrize("control", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_every_character_of_category_cc_is_refused_in_a_name(control: str) -> None:
    assert fields_of(lambda: check_no_controls(f"Ada{control}", "first_name")) == [
        (ErrorCode.INVALID, ("first_name",))
    ]


def test_category_cc_is_c0_del_and_c1() -> None:
    assert [ord(c) for c in CONTROLS] == [*range(0x20), *range(0x7F, 0xA0)]


@pytest.mark.parametrize(
    "name",
    [
        "Ada Lovelace",
        "Zoë Ŋgũgĩ",
        "李小龍",
        "O'Brien-Smith, Jr.",
        "Ada\u00a0Lovelace",  # a no-break space is a space (Zs), not a control
        "Ada\u200dLovelace",  # a zero-width joiner is a format character (Cf), not a control
        "👩‍💻",
    ],
)
def test_names_without_control_characters_pass(name: str) -> None:
    check_no_controls(name, "first_name")


@pytest.mark.parametrize("field", ["first_name", "last_name", "job_title", "company_name"])
@pytest.mark.parametrize("value", ["Ada\x00", "Ada\nLovelace", "\tAda", "Ada\x1b[31m", "Ada\x85"])
def test_a_contact_name_with_a_control_character_is_invalid_on_its_field(
    field: str, value: str
) -> None:
    assert fields_of(lambda: check_text_fields({field: value})) == [(ErrorCode.INVALID, (field,))]


# ---------------------------------------------------------------- filters and zones


@pytest.mark.parametrize(
    ("where", "field"),
    [
        (ContactFilter(email_domain="d" * (MAX_DOMAIN_LENGTH + 1)), "email_domain"),
        (ContactFilter(owner_id="o" * 1_001), "owner_id"),
        (ContactFilter(list_id="l" * (MAX_ID_LENGTH + 1)), "list_id"),
    ],
)
def test_a_filter_string_past_its_bound_is_invalid_under_the_filter(
    where: ContactFilter, field: str
) -> None:
    assert fields_of(lambda: where.check("filter")) == [(ErrorCode.INVALID, ("filter", field))]


def test_a_filter_within_its_bounds_passes() -> None:
    ContactFilter().check("filter")
    ContactFilter(
        email_domain="d" * MAX_DOMAIN_LENGTH, owner_id="o" * 1_000, list_id="l" * MAX_ID_LENGTH
    ).check("filter")


@pytest.mark.parametrize(
    "name",
    ["Mars/Olympus_Mons", "z" * (MAX_ZONE_NAME_LENGTH + 1), "Europe/Amsterdam" + "x" * 1_000_000],
)
def test_an_unknown_or_overlong_zone_is_invalid_and_its_message_is_short(name: str) -> None:
    [(code, field, message)] = refusal(lambda: zone(name))
    assert (code, field) == (ErrorCode.INVALID, ("timezone",))
    assert len(message) < 100


def test_a_zone_name_within_the_bound_is_looked_up() -> None:
    assert str(zone("America/Argentina/ComodRivadavia")) == "America/Argentina/ComodRivadavia"

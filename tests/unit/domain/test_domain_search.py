"""C11: the keys a record is found by and the prefix a search looks for; the index bounds a
prefix becomes select exactly the keys that start with it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.search import (
    MAX_SEARCH_LENGTH,
    found_by,
    search_key,
    search_keys,
    search_prefix,
)
from marketing_contacts.storage.search import prefix_end, prefix_range


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Ada", "ada"),
        ("  Lovelace ", "lovelace"),
        ("ÉMILE", "émile"),
        ("Ada.L@Example.COM", "ada.l@example.com"),
        ("   ", None),
        ("", None),
        (None, None),
    ],
)
def test_a_value_is_found_by_its_trimmed_lower_case(text: str | None, key: str | None) -> None:
    assert search_key(text) == key


def test_a_record_is_found_by_each_of_its_values_that_is_not_blank() -> None:
    assert search_keys("Ada", None, " ", "ada@x.org") == frozenset({"ada", "ada@x.org"})


@pytest.mark.parametrize(
    ("keys", "prefix", "found"),
    [
        ({"ada", "lovelace"}, "love", True),
        ({"ada", "lovelace"}, "ada", True),
        ({"ada", "lovelace"}, "vela", False),  # a prefix, not a part
        ({"ada"}, "adam", False),
        (set(), "a", False),
    ],
)
def test_a_search_finds_a_record_one_of_whose_keys_starts_with_it(
    keys: set[str], prefix: str, found: bool
) -> None:
    assert found_by(frozenset(keys), prefix) is found


def test_a_search_is_bounded_and_holds_no_control_character() -> None:
    assert search_prefix(" Ada ", "search") == "ada"
    assert search_prefix("  ", "search") is None
    assert search_prefix("a" * MAX_SEARCH_LENGTH, "search") == "a" * MAX_SEARCH_LENGTH
    for bad in ("a" * (MAX_SEARCH_LENGTH + 1), "ad\na"):
        with pytest.raises(DomainError) as refused:
            search_prefix(bad, "filter", "search")
        errors = [(e.code, e.field) for e in refused.value.errors]
        assert errors == [(ErrorCode.INVALID, ("filter", "search"))]


# what BSON strings hold: any character but the UTF-16 surrogates
_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=6)


@given(prefix=_TEXT.filter(bool), key=_TEXT)
def test_the_index_bounds_of_a_prefix_hold_exactly_the_keys_it_starts(
    prefix: str, key: str
) -> None:
    """MongoDB compares strings by their UTF-8 bytes, which is Python's code point order."""
    end = prefix_end(prefix)
    within = prefix <= key and (end is None or key < end)
    assert within is key.startswith(prefix)


@pytest.mark.parametrize(
    ("prefix", "end"),
    [
        ("ab", "ac"),
        ("a\U0010ffff", "b"),
        ("\U0010ffff", None),
        ("a\ud7ff", "a\ue000"),  # past the surrogates, which no string holds
    ],
)
def test_a_prefix_ends_at_the_first_string_it_does_not_start(prefix: str, end: str | None) -> None:
    assert prefix_end(prefix) == end


def test_both_bounds_hold_for_one_key_of_the_array() -> None:
    assert prefix_range("ad") == {"$elemMatch": {"$gte": "ad", "$lt": "ae"}}
    assert prefix_range("\U0010ffff") == {"$elemMatch": {"$gte": "\U0010ffff"}}

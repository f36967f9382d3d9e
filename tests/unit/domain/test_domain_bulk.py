"""Bulk work decided without storage (B1-B5 in docs/rules.md)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from marketing_contacts.domain.bulk import MAX_SELECTED_IDS, Selection, check_idempotency_key
from marketing_contacts.domain.errors import MAX_ID_LENGTH, DomainError, ErrorCode
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import MarketingStatus


def test_b1_a_selection_names_exactly_one_of_its_fields() -> None:
    makes: list[Callable[[], Selection]] = [
        lambda: Selection(),
        lambda: Selection(ids=("a",), list_id="l"),
        lambda: Selection(filter=ContactFilter(), unengaged=True),
    ]
    for make in makes:
        with pytest.raises(DomainError) as refused:
            make()
        assert [(e.code, e.field) for e in refused.value.errors] == [
            (ErrorCode.INVALID, ("selection",))
        ]


def test_b1_s6_unengaged_selects_with_true_only() -> None:
    """`unengaged: false` would select every engaged contact: a filter says that plainly."""
    assert Selection(unengaged=True).as_filter() == ContactFilter(
        marketing_status=MarketingStatus.MARKETING, unengaged=True
    )
    with pytest.raises(DomainError) as refused:
        Selection(unengaged=False)
    assert [(e.code, e.field) for e in refused.value.errors] == [
        (ErrorCode.INVALID, ("selection", "unengaged"))
    ]


def test_b1_an_id_given_twice_selects_one_contact() -> None:
    assert Selection(ids=("a", "b", "a", "c", "b")).ids == ("a", "b", "c")


def test_b1_the_id_limit_counts_contacts_not_repeated_ids() -> None:
    ids = tuple(f"c{n}" for n in range(MAX_SELECTED_IDS))
    assert Selection(ids=ids + ids[:10]).ids == ids
    with pytest.raises(DomainError) as refused:
        Selection(ids=(*ids, "one-more"))
    assert [(e.code, e.field) for e in refused.value.errors] == [
        (ErrorCode.TOO_MANY, ("selection", "ids"))
    ]


LONG_ID = "i" * (MAX_ID_LENGTH + 1)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Selection(ids=()), ("ids",)),  # an operation that could match nothing
        (lambda: Selection(ids=("a", LONG_ID)), ("ids", "1")),
        (lambda: Selection(ids=("a", "a", "b", LONG_ID, LONG_ID)), ("ids", "3")),  # as given
        (lambda: Selection(list_id=LONG_ID), ("list_id",)),
        (
            lambda: Selection(filter=ContactFilter(email_domain="d" * 254)),
            ("filter", "email_domain"),
        ),
        (lambda: Selection(filter=ContactFilter(owner_id="o" * 1_001)), ("filter", "owner_id")),
        (lambda: Selection(filter=ContactFilter(list_id=LONG_ID)), ("filter", "list_id")),
    ],
)
def test_b1_a_selection_that_names_nothing_or_too_long_a_string_is_invalid_at_it(
    make: Callable[[], Selection], field: tuple[str, ...]
) -> None:
    with pytest.raises(DomainError) as refused:
        make()
    assert [(e.code, e.field) for e in refused.value.errors] == [
        (ErrorCode.INVALID, ("selection", *field))
    ]


@pytest.mark.parametrize("key", ["", " ", "\t\n", "k" * (MAX_ID_LENGTH + 1)])
def test_b5_an_empty_blank_or_overlong_idempotency_key_is_invalid(key: str) -> None:
    with pytest.raises(DomainError) as refused:
        check_idempotency_key(key)
    assert [(e.code, e.field) for e in refused.value.errors] == [
        (ErrorCode.INVALID, ("idempotency_key",))
    ]


@pytest.mark.parametrize("key", [None, "k", "campaign-42", " padded ", "k" * MAX_ID_LENGTH])
def test_b5_an_idempotency_key_with_something_in_it_is_taken(key: str | None) -> None:
    check_idempotency_key(key)

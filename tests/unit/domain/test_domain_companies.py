"""C2 and C11 for companies: names and domains as a company keeps them, what a company filter
selects, which records are associated, and a contact's companies in their order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from marketing_contacts.domain.associations import (
    Association,
    ContactCompany,
    RecordType,
    companies_in_order,
    pair_of,
)
from marketing_contacts.domain.companies import (
    MAX_COMPANY_NAME_LENGTH,
    Company,
    CompanyFilter,
    company_domain,
    company_name,
)
from marketing_contacts.domain.errors import DomainError, ErrorCode

AT = datetime(2026, 1, 1, tzinfo=UTC)
CONTACT, COMPANY, DEAL = RecordType.CONTACT, RecordType.COMPANY, RecordType.DEAL


def refused(call: object) -> list[tuple[ErrorCode, tuple[str, ...]]]:
    assert callable(call)
    with pytest.raises(DomainError) as error:
        call()
    return [(e.code, e.field) for e in error.value.errors]


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("  Acme  ", "Acme"),
        ("Ö", "Ö"),
        ("x" * MAX_COMPANY_NAME_LENGTH, "x" * MAX_COMPANY_NAME_LENGTH),
    ],
)
def test_a_company_name_is_trimmed(raw: str, kept: str) -> None:
    assert company_name(raw, "name") == kept


@pytest.mark.parametrize("raw", ["", "   ", "x" * (MAX_COMPANY_NAME_LENGTH + 1), "Ac\nme"])
def test_a_company_name_has_one_to_200_readable_characters(raw: str) -> None:
    assert refused(lambda: company_name(raw, "name")) == [(ErrorCode.INVALID, ("name",))]


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("Example.COM", "example.com"),
        (" sub.example.co.uk. ", "sub.example.co.uk"),
        ("münchen.de", "münchen.de"),
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
        ("", None),
        ("  ", None),
        (None, None),
    ],
)
def test_a_domain_is_kept_in_lower_case(raw: str | None, kept: str | None) -> None:
    assert company_domain(raw, "domain") == kept


@pytest.mark.parametrize(
    "raw",
    ["https://example.com", "example.com/about", "ada@example.com", "example", "a b.com",
     "-x.com", "x-.com", "x..com", "1.2.3.4", "x" * 250 + ".com"],
)  # fmt: skip
def test_a_domain_is_a_host_name(raw: str) -> None:
    assert refused(lambda: company_domain(raw, "domain")) == [(ErrorCode.INVALID, ("domain",))]


ACME = Company("c1", "a1", "Acme Corp", AT, AT, domain="acme.io", owner_id="u1")


@pytest.mark.parametrize(
    ("where", "selected"),
    [
        (CompanyFilter(), True),
        (CompanyFilter(search="ACM"), True),
        (CompanyFilter(search="acme.i"), True),
        (CompanyFilter(search="corp"), False),  # a prefix of the name, not of a word in it
        (CompanyFilter(search="  "), True),
        (CompanyFilter(domain="ACME.IO"), True),
        (CompanyFilter(domain="acme.org"), False),
        (CompanyFilter(owner_id="u1", search="a"), True),
        (CompanyFilter(owner_id="u2"), False),
    ],
)
def test_c11_a_company_filter_selects_by_prefix_domain_and_owner(
    where: CompanyFilter, selected: bool
) -> None:
    assert where.matches(ACME) is selected


@pytest.mark.parametrize(
    ("association", "pair"),
    [
        (Association(CONTACT, "p", COMPANY, "c"), ContactCompany("p", "c")),
        (Association(COMPANY, "c", CONTACT, "p", primary=True), ContactCompany("p", "c", True)),
    ],
)
def test_c2_an_association_is_the_same_whichever_side_names_it(
    association: Association, pair: ContactCompany
) -> None:
    assert pair_of(association) == pair


@pytest.mark.parametrize(
    ("association", "field"),
    [
        (Association(CONTACT, "p", CONTACT, "q"), "to_type"),
        (Association(COMPANY, "c", COMPANY, "d"), "to_type"),
        (Association(DEAL, "d", DEAL, "e"), "to_type"),
        (Association(DEAL, "d", CONTACT, "p", primary=True), "primary"),
        (Association(CONTACT, "x" * 1_000, COMPANY, "c"), "from_id"),
    ],
)
def test_c2_only_records_of_different_types_are_associated(
    association: Association, field: str
) -> None:
    assert refused(lambda: pair_of(association)) == [(ErrorCode.INVALID, (field,))]


@pytest.mark.parametrize(
    ("ids", "primary", "ordered"),
    [
        ({"b", "a", "c"}, "c", ["c", "a", "b"]),
        ({"b", "a"}, None, ["a", "b"]),
        ({"b"}, "gone", ["b"]),  # a primary no longer associated is not listed
        (set(), None, []),
    ],
)
def test_c2_a_contact_lists_its_primary_company_first(
    ids: set[str], primary: str | None, ordered: list[str]
) -> None:
    assert companies_in_order(frozenset(ids), primary) == ordered

"""Depth, aliases and cost of documents, as the limits measure them before validation."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from marketing_contacts.runtime import SCHEMA as schema
from marketing_contacts.schema.document_cost import Measure, measure_operation
from marketing_contacts.schema.limits import WEIGHTS
from marketing_contacts.services.paging import MAX_PAGE
from tests.support.graphql import fragment_bomb


def measure(
    document: str, variables: dict[str, Any] | None = None, operation_name: str | None = None
) -> Measure:
    return measure_operation(
        parse(document),
        schema._schema,
        operation_name=operation_name,
        variables=variables,
        weights=WEIGHTS,
        max_page=MAX_PAGE,
    )


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("{ usage { tierLimit } }", Measure(depth=2, aliases=0, cost=2)),
        ("{ a: usage { t: tierLimit p: percentOfTier } }", Measure(depth=2, aliases=3, cost=3)),
        # a connection multiplies its selection by `first`, else by its default (contacts: 50)
        ("{ contacts { totalCount } }", Measure(depth=2, aliases=0, cost=51)),
        (
            "{ contacts(first: 10) { edges { node { id email } } } }",
            Measure(depth=4, aliases=0, cost=1 + 10 * (1 + (1 + 2))),
        ),
        ("{ contacts(first: null) { totalCount } }", Measure(depth=2, aliases=0, cost=51)),
        # a `first` past the largest page is refused by the field before it reads: 200 at most
        ("{ contacts(first: 100000) { totalCount } }", Measure(depth=2, aliases=0, cost=201)),
        ("{ contacts(first: -5) { totalCount } }", Measure(depth=2, aliases=0, cost=1)),
        # pages within pages: statusHistory's default is 20
        (
            "{ contacts(first: 3) { edges { node { statusHistory { edges { node { at } } } } } } }",
            Measure(depth=7, aliases=0, cost=1 + 3 * (1 + (1 + (1 + 20 * (1 + 2))))),
        ),
        # selections of contacts weigh the contacts they may read
        (
            '{ previewStatusChange(selection: {ids: ["a", "b", "c"]}, status: MARKETING)'
            " { matched changeNow } }",
            Measure(depth=2, aliases=0, cost=1 + 3 * 2),
        ),
        (
            "{ previewStatusChange(selection: {filter: {}}, status: MARKETING) { matched } }",
            Measure(depth=2, aliases=0, cost=10_001),
        ),
        (
            'mutation { startBulkStatusChange(input: {selection: {listId: "l"}, status: MARKETING})'
            " { userErrors { code } } }",
            Measure(depth=3, aliases=0, cost=1 + 10_000 * 2),
        ),
        (
            "mutation { startBulkStatusChange(input: {selection: {unengaged: true},"
            " status: NON_MARKETING}) { bulkOperation { id } } }",
            Measure(depth=3, aliases=0, cost=1 + 10_000 * 2),
        ),
        (
            'mutation { setMarketingStatus(input: {contactIds: ["a", "b"], status: MARKETING})'
            " { contacts { id } } }",
            Measure(depth=3, aliases=0, cost=1 + 2 * 2),
        ),
        # createList's contactIds default to none
        ('mutation { createList(name: "x") { list { id } } }', Measure(depth=3, aliases=0, cost=1)),
        (
            'mutation { addContactsToList(listId: "l", contactIds: ["a", "b", "c", "d"])'
            " { list { size } } }",
            Measure(depth=3, aliases=0, cost=1 + 4 * 2),
        ),
        (
            'mutation { removeContactsFromList(listId: "l", contactIds: "a") { list { size } } }',
            Measure(depth=3, aliases=0, cost=1 + 1 * 2),
        ),
        # a spread counts each time it appears, and is multiplied by the page it is in
        (
            "{ ...F ...F } fragment F on Query { u: usage { tierLimit } }",
            Measure(depth=2, aliases=2, cost=4),
        ),
        (
            "{ contacts(first: 5) { edges { node { ...C } } } } fragment C on Contact { id email }",
            Measure(depth=4, aliases=0, cost=1 + 5 * (1 + (1 + 2))),
        ),
        ("{ ... on Query { usage { tierLimit } } }", Measure(depth=2, aliases=0, cost=2)),
        # introspection reads the schema: no depth
        ("{ __schema { types { fields { type { ofType { name } } } } } }", Measure(0, 0, 6)),
        ("{ usage { __typename } }", Measure(depth=1, aliases=0, cost=2)),
        # invalid documents, which validation reports: measured without failing
        ("{ ...Unknown }", Measure()),
        (
            "{ ...A } fragment A on Query { ...B usage { tierLimit } }"
            " fragment B on Query { ...A }",
            Measure(depth=2, aliases=0, cost=2),
        ),
        ("{ nope(first: 5) { a } }", Measure(depth=2, aliases=0, cost=6)),
        ("fragment F on Query { usage { tierLimit } }", Measure()),
        # the fragment bomb: 10**7 and 10**12 usage fields, measured from its 8 and 13 fragments
        (fragment_bomb(7), Measure(depth=2, aliases=0, cost=2 * 10**7)),
        (fragment_bomb(12), Measure(depth=2, aliases=0, cost=2 * 10**12)),
    ],
)
def test_the_measure_of_a_document_is_that_of_its_fragments_inlined(
    document: str, expected: Measure
) -> None:
    assert measure(document) == expected


@pytest.mark.parametrize(
    ("variables", "cost"),
    [
        ({"n": 7}, 8),
        ({}, 4),  # the variable's default
        ({"n": None}, 51),  # an explicit null: the argument's default
        ({"n": "seven"}, 51),  # coercion refuses it later; measured as the default
    ],
)
def test_first_comes_from_the_variables(variables: dict[str, Any], cost: int) -> None:
    document = "query($n: Int = 3) { contacts(first: $n) { totalCount } }"
    assert measure(document, variables).cost == cost


@pytest.mark.parametrize(
    ("selection", "cost"),
    [
        ({"ids": [f"c{n}" for n in range(10_000)]}, 1 + 10_000),
        ({"ids": []}, 1),
        ({"filter": {"emailDomain": "example.com"}}, 1 + 10_000),
        ({"listId": "l"}, 1 + 10_000),
        (None, 1 + 10_000),  # not given: coercion refuses it later
    ],
)
def test_a_selection_in_a_variable_weighs_its_ids_or_the_whole_account(
    selection: dict[str, Any] | None, cost: int
) -> None:
    document = """query($s: ContactSelection!) {
      previewStatusChange(selection: $s, status: MARKETING) { matched } }"""
    variables = {} if selection is None else {"s": selection}
    assert measure(document, variables).cost == cost


def test_the_ids_of_an_input_variable_weigh_their_number() -> None:
    document = """mutation($input: SetMarketingStatusInput!) {
      setMarketingStatus(input: $input) { contacts { id } } }"""
    measured = measure(document, {"input": {"contactIds": ["a", "b", "c"], "status": "MARKETING"}})
    assert measured.cost == 1 + 3 * 2


def test_only_the_operation_that_runs_is_measured() -> None:
    document = "query A { usage { tierLimit } } query B { contacts { totalCount } }"
    assert measure(document, operation_name="A").cost == 2
    assert measure(document, operation_name="B").cost == 51
    assert measure(document) == Measure()  # which one runs is unknown: execution says so


def test_a_chain_of_hundreds_of_fragments_is_measured_without_recursion() -> None:
    chain = " ".join(f"fragment F{n} on Query {{ ...F{n + 1} }}" for n in range(2_000))
    document = f"{{ ...F0 }} {chain} fragment F2000 on Query {{ usage {{ tierLimit }} }}"
    assert measure(document) == Measure(depth=2, aliases=0, cost=2)

"""What one document may ask of the server, through the schema on real servers: a document past
a limit is refused with TOO_COMPLEX before anything is read or changed; what a frontend sends
passes; every other error of the request's own making comes back INVALID."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from marketing_contacts.domain.bulk import MAX_SELECTED_IDS
from marketing_contacts.runtime import Runtime, open_runtime
from marketing_contacts.schema.limits import MAX_ALIASES, MAX_COST, MAX_DEPTH, MAX_TOKENS
from marketing_contacts.settings import Settings
from tests.support.commands import Commands
from tests.support.graphql import Client, open_client

PAGE = """contacts(first: 200) { edges { node { id email
  statusHistory(first: 200) { edges { node { at fromStatus toStatus } } } } } }"""
PREVIEW = "previewStatusChange(selection: {ids: $ids}, status: MARKETING) { matched }"
START = """startBulkStatusChange(input: {selection: {filter: {}}, status: NON_MARKETING})
  { bulkOperation { id } }"""
FRONTEND_PAGE = """query($after: String) { contacts(first: 100, after: $after) { totalCount
  pageInfo { hasNextPage endCursor } edges { cursor node { id email firstName lastName jobTitle
  companyName ownerId lifecycleStage createdVia createdAt updatedAt marketingStatus
  marketingUntilNextUpdate statusSourceType statusSourceId statusChangedAt emailHardBounced
  unsubscribedFromAll statusHistory(first: 20) { pageInfo { hasNextPage endCursor }
  edges { cursor node { at fromStatus toStatus pending sourceType sourceId } } } } } } }"""


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def listened(settings_for_tests: Settings) -> AsyncIterator[tuple[Runtime, Commands]]:
    """A runtime whose database commands are recorded."""
    commands = Commands()
    async with open_runtime(settings_for_tests, event_listeners=[commands]) as runtime:
        yield runtime, commands


def aliased(field: str, times: int = MAX_ALIASES) -> str:
    return " ".join(f"a{n}: {field}" for n in range(times))


def ids(count: int = MAX_SELECTED_IDS) -> list[str]:
    return [f"c{n:05}" for n in range(count)]


async def refused(
    client: Client, commands: Commands, document: str, **variables: Any
) -> dict[str, Any]:
    """The one error of a refused document, which read and wrote nothing (no resolver ran)."""
    commands.names.clear()
    result = await client.try_execute(document, **variables)
    assert commands.names == []
    assert result.data is None
    assert len(result.errors) == 1, result.errors
    error: dict[str, Any] = result.errors[0].formatted
    return error


async def test_one_largest_page_passes_and_30_under_aliases_are_refused_by_cost(
    listened: tuple[Runtime, Commands],
) -> None:
    runtime, commands = listened
    client = await open_client(runtime.services)
    one = await client.execute(f"{{ {PAGE} }}")
    assert one["contacts"]["edges"] == []
    error = await refused(client, commands, f"{{ {aliased(PAGE)} }}")
    assert error["extensions"] == {"code": "TOO_COMPLEX", "limit": "cost", "max": MAX_COST}
    assert "cost" in error["message"] and f"{MAX_COST:,}" in error["message"]


async def test_one_preview_of_10000_ids_passes_and_30_under_aliases_are_refused_by_cost(
    listened: tuple[Runtime, Commands],
) -> None:
    runtime, commands = listened
    client = await open_client(runtime.services)
    one = await client.execute(f"query($ids: [ID!]!) {{ {PREVIEW} }}", ids=ids())
    assert one["previewStatusChange"] == {"matched": 0}
    error = await refused(
        client, commands, f"query($ids: [ID!]!) {{ {aliased(PREVIEW)} }}", ids=ids()
    )
    assert error["extensions"] == {"code": "TOO_COMPLEX", "limit": "cost", "max": MAX_COST}


async def test_30_bulk_changes_of_a_filter_under_aliases_are_refused_and_start_nothing(
    listened: tuple[Runtime, Commands],
) -> None:
    runtime, commands = listened
    client = await open_client(runtime.services)
    created = await client.execute(
        "mutation { createContact(input: {marketingStatus: MARKETING}) { contact { id } } }"
    )
    error = await refused(client, commands, f"mutation {{ {aliased(START)} }}")
    assert error["extensions"]["limit"] == "cost"
    after = await client.execute(
        "{ bulkOperations { edges { node { id } } } usage { marketingContacts } }"
    )
    assert after == {"bulkOperations": {"edges": []}, "usage": {"marketingContacts": 1}}
    contact_id = created["createContact"]["contact"]["id"]
    contact = await client.execute(f'{{ contact(id: "{contact_id}") {{ marketingStatus }} }}')
    assert contact["contact"] == {"marketingStatus": "MARKETING"}


async def test_a_frontend_page_of_100_contacts_with_their_history_passes(
    listened: tuple[Runtime, Commands],
) -> None:
    runtime, _ = listened
    client = await open_client(runtime.services)
    for _ in range(3):
        created = await client.execute(
            "mutation { createContact(input: {marketingStatus: MARKETING}) { contact { id } } }"
        )
        await client.execute(
            "mutation($ids: [ID!]!) { setMarketingStatus(input: {contactIds: $ids, status:"
            " NON_MARKETING}) { userErrors { code } } }",
            ids=[created["createContact"]["contact"]["id"]],
        )
    page = (await client.execute(FRONTEND_PAGE))["contacts"]
    assert page["totalCount"] == 3
    assert [len(e["node"]["statusHistory"]["edges"]) for e in page["edges"]] == [2, 2, 2]


def nested(levels: int) -> str:
    """Fields nested `levels` deep (refused before validation, so their names do not matter)."""
    return "{ " + "f { " * (levels - 1) + "leaf" + " }" * (levels - 1) + " }"


@pytest.mark.parametrize(
    ("document", "limit", "maximum"),
    [
        (f"{{ {aliased('usage { tierLimit }', 2_000)} }}", "tokens", MAX_TOKENS),
        (nested(MAX_DEPTH + 1), "depth", MAX_DEPTH),
        (f"{{ {aliased('usage { tierLimit }', MAX_ALIASES + 1)} }}", "aliases", MAX_ALIASES),
    ],
)
async def test_a_document_past_a_limit_is_told_which_limit_and_its_value(
    listened: tuple[Runtime, Commands], document: str, limit: str, maximum: int
) -> None:
    runtime, commands = listened
    client = await open_client(runtime.services)
    error = await refused(client, commands, document)
    assert error["extensions"] == {"code": "TOO_COMPLEX", "limit": limit, "max": maximum}
    assert limit in error["message"] and f"{maximum:,}" in error["message"]


async def test_documents_at_the_depth_and_alias_limits_pass(
    listened: tuple[Runtime, Commands],
) -> None:
    runtime, _ = listened
    client = await open_client(runtime.services)
    at_depth = await client.try_execute(nested(MAX_DEPTH))
    assert at_depth.errors[0].message == "Cannot query field 'f' on type 'Query'."  # validated
    at_aliases = await client.execute(f"{{ {aliased('usage { tierLimit }')} }}")
    assert len(at_aliases) == MAX_ALIASES


@pytest.mark.parametrize(
    ("document", "variables", "message"),
    [
        ("{ usage { tierLimit }", {}, "Syntax Error: Expected Name, found <EOF>."),
        ("{ usage { nope } }", {}, "Cannot query field 'nope' on type 'Usage'."),
        (
            "query($first: Int) { contacts(first: $first) { totalCount } }",
            {"first": "ten"},
            "Variable '$first' has invalid value: Int cannot represent non-integer value: 'ten'",
        ),
        (
            "{ contact { id } }",
            {},
            "Argument 'Query.contact(id:)' of type 'ID!' is required, but it was not provided.",
        ),
    ],
    ids=["syntax", "unknown-field", "variable-type", "missing-argument"],
)
async def test_every_other_error_of_the_request_comes_back_invalid_with_its_location(
    listened: tuple[Runtime, Commands], document: str, variables: dict[str, Any], message: str
) -> None:
    runtime, commands = listened
    client = await open_client(runtime.services)
    error = await refused(client, commands, document, **variables)
    assert error["message"] == message
    assert error["extensions"] == {"code": "INVALID"}
    assert error["locations"]

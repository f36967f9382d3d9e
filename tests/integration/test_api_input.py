"""Strict, bounded input through the real schema on real servers: an answer never grows with what
a request sent, and what the rules refuse comes back with its code at its field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from marketing_contacts.domain.errors import MAX_NAMED_IDS
from marketing_contacts.runtime import Runtime
from marketing_contacts.schema.limits import MAX_ALIASES
from tests.support.graphql import Client, open_client

#: about 30 KB: thirty aliases echoing it whole would answer about a megabyte
LONG = "x" * 30_000
#: an answer to thirty aliases that each repeat a short prefix at most
SMALL_ANSWER = 64_000
USER_ERRORS = "{ userErrors { code field message } }"
#: enough echoes of LONG to be past SMALL_ANSWER
SELECTION_ALIASES = 3

#: (operation, variable type, field called with $s, what it selects, code, field at fault)
ALIASED: list[tuple[str, str, str, str, str, list[str]]] = [
    ("mutation", "String", "createContact(input: {email: $s})", USER_ERRORS, "INVALID",
     ["input", "email"]),
    ("mutation", "String", "createContact(input: {companyName: $s})", USER_ERRORS, "INVALID",
     ["input", "companyName"]),
    ("mutation", "String", "updateAccountSettings(input: {timezone: $s})", USER_ERRORS, "INVALID",
     ["input", "timezone"]),
    ("mutation", "ID!", "updateContact(id: $s, input: {})", USER_ERRORS, "INVALID", ["id"]),
    ("mutation", "String", "updateContact(id: \"c1\", input: {jobTitle: $s})", USER_ERRORS,
     "INVALID", ["input", "jobTitle"]),
    ("mutation", "ID!", "deleteContact(id: $s)", USER_ERRORS, "INVALID", ["id"]),
    ("mutation", "ID!", "setMarketingStatus(input: {contactIds: [$s], status: NON_MARKETING})",
     USER_ERRORS, "INVALID", ["input", "contactIds", "0"]),
    ("mutation", "ID!", "createList(name: \"News\", contactIds: [$s])", USER_ERRORS, "INVALID",
     ["contactIds", "0"]),
    ("mutation", "ID!", "addContactsToList(listId: $s, contactIds: [])", USER_ERRORS, "INVALID",
     ["listId"]),
    ("mutation", "ID!", "deleteList(id: $s)", USER_ERRORS, "INVALID", ["id"]),
    ("mutation", "ID!",
     "startBulkStatusChange(input: {selection: {listId: $s}, status: NON_MARKETING})",
     USER_ERRORS, "INVALID", ["input", "selection", "listId"]),
    ("mutation", "ID!",
     "startBulkStatusChange(input: {selection: {ids: [$s]}, status: NON_MARKETING})",
     USER_ERRORS, "INVALID", ["input", "selection", "ids", "0"]),
    ("mutation", "String", "startBulkStatusChange(input: {selection: {filter: {emailDomain: $s}},"
     " status: NON_MARKETING})", USER_ERRORS, "INVALID",
     ["input", "selection", "filter", "emailDomain"]),
    ("mutation", "ID!", "cancelBulkOperation(id: $s)", USER_ERRORS, "INVALID", ["id"]),
    ("query", "ID!", "contact(id: $s)", "{ id }", "INVALID", ["id"]),
    ("query", "ID!", "list(id: $s)", "{ id }", "INVALID", ["id"]),
    ("query", "ID!", "bulkOperation(id: $s)", "{ id }", "INVALID", ["id"]),
    ("query", "ID!", "previewStatusChange(selection: {listId: $s}, status: NON_MARKETING)",
     "{ matched }", "INVALID", ["selection", "listId"]),
    ("query", "ID!", "contacts(filter: {ownerId: $s})", "{ totalCount }", "INVALID",
     ["filter", "ownerId"]),
    ("query", "String", "contacts(filter: {emailDomain: $s})", "{ totalCount }", "INVALID",
     ["filter", "emailDomain"]),
    ("query", "String", "contacts(after: $s)", "{ totalCount }", "INVALID", ["after"]),
    ("query", "String", "lists(after: $s)", "{ edges { cursor } }", "INVALID", ["after"]),
]  # fmt: skip


def aliased(operation: str, variable: str, call: str, selection: str) -> str:
    """The same field, called with the same long argument, under MAX_ALIASES aliases; a few
    (SELECTION_ALIASES) for a selection by list or filter, which may read every contact of the
    account: a document of thirty of them would be refused for its cost."""
    by_list_or_filter = "selection: {" in call and "ids:" not in call
    count = SELECTION_ALIASES if by_list_or_filter else MAX_ALIASES
    fields = " ".join(f"a{n}: {call} {selection}" for n in range(count))
    return f"{operation}($s: {variable}) {{ {fields} }}"


def errors_of(result: Any) -> list[tuple[str, list[str]]]:
    """Every error of the answer, GraphQL errors and userErrors alike, as (code, field)."""
    found = [(e.extensions.get("code"), e.extensions.get("field")) for e in result.errors or []]
    for payload in (result.data or {}).values():
        if isinstance(payload, dict):
            found += [(e["code"], e["field"]) for e in payload.get("userErrors", [])]
    return found


@pytest.mark.parametrize(
    ("operation", "variable", "call", "selection", "code", "field"),
    ALIASED,
    ids=[case[2].split("(")[0] + "/" + "/".join(case[5]) for case in ALIASED],
)
async def test_thirty_aliases_of_a_long_argument_get_a_small_answer_with_coded_errors(
    runtime: Runtime,
    operation: str,
    variable: str,
    call: str,
    selection: str,
    code: str,
    field: list[str],
) -> None:
    client = await open_client(runtime.services)
    result = await client.try_execute(aliased(operation, variable, call, selection), s=LONG)
    answer = json.dumps({"data": result.data, "errors": [e.formatted for e in result.errors or []]})
    assert len(answer) < SMALL_ANSWER, answer[:500]
    errors = errors_of(result)
    assert errors, answer[:500]
    assert set(map(str, errors)) == {str((code, field))}, answer[:500]


async def test_thirty_aliases_of_many_unknown_ids_name_a_hundred_each_and_count_the_rest(
    runtime: Runtime,
) -> None:
    """Before, each alias named every unknown id: 30 x 1,000 errors, a 3 MB answer."""
    client = await open_client(runtime.services)
    unknown = [f"{n:024x}" for n in range(1_000)]
    calls = " ".join(
        f'a{n}: createList(name: "News", contactIds: $ids) {USER_ERRORS}'
        for n in range(MAX_ALIASES)
    )
    result = await client.try_execute(f"mutation($ids: [ID!]!) {{ {calls} }}", ids=unknown)
    assert result.errors is None
    assert len(json.dumps(result.data)) < 1_000_000
    for payload in result.data.values():
        errors = payload["userErrors"]
        assert [e["field"] for e in errors] == [
            *(["contactIds", str(n)] for n in range(MAX_NAMED_IDS)),
            ["contactIds"],
        ]
        assert {e["code"] for e in errors} == {"NOT_FOUND"}
        assert errors[-1]["message"] == f"{1_000 - MAX_NAMED_IDS} more contacts do not exist"
    assert (await client.execute("{ lists { edges { cursor } } }"))["lists"]["edges"] == []


# ---------------------------------------------------------------- lenient input, refused


CREATE = """mutation($input: CreateContactInput!) { createContact(input: $input) {
  contact { email firstName } userErrors { code field message } } }"""


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("firstName", "Ada\x00"),
        ("lastName", "Love\nlace"),
        ("jobTitle", "\x1b[31mCEO"),
        ("companyName", "Acme\x7f"),
        ("email", ".ada@example.com"),
        ("email", "ada..lovelace@example.com"),
        ("email", f"{'a' * 65}@example.com"),
        ("email", "ada\u200b@example.com"),
    ],
)
async def test_a_control_character_in_a_name_or_a_lax_email_is_invalid_on_its_field(
    runtime: Runtime, field: str, value: str
) -> None:
    client = await open_client(runtime.services)
    payload = (await client.execute(CREATE, input={field: value}))["createContact"]
    assert payload["contact"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID", ["input", field])
    ]
    assert (await client.execute("{ contacts { totalCount } }"))["contacts"]["totalCount"] == 0


async def test_an_email_is_stored_in_its_normal_form(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    payload = await client.execute(CREATE, input={"email": " Ada.Lovelace@EXAMPLE.com "})
    assert payload["createContact"]["contact"]["email"] == "Ada.Lovelace@example.com"


async def test_a_control_character_in_a_list_or_account_name_is_invalid(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    created = await client.execute(
        "mutation($name: String!) { createList(name: $name) { list { id } "
        "userErrors { code field } } }",
        name="News\x00letter",
    )
    assert created["createList"]["userErrors"] == [{"code": "INVALID", "field": ["name"]}]
    renamed = await client.execute(
        'mutation { updateAccountSettings(input: {name: "Acme\\tInc"}) { account { name } '
        "userErrors { code field } } }"
    )
    assert renamed["updateAccountSettings"]["userErrors"] == [
        {"code": "INVALID", "field": ["input", "name"]}
    ]
    assert (await client.execute("{ account { name } }"))["account"]["name"] == "Acme"


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-25 10:00:00Z",  # a space for the T
        "20261125T100000Z",  # the basic format
        "2026-W48-3T10:00:00Z",  # a week date
        "2026-11-25T10:00:00",  # no offset
        "2026-11-25T10:00:00+0100",  # an offset without its colon
    ],
)
async def test_a_datetime_other_than_rfc_3339_is_an_invalid_error_as_variable_and_literal(
    runtime: Runtime, value: str
) -> None:
    client = await open_client(runtime.services)
    as_variable = await client.try_execute(
        "query($at: DateTime) { contacts(filter: {createdAfter: $at}) { totalCount } }", at=value
    )
    as_literal = await client.try_execute(
        f'{{ contacts(filter: {{createdAfter: "{value}"}}) {{ totalCount }} }}'
    )
    for result in (as_variable, as_literal):
        assert result.data is None
        assert [e.extensions["code"] for e in result.errors] == ["INVALID"], result.errors


async def test_an_rfc_3339_datetime_is_taken_with_t_and_z_in_either_case(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    for value in ("2000-01-01T00:00:00Z", "2000-01-01t00:00:00.5z", "2000-01-01T01:00:00+01:00"):
        counted = await client.execute(
            "query($at: DateTime) { contacts(filter: {createdAfter: $at}) { totalCount } }",
            at=value,
        )
        assert counted["contacts"]["totalCount"] == 0


START = """mutation($input: BulkStatusChangeInput!) { startBulkStatusChange(input: $input) {
  bulkOperation { id } userErrors { code field } } }"""


async def test_a_selection_of_no_ids_is_invalid_for_the_start_and_the_preview(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    started = await client.execute(
        START, input={"selection": {"ids": []}, "status": "NON_MARKETING"}
    )
    assert started["startBulkStatusChange"] == {
        "bulkOperation": None,
        "userErrors": [{"code": "INVALID", "field": ["input", "selection", "ids"]}],
    }
    previewed = await client.try_execute(
        "{ previewStatusChange(selection: {ids: []}, status: NON_MARKETING) { matched } }"
    )
    assert [e.extensions for e in previewed.errors] == [
        {"code": "INVALID", "field": ["selection", "ids"]}
    ]
    assert await operations(client) == 0


@pytest.mark.parametrize("key", ["", "   "])
async def test_an_empty_or_blank_idempotency_key_is_invalid(runtime: Runtime, key: str) -> None:
    client = await open_client(runtime.services)
    started = await client.execute(
        START,
        input={"selection": {"filter": {}}, "status": "NON_MARKETING", "idempotencyKey": key},
    )
    assert started["startBulkStatusChange"]["userErrors"] == [
        {"code": "INVALID", "field": ["input", "idempotencyKey"]}
    ]
    assert await operations(client) == 0


async def operations(client: Client) -> int:
    listed = await client.execute("{ bulkOperations { edges { node { id } } } }")
    return len(listed["bulkOperations"]["edges"])

"""The first slice of the contract through the real schema on real SecantusDB and Redis."""

from __future__ import annotations

import re
from typing import Any

import pytest
from bson import ObjectId

from marketing_contacts.domain.users import Role
from marketing_contacts.runtime import Runtime
from marketing_contacts.services.users import UserDraft
from tests.support.graphql import Client, client_of, open_client

CREATE = """
mutation($input: CreateContactInput!) {
  createContact(input: $input) {
    contact { id email marketingStatus marketingUntilNextUpdate statusSourceType createdVia
              statusSourceId lifecycleStage }
    userErrors { code field message }
  }
}"""
UPDATE = """
mutation($id: ID!, $input: UpdateContactInput!) {
  updateContact(id: $id, input: $input) {
    contact { id email firstName lifecycleStage marketingStatus marketingUntilNextUpdate }
    userErrors { code field message }
  }
}"""
DELETE = "mutation($id: ID!) { deleteContact(id: $id) { deletedId userErrors { code field } } }"
USAGE = """{ usage { marketingContacts pendingNonMarketing nonMarketingContacts totalContacts
                     tierLimit projectedAfterNextUpdate } }"""
PAGE = """
query($first: Int, $after: String, $filter: ContactFilter) {
  contacts(first: $first, after: $after, filter: $filter) {
    totalCount
    edges { cursor node { id email } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def create(client: Client, **fields: Any) -> dict[str, Any]:
    data = await client.execute(CREATE, input=fields)
    payload: dict[str, Any] = data["createContact"]
    return payload


async def usage(client: Client) -> dict[str, int]:
    data = await client.execute(USAGE)
    result: dict[str, int] = data["usage"]
    return result


async def test_created_marketing_contact_counts_and_deleted_one_leaves_the_count(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    marketing = await create(client, email="m@example.com", marketingStatus="MARKETING")
    await create(client, email="n@example.com")
    assert (await usage(client))["marketingContacts"] == 1
    assert (await usage(client))["totalContacts"] == 2
    data = await client.execute(DELETE, id=marketing["contact"]["id"])
    assert data["deleteContact"] == {"deletedId": marketing["contact"]["id"], "userErrors": []}
    assert await usage(client) == {
        "marketingContacts": 0,
        "pendingNonMarketing": 0,
        "nonMarketingContacts": 1,
        "totalContacts": 1,
        "tierLimit": 1000,
        "projectedAfterNextUpdate": 0,
    }


@pytest.mark.parametrize(
    ("created_via", "expected"),
    [
        ("API", "NON_MARKETING"),
        ("FORM", "MARKETING"),
        ("IMPORT", "NON_MARKETING"),
        ("MOBILE_APP", "NON_MARKETING"),
    ],
)
async def test_d2_creation_defaults_through_the_api(
    runtime: Runtime, created_via: str, expected: str
) -> None:
    client = await open_client(runtime.services)
    payload = await create(client, email="d@example.com", createdVia=created_via)
    assert payload["userErrors"] == []
    assert payload["contact"]["marketingStatus"] == expected
    assert payload["contact"]["statusSourceType"] == "CREATION_DEFAULT"


async def test_d1_sources_refuse_marketing_with_a_field_path(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    payload = await create(
        client, email="s@example.com", createdVia="SALES_EMAIL", marketingStatus="MARKETING"
    )
    assert payload["contact"] is None
    assert payload["userErrors"][0]["code"] == "INVALID"
    assert payload["userErrors"][0]["field"] == ["input", "marketingStatus"]
    assert (await usage(client))["totalContacts"] == 0


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@example.com", "sp ace@x.com"])
async def test_invalid_email_is_a_user_error_and_creates_nothing(
    runtime: Runtime, email: str
) -> None:
    client = await open_client(runtime.services)
    payload = await create(client, email=email)
    assert payload["contact"] is None
    assert payload["userErrors"] == [
        {
            "code": "INVALID",
            "field": ["input", "email"],
            "message": payload["userErrors"][0]["message"],
        }
    ]
    assert (await usage(client))["totalContacts"] == 0


async def test_c8_email_is_unique_per_account_case_insensitive(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    other = await open_client(runtime.services, name="Other")
    first = await create(client, email="Ada@Example.com")
    assert first["contact"]["email"] == "Ada@example.com"  # the domain in its normal form
    again = await create(client, email="ada@example.COM")
    assert [e["code"] for e in again["userErrors"]] == ["DUPLICATE"]
    assert again["userErrors"][0]["field"] == ["input", "email"]
    assert (await create(other, email="ada@example.com"))["userErrors"] == []
    second = await create(client, email="bob@example.com")
    moved = await client.execute(
        UPDATE, id=second["contact"]["id"], input={"email": "ADA@example.com"}
    )
    assert [e["code"] for e in moved["updateContact"]["userErrors"]] == ["DUPLICATE"]
    assert (await create(client))["userErrors"] == []  # no email is fine, twice
    assert (await create(client))["userErrors"] == []


async def test_update_contact_edits_only_given_fields_and_null_clears(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    contact = (await create(client, email="e@example.com", firstName="Eve"))["contact"]
    data = await client.execute(UPDATE, id=contact["id"], input={"lifecycleStage": "LEAD"})
    assert data["updateContact"]["contact"]["firstName"] == "Eve"
    data = await client.execute(UPDATE, id=contact["id"], input={"firstName": None})
    assert data["updateContact"]["contact"]["firstName"] is None
    assert data["updateContact"]["contact"]["lifecycleStage"] == "LEAD"


async def test_c3_lifecycle_moves_back_only_by_clearing_first(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    contact = (await create(client, lifecycleStage="OPPORTUNITY"))["contact"]
    back = await client.execute(UPDATE, id=contact["id"], input={"lifecycleStage": "LEAD"})
    assert back["updateContact"]["userErrors"][0]["code"] == "INVALID"
    assert back["updateContact"]["userErrors"][0]["field"] == ["input", "lifecycleStage"]
    await client.execute(UPDATE, id=contact["id"], input={"lifecycleStage": None})
    again = await client.execute(UPDATE, id=contact["id"], input={"lifecycleStage": "LEAD"})
    assert again["updateContact"]["contact"]["lifecycleStage"] == "LEAD"


async def test_contacts_pages_with_cursors_and_total_count(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    ids = [(await create(client, email=f"p{i}@example.com"))["contact"]["id"] for i in range(5)]
    seen: list[str] = []
    after = None
    while True:
        page = (await client.execute(PAGE, first=2, after=after))["contacts"]
        assert page["totalCount"] == 5
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ids


async def test_contacts_filter_by_status_and_email_domain(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    await create(client, email="a@Acme.io", marketingStatus="MARKETING")
    await create(client, email="b@acme.io")
    await create(client, email="c@other.io", marketingStatus="MARKETING")
    by_domain = await client.execute(PAGE, filter={"emailDomain": "ACME.io"})
    assert by_domain["contacts"]["totalCount"] == 2
    marketing = await client.execute(
        PAGE, filter={"emailDomain": "acme.io", "marketingStatus": "MARKETING"}
    )
    assert [e["node"]["email"] for e in marketing["contacts"]["edges"]] == ["a@acme.io"]


async def test_c11_a_search_finds_a_contact_the_moment_it_is_written(runtime: Runtime) -> None:
    client = await open_client(runtime.services)

    async def found(search: str) -> list[str]:
        page = (await client.execute(PAGE, filter={"search": search}))["contacts"]
        assert page["totalCount"] == len(page["edges"])
        return [edge["node"]["email"] for edge in page["edges"]]

    ada = (await create(client, email="ada@engines.io", lastName="Byron"))["contact"]
    await create(client, email="charles@engines.io", firstName="Charles")
    assert await found("BYR") == ["ada@engines.io"]
    assert await found("cha") == ["charles@engines.io"]
    await client.execute(UPDATE, id=ada["id"], input={"lastName": "Lovelace"})
    assert await found("love") == ["ada@engines.io"]
    assert await found("byr") == []
    result = await client.try_execute(PAGE, filter={"search": "x" * 201})
    assert result.data is None
    assert result.errors[0].extensions == {"code": "INVALID", "field": ["filter", "search"]}


@pytest.mark.parametrize(
    ("variables", "code", "field"),
    [
        ({"first": 0}, "INVALID", ["first"]),
        ({"first": 201}, "INVALID", ["first"]),
        ({"after": "not-a-cursor"}, "INVALID", ["after"]),
    ],
)
async def test_bad_page_arguments_are_graphql_errors_with_a_code(
    runtime: Runtime, variables: dict[str, Any], code: str, field: list[str]
) -> None:
    client = await open_client(runtime.services)
    result = await client.try_execute(PAGE, **variables)
    assert result.data is None
    assert result.errors[0].extensions == {"code": code, "field": field}


async def test_unknown_enum_value_is_a_validation_error(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    result = await client.try_execute(CREATE, input={"createdVia": "CARRIER_PIGEON"})
    assert result.data is None
    assert "CARRIER_PIGEON" in result.errors[0].message
    assert (await usage(client))["totalContacts"] == 0


async def test_an_id_from_another_account_reads_as_not_found(runtime: Runtime) -> None:
    owner = await open_client(runtime.services)
    stranger = await open_client(runtime.services, name="Stranger")
    contact = (await create(owner, email="o@example.com", marketingStatus="MARKETING"))["contact"]
    seen = await stranger.execute("query($id: ID!) { contact(id: $id) { id } }", id=contact["id"])
    assert seen["contact"] is None
    for id_ in (contact["id"], "not-an-id", "000000000000000000000000"):
        deleted = await stranger.execute(DELETE, id=id_)
        assert deleted["deleteContact"]["userErrors"][0]["code"] == "NOT_FOUND"
        updated = await stranger.execute(UPDATE, id=id_, input={"firstName": "X"})
        assert updated["updateContact"]["userErrors"][0]["code"] == "NOT_FOUND"
    assert (await stranger.execute(PAGE))["contacts"]["totalCount"] == 0
    assert (await usage(owner))["marketingContacts"] == 1


async def test_account_settings_update_and_validation(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    query = """mutation($input: AccountSettingsInput!) { updateAccountSettings(input: $input) {
        account { name timezone upgradePolicy alertThresholds } userErrors { code field } } }"""
    ok = await client.execute(
        query,
        input={
            "name": "Renamed",
            "timezone": "Europe/Amsterdam",
            "upgradePolicy": "BLOCK",
            "alertThresholds": [90, 50],
        },
    )
    assert ok["updateAccountSettings"]["account"] == {
        "name": "Renamed",
        "timezone": "Europe/Amsterdam",
        "upgradePolicy": "BLOCK",
        "alertThresholds": [50, 90],
    }
    for bad, field in (
        ({"alertThresholds": [0]}, ["input", "alertThresholds", "0"]),
        ({"alertThresholds": [50, 101]}, ["input", "alertThresholds", "1"]),
        ({"alertThresholds": [60, 60]}, ["input", "alertThresholds"]),
        ({"timezone": "Mars/Olympus"}, ["input", "timezone"]),
        ({"name": "  "}, ["input", "name"]),
    ):
        refused = await client.execute(query, input=bad)
        assert refused["updateAccountSettings"]["account"] is None
        assert refused["updateAccountSettings"]["userErrors"] == [
            {"code": "INVALID", "field": field}
        ]
    account = await client.execute("{ account { name alertThresholds } }")
    assert account["account"] == {"name": "Renamed", "alertThresholds": [50, 90]}


async def test_indexes_for_the_queries_exist_after_start(runtime: Runtime) -> None:
    contacts = await runtime.mongo["contacts"].index_information()
    email = next(spec for spec in contacts.values() if ("email_key", 1) in spec["key"])
    assert email["unique"] is True
    assert email["partialFilterExpression"] == {"email_key": {"$type": "string"}}
    assert any(
        spec["key"] == [("account_id", 1), ("state", 1), ("_id", 1)] for spec in contacts.values()
    )
    history = await runtime.mongo["status_history"].index_information()
    assert any(spec.get("unique") and ("seq", -1) in spec["key"] for spec in history.values())
    tokens = await runtime.mongo["tokens"].index_information()
    assert any(
        spec.get("unique") and spec["key"] == [("secret_hash", 1)] for spec in tokens.values()
    )


async def test_a_filter_without_created_via_selects_contacts_of_every_source(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    await create(client, email="f@example.com", createdVia="FORM")
    await create(client, email="i@example.com", createdVia="IMPORT", marketingStatus="MARKETING")
    marketing = await client.execute(PAGE, filter={"marketingStatus": "MARKETING"})
    assert marketing["contacts"]["totalCount"] == 2
    by_source = await client.execute(PAGE, filter={"createdVia": "FORM"})
    assert [e["node"]["email"] for e in by_source["contacts"]["edges"]] == ["f@example.com"]


DEFAULTS = """mutation($input: AccountSettingsInput!) { updateAccountSettings(input: $input) {
    account { creationDefaults { source marketingStatus } } userErrors { code field } } }"""


async def test_d2_creation_defaults_are_configured_per_account(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    before = await create(client, email="before@example.com", createdVia="IMPORT")
    changed = await client.execute(
        DEFAULTS, input={"creationDefaults": [{"source": "IMPORT", "marketingStatus": "MARKETING"}]}
    )
    defaults = {
        d["source"]: d["marketingStatus"]
        for d in changed["updateAccountSettings"]["account"]["creationDefaults"]
    }
    assert defaults["IMPORT"] == "MARKETING"
    assert (defaults["FORM"], defaults["API"], defaults["SALES_EMAIL"]) == (
        "MARKETING",
        "NON_MARKETING",
        "NON_MARKETING",
    )
    after = await create(client, email="after@example.com", createdVia="IMPORT")
    read = await client.execute(
        "query($a: ID!, $b: ID!) { a: contact(id: $a) { marketingStatus statusSourceType } "
        "b: contact(id: $b) { marketingStatus statusSourceType } }",
        a=before["contact"]["id"],
        b=after["contact"]["id"],
    )
    assert read["a"] == {"marketingStatus": "NON_MARKETING", "statusSourceType": "CREATION_DEFAULT"}
    assert read["b"] == {"marketingStatus": "MARKETING", "statusSourceType": "CREATION_DEFAULT"}
    # D1 sources stay non-marketing; S5: a MARKETING default needs marketing access
    refused = await client.execute(
        DEFAULTS,
        input={"creationDefaults": [{"source": "MOBILE_APP", "marketingStatus": "MARKETING"}]},
    )
    assert refused["updateAccountSettings"]["userErrors"] == [
        {"code": "INVALID", "field": ["input", "creationDefaults", "0", "marketingStatus"]}
    ]
    draft = UserDraft(name="No marketing", email=None, role=Role.ADMIN, marketing_access=False)
    user = await runtime.services.users.add(client.caller.account_id, draft)
    forbidden = await (await client_of(runtime.services, user)).execute(
        DEFAULTS, input={"creationDefaults": [{"source": "API", "marketingStatus": "MARKETING"}]}
    )
    assert forbidden["updateAccountSettings"]["userErrors"] == [
        {"code": "FORBIDDEN", "field": ["input", "creationDefaults"]}
    ]
    account = await client.execute("{ account { creationDefaults { source marketingStatus } } }")
    assert {
        d["source"]: d["marketingStatus"] for d in account["account"]["creationDefaults"]
    } == defaults


async def test_an_unexpected_error_is_masked_and_logged_with_its_request_id(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    """Design principle 6: a contact whose stored state no codec reads (corrupt data) is no
    business of the client's: "Unexpected error." and a request id; the log has the traceback."""
    client = await open_client(runtime.services)
    created = await create(client, email="corrupt@example.com")
    contact_id = created["contact"]["id"]
    await runtime.mongo["contacts"].update_one(
        {"_id": ObjectId(contact_id)}, {"$set": {"state": "not-a-state"}}
    )
    result = await client.try_execute(
        "query($id: ID!) { contact(id: $id) { marketingStatus } }", id=contact_id
    )
    [error] = result.errors
    assert error.message == "Unexpected error."
    assert error.extensions["code"] == "INTERNAL"
    request_id = error.extensions["requestId"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None
    await runtime.mongo["contacts"].delete_one({"_id": ObjectId(contact_id)})


STAGES = """mutation($input: AccountSettingsInput!) { updateAccountSettings(input: $input) {
    account { lifecycleDefaults { source lifecycleStage } } userErrors { code field } } }"""


async def test_c4_lifecycle_stages_by_creation_source_are_configured_per_account(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    api = (await create(client, email="api@example.com"))["contact"]
    imported = (await create(client, email="imp@example.com", createdVia="IMPORT"))["contact"]
    chosen = (await create(client, email="mql@example.com", lifecycleStage="CUSTOMER"))["contact"]
    assert (api["lifecycleStage"], imported["lifecycleStage"], chosen["lifecycleStage"]) == (
        "LEAD",
        None,
        "CUSTOMER",
    )
    changed = await client.execute(
        STAGES,
        input={
            "lifecycleDefaults": [
                {"source": "API", "lifecycleStage": "SUBSCRIBER"},
                {"source": "IMPORT", "lifecycleStage": "LEAD"},
            ]
        },
    )
    defaults = {
        d["source"]: d["lifecycleStage"]
        for d in changed["updateAccountSettings"]["account"]["lifecycleDefaults"]
    }
    assert (defaults["API"], defaults["IMPORT"], defaults["FORM"], defaults["CHATFLOW"]) == (
        "SUBSCRIBER",
        "LEAD",
        "LEAD",
        None,
    )
    later = (await create(client, email="later@example.com"))["contact"]
    assert later["lifecycleStage"] == "SUBSCRIBER"
    first = await client.execute(
        "query($id: ID!) { contact(id: $id) { lifecycleStage } }", id=api["id"]
    )
    assert first["contact"]["lifecycleStage"] == "LEAD"  # made before: as it was
    twice = await client.execute(
        STAGES,
        input={
            "lifecycleDefaults": [
                {"source": "API", "lifecycleStage": "LEAD"},
                {"source": "API", "lifecycleStage": None},
            ]
        },
    )
    assert twice["updateAccountSettings"]["userErrors"] == [
        {"code": "INVALID", "field": ["input", "lifecycleDefaults", "1"]}
    ]

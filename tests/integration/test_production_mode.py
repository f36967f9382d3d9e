"""Production mode (ENVIRONMENT=production) tells a token holder nothing about the schema: no
GraphiQL, no introspection (FORBIDDEN), no names suggested in errors; development keeps all
three. Errors stay masked with a request id in both (tests/unit/test_refusals.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from marketing_contacts.settings import Environment, Settings
from tests.support.app import ServedApp, served

INTROSPECTION = "{ __schema { queryType { name } types { name fields { name } } } }"
ONE_TYPE = '{ __type(name: "Contact") { name fields { name } } }'
MISSPELT_FIELD = "{ contactz(first: 1) { totalCount } }"
MISSPELT_ENUM = """query($status: MarketingStatus!) {
  previewStatusChange(selection: {ids: []}, status: $status) { matched } }"""


@pytest_asyncio.fixture(scope="module", loop_scope="session", params=["development", "production"])
async def app(
    request: pytest.FixtureRequest, settings_for_tests: Settings
) -> AsyncIterator[tuple[Environment, ServedApp, str]]:
    environment: Environment = request.param
    async with served(settings_for_tests.model_copy(update={"environment": environment})) as app:
        yield environment, app, await app.new_token()


async def post(app: ServedApp, token: str, query: str, **variables: Any) -> dict[str, Any]:
    response = await app.http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("query", [INTROSPECTION, ONE_TYPE], ids=["__schema", "__type"])
async def test_introspection_is_refused_in_production_only(
    app: tuple[Environment, ServedApp, str], query: str
) -> None:
    environment, served_app, token = app
    body = await post(served_app, token, query)
    if environment == "development":
        assert "errors" not in body
        assert body["data"]
        return
    assert body.get("data") is None
    [error] = body["errors"]  # one error, however many introspection fields the document has
    assert error["extensions"] == {"code": "FORBIDDEN"}
    assert "introspection is disabled in production" in error["message"]


async def test_typename_is_no_introspection(app: tuple[Environment, ServedApp, str]) -> None:
    _, served_app, token = app
    assert await post(served_app, token, "{ __typename }") == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    ("query", "variables", "without", "suggested"),
    [
        (MISSPELT_FIELD, {}, "Cannot query field 'contactz' on type 'Query'.", "'contacts'"),
        (
            MISSPELT_ENUM,
            {"status": "MARKETIN"},
            "Variable '$status' has invalid value: Value 'MARKETIN' does not exist in "
            "'MarketingStatus' enum.",
            "'MARKETING'",
        ),
    ],
    ids=["field", "enum-value"],
)
async def test_names_are_suggested_in_development_only(
    app: tuple[Environment, ServedApp, str],
    query: str,
    variables: dict[str, Any],
    without: str,
    suggested: str,
) -> None:
    environment, served_app, token = app
    [error] = (await post(served_app, token, query, **variables))["errors"]
    assert error["extensions"]["code"] == "INVALID"
    if environment == "production":
        assert error["message"] == without
    else:
        assert error["message"].startswith(f"{without} Did you mean ")
        assert suggested in error["message"]


async def test_graphiql_is_served_in_development_only(
    app: tuple[Environment, ServedApp, str],
) -> None:
    environment, served_app, token = app
    headers = {"Accept": "text/html", "Authorization": f"Bearer {token}"}
    page = await served_app.http.get("/graphql", headers=headers)
    if environment == "development":
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()
    else:
        assert page.status_code == 404
        assert page.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"

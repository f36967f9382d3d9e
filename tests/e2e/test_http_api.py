"""The real API process over HTTP, driven by the real CLI, on the test session's servers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from marketing_contacts.devstack import IN_MEMORY, MongoServer, RedisServer
from marketing_contacts.processes import ManagedProcess, free_port, start_process, wait_until
from marketing_contacts.websocket import TRY_AGAIN_LATER
from tests.support.cli import CLI, run_json
from tests.support.workers import start_own_mongo
from tests.support.ws import acknowledged, close_code, graphql_socket, subscribe


def environment(mongo: MongoServer, redis_url: str, database: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "MONGODB_URI": mongo.uri,
        "MONGODB_DATABASE": database,
        "REDIS_URL": redis_url,
        "PORT": str(port),
        "ENVIRONMENT": "production",
    }


def start_api(env: dict[str, str], log: Path) -> tuple[ManagedProcess, str]:
    api = start_process("api", [CLI, "serve"], env=env, log_path=log)
    base = f"http://127.0.0.1:{env['PORT']}"

    def answers() -> bool:
        try:
            httpx.get(f"{base}/health", timeout=2)
        except httpx.HTTPError:
            return False
        return True

    wait_until(answers, timeout=60, what="the API to answer", process=api)
    return api, base


class Api:
    def __init__(self, base: str, env: dict[str, str]) -> None:
        self.base = base
        self.env = env

    def cli(self, *args: str) -> dict[str, Any]:
        """Run a CLI command with --json; its last line is one JSON object."""
        return run_json(self.env, *args)

    def post(self, token: str | None, query: str, **variables: Any) -> httpx.Response:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return httpx.post(
            f"{self.base}/graphql",
            json={"query": query, "variables": variables},
            headers=headers,
            timeout=30,
        )

    def data(self, token: str, query: str, **variables: Any) -> dict[str, Any]:
        response = self.post(token, query, **variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]
        return result


@pytest.fixture(scope="module")
def api(
    mongo_server: MongoServer,
    redis_server: RedisServer,
    mongo_database_name: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Api]:
    env = environment(mongo_server, redis_server.url, mongo_database_name, free_port())
    process, base = start_api(env, tmp_path_factory.mktemp("api") / "api.log")
    try:
        yield Api(base, env)
    finally:
        process.stop()


def test_health_is_200_with_the_state_of_both_servers(api: Api) -> None:
    response = httpx.get(f"{api.base}/health", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"mongodb": "ok", "redis": "ok"}


@contextmanager
def api_without_redis(
    mongo: MongoServer, database: str, tmp_path: Path
) -> Iterator[tuple[dict[str, str], str]]:
    """An API process whose Redis is not there: its environment and base URL."""
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    env = environment(mongo, dead_redis, database, free_port())
    process, base = start_api(env, tmp_path / "api.log")
    try:
        yield env, base
    finally:
        process.stop()


def test_health_is_503_when_redis_is_down(
    mongo_server: MongoServer, mongo_database_name: str, tmp_path: Path
) -> None:
    with api_without_redis(mongo_server, mongo_database_name, tmp_path) as (_, base):
        response = httpx.get(f"{base}/health", timeout=10)
        assert response.status_code == 503
        assert response.json()["mongodb"] == "ok"
        assert response.json()["redis"].startswith("down")


@pytest.mark.parametrize(
    "authorization", [None, "Bearer", "Bearer mc_wrong", "Basic dXNlcjpwYXNz", "mc_no_scheme"]
)
def test_requests_without_a_valid_token_get_401(api: Api, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = httpx.post(
        f"{api.base}/graphql",
        json={"query": "{ usage { tierLimit } }"},
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_cli_account_token_answers_the_first_query(api: Api) -> None:
    created = api.cli(
        "accounts", "create", "--name", "Acme", "--tier-limit", "2", "--tier-step", "3"
    )
    assert set(created) == {"id", "token"}
    data = api.data(created["token"], "{ usage { marketingContacts tierLimit } account { id } }")
    assert data == {
        "usage": {"marketingContacts": 0, "tierLimit": 2},
        "account": {"id": created["id"]},
    }


def test_s5_token_without_marketing_access_cannot_set_marketing(api: Api) -> None:
    account = api.cli("accounts", "create", "--name", "Limited")
    token = api.cli(
        "tokens", "create", "--account", account["id"], "--name", "intern", "--no-marketing-access"
    )["token"]
    create = """mutation($s: MarketingStatus) { createContact(input: {marketingStatus: $s}) {
        contact { marketingStatus } userErrors { code field } } }"""
    refused = api.data(token, create, s="MARKETING")["createContact"]
    assert refused == {
        "contact": None,
        "userErrors": [{"code": "FORBIDDEN", "field": ["input", "marketingStatus"]}],
    }
    allowed = api.data(token, create, s="NON_MARKETING")["createContact"]
    assert allowed["contact"] == {"marketingStatus": "NON_MARKETING"}
    usage = api.data(token, "{ usage { totalContacts marketingContacts } }")["usage"]
    assert usage == {"totalContacts": 1, "marketingContacts": 0}


def test_pending_contact_becomes_non_marketing_when_the_cli_applies_the_update_date(
    api: Api,
) -> None:
    account = api.cli("accounts", "create", "--name", "Dates", "--term", "MONTHLY")
    token = account["token"]
    contact = api.data(
        token,
        """mutation { createContact(input: {marketingStatus: MARKETING})
        { contact { id } } }""",
    )["createContact"]["contact"]
    moved = api.data(
        token,
        """mutation($ids: [ID!]!) { setMarketingStatus(input:
        {contactIds: $ids, status: NON_MARKETING}) { contacts { marketingStatus
        marketingUntilNextUpdate } usage { marketingContacts pendingNonMarketing } } }""",
        ids=[contact["id"]],
    )["setMarketingStatus"]
    assert moved["contacts"] == [{"marketingStatus": "MARKETING", "marketingUntilNextUpdate": True}]
    assert moved["usage"] == {"marketingContacts": 1, "pendingNonMarketing": 1}
    next_date = date.fromisoformat(
        api.data(token, "{ usage { nextUpdateDate } }")["usage"]["nextUpdateDate"]
    )
    applied = api.cli(
        "update-date",
        "run",
        "--account",
        account["id"],
        "--as-of",
        f"{next_date.isoformat()}T00:00:01+00:00",
    )
    assert applied["applied"] == [
        {
            "account": account["id"],
            "date": next_date.isoformat(),
            "contactsChanged": 1,
            "appliedHere": True,
        }
    ]
    after = api.data(
        token,
        """query($id: ID!) { contact(id: $id) { marketingStatus
        statusSourceType statusHistory(first: 1) { edges { node { sourceType sourceId } } } }
        usage { marketingContacts pendingNonMarketing nextUpdateDate } }""",
        id=contact["id"],
    )
    assert after["contact"]["marketingStatus"] == "NON_MARKETING"
    assert after["contact"]["statusSourceType"] == "UPDATE_DATE"
    assert after["contact"]["statusHistory"]["edges"][0]["node"] == {
        "sourceType": "UPDATE_DATE",
        "sourceId": next_date.isoformat(),
    }
    assert after["usage"]["marketingContacts"] == 0
    assert date.fromisoformat(after["usage"]["nextUpdateDate"]) > next_date
    again = api.cli(
        "update-date",
        "run",
        "--account",
        account["id"],
        "--as-of",
        f"{(next_date + timedelta(days=1)).isoformat()}T00:00:00+00:00",
    )
    assert again["applied"] == []


def test_usage_reconcile_reports_no_drift_after_api_changes(api: Api) -> None:
    account = api.cli("accounts", "create", "--name", "Counted")
    for status in ("MARKETING", "NON_MARKETING", "MARKETING"):
        api.data(
            account["token"],
            """mutation($s: MarketingStatus) { createContact(input:
            {marketingStatus: $s}) { contact { id } } }""",
            s=status,
        )
    report = api.cli("usage", "reconcile", "--account", account["id"])
    assert report["drifted"] == 0
    assert report["results"][0]["actual"] == {"marketing": 2, "pending": 0, "total": 3}


# ---------------------------------------------------------------- bad requests: 4xx, never 500


def raw_post(api: Api, token: str, body: bytes) -> httpx.Response:
    return httpx.post(
        f"{api.base}/graphql",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=30,
    )


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'"hello"', 400),  # JSON, but not an object
        (b"42", 400),
        (b"null", 400),
        (b'{"query": "{ usage \xff\xfe { tierLimit } }"}', 400),  # not UTF-8
        (b'{"variables": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400),  # nested too deep
        (b'{"query": "' + b" " * 1_100_000 + b'{ usage { tierLimit } }"}', 413),
    ],
    ids=["string", "number", "null", "not-utf8", "deep", "too-large"],
)
def test_malformed_bodies_get_a_client_error(api: Api, body: bytes, status: int) -> None:
    token = api.cli("accounts", "create", "--name", "Bodies", "--json")["token"]
    response = raw_post(api, token, body)
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text


def test_documents_built_to_make_the_server_work_are_refused(api: Api) -> None:
    token = api.cli("accounts", "create", "--name", "Costly", "--json")["token"]
    many_aliases = "{ " + " ".join(f"u{n}: usage {{ tierLimit }}" for n in range(2_000)) + " }"
    deep = (
        "{ contacts { edges { node { statusHistory { edges { node { " * 3 + "at" + " } } } } }" * 3
    )
    for document in (many_aliases, "{ " + deep + " }"):
        response = api.post(token, document)
        assert response.status_code in (200, 400), response.text
        errors = response.json()["errors"]
        assert errors and "Unexpected error." not in errors[0]["message"], errors
        assert response.json().get("data") is None


def test_a_subscription_over_plain_http_is_told_to_use_websocket(api: Api) -> None:
    token = api.cli("accounts", "create", "--name", "Plain", "--json")["token"]
    response = api.post(token, "subscription { usageChanged { marketingContacts } }")
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == "INVALID"
    assert "WebSocket" in errors[0]["message"]


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("2026-11-25T10:00:00", "has no offset"),
        ("2026-11-25", "has no offset"),
        ("0001-01-01T00:00:00+14:00", "out of range"),
        ("2026-11-25 10:00:00Z", "is not an RFC 3339 date and time"),
        ("20261125T100000Z", "is not an RFC 3339 date and time"),
        ("2026-W48-3T10:00:00Z", "is not an RFC 3339 date and time"),
    ],
)
def test_a_datetime_other_than_rfc_3339_is_an_invalid_graphql_error(
    api: Api, value: str, why: str
) -> None:
    """As a variable and as a literal: the message says why, the code is INVALID."""
    token = api.cli("accounts", "create", "--name", "Dates", "--json")["token"]
    as_variable = api.post(
        token,
        "query($after: DateTime) { contacts(filter: {createdAfter: $after}) { totalCount } }",
        after=value,
    )
    as_literal = api.post(
        token, f'{{ contacts(filter: {{createdAfter: "{value}"}}) {{ totalCount }} }}'
    )
    for response in (as_variable, as_literal):
        errors = response.json()["errors"]
        assert why in errors[0]["message"], errors
        assert [error["extensions"]["code"] for error in errors] == ["INVALID"], errors


def test_thirty_aliases_echoing_a_long_argument_get_a_small_answer(api: Api) -> None:
    """Each alias is refused with a message that repeats a short prefix of the argument: the
    answer does not grow with it (whole, it would be about a megabyte)."""
    token = api.cli("accounts", "create", "--name", "Echoes", "--json")["token"]
    calls = " ".join(
        f"a{n}: createContact(input: {{email: $s}}) {{ userErrors {{ code field message }} }}"
        for n in range(30)
    )
    response = api.post(token, f"mutation($s: String) {{ {calls} }}", s="x@" * 15_000)
    assert response.status_code == 200, response.text[:500]
    assert len(response.content) < 64_000
    payloads = response.json()["data"].values()
    assert [[(e["code"], e["field"]) for e in p["userErrors"]] for p in payloads] == [
        [("INVALID", ["input", "email"])]
    ] * 30


def test_graphiql_loads_without_a_token_in_development(
    mongo_server: MongoServer, redis_server: RedisServer, mongo_database_name: str, tmp_path: Path
) -> None:
    env = environment(mongo_server, redis_server.url, mongo_database_name, free_port())
    process, base = start_api({**env, "ENVIRONMENT": "development"}, tmp_path / "api.log")
    try:
        page = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"}, timeout=10)
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()
        without_token = httpx.post(f"{base}/graphql", json={"query": "{ usage { tierLimit } }"})
        assert without_token.status_code == 401
    finally:
        process.stop()


async def test_requests_get_503_and_sockets_1013_while_the_database_is_down(
    redis_server: RedisServer, mongo_database_name: str, tmp_path: Path
) -> None:
    mongo = start_own_mongo(free_port(), IN_MEMORY, tmp_path / "mongo.log")
    env = environment(mongo, redis_server.url, mongo_database_name, free_port())
    env["MONGODB_TIMEOUT_SECONDS"] = "1.5"  # how long a request waits for the database
    api, base = start_api(env, tmp_path / "api.log")
    try:
        token = run_json(env, "accounts", "create", "--name", "Outage", "--json")["token"]
        mongo.stop()
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            response = await http.post(
                "/graphql",
                json={"query": "{ usage { tierLimit } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"] == "5"
            assert "unavailable" in response.json()["errors"][0]["message"]
            assert (await http.get("/health")).status_code == 503
        # a WebSocket's token is checked at connection_init: try again later, with a close frame
        async with graphql_socket(base.replace("http://", "ws://") + "/graphql", token) as ws:
            assert await close_code(ws, within=30) == TRY_AGAIN_LATER
    finally:
        api.stop()


def test_s4_what_a_mutation_answers_is_what_a_later_read_returns(api: Api) -> None:
    token = api.cli("accounts", "create", "--name", "Times", "--json")["token"]
    fields = "id statusChangedAt updatedAt createdAt statusHistory { edges { node { at } } }"
    create = "mutation { createContact(input: {marketingStatus: MARKETING}) { contact { %s } } }"
    created = api.data(token, create % fields)["createContact"]["contact"]
    read = api.data(token, f'{{ contact(id: "{created["id"]}") {{ {fields} }} }}')["contact"]
    assert read == created
    assert created["statusHistory"]["edges"][0]["node"]["at"] == created["statusChangedAt"]


async def test_a_subscription_while_redis_is_down_is_told_live_events_are_unavailable(
    mongo_server: MongoServer, mongo_database_name: str, tmp_path: Path
) -> None:
    with api_without_redis(mongo_server, mongo_database_name, tmp_path) as (env, base):
        token = run_json(env, "accounts", "create", "--name", "No feed", "--json")["token"]
        url = base.replace("http://", "ws://") + "/graphql"
        async with graphql_socket(url, token) as socket:
            assert (await acknowledged(socket))["type"] == "connection_ack"
            alerts = await subscribe(socket, "a", "subscription { tierAlerts { kind } }")
            message = await alerts.next(within=20)
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "UNAVAILABLE", errors
        assert "retry shortly" in errors[0]["message"]

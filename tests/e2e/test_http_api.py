"""The real API process over HTTP, driven by the real CLI, on the test session's servers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from marketing_contacts.dev.processes import free_port
from marketing_contacts.dev.servers import IN_MEMORY, MongoServer, RedisServer
from marketing_contacts.http.auth import MAX_BODY_BYTES
from marketing_contacts.http.websocket import TRY_AGAIN_LATER
from marketing_contacts.schema.limits import MAX_COST
from tests.support.api import environment, graphql, start_api
from tests.support.cli import run_json
from tests.support.graphql import fragment_bomb
from tests.support.raw_http import chunked, stream_until_answered
from tests.support.workers import start_own_mongo
from tests.support.ws import acknowledged, close_code, graphql_socket, subscribe


class Api:
    def __init__(self, base: str, env: dict[str, str], pid: int) -> None:
        self.base = base
        self.env = env
        self.pid = pid

    def cli(self, *args: str) -> dict[str, Any]:
        """Run a CLI command with --json; its last line is one JSON object."""
        return run_json(self.env, *args)

    def post(self, token: str | None, query: str, **variables: Any) -> httpx.Response:
        return graphql(self.base, token, query, **variables)

    def data(self, token: str, query: str, **variables: Any) -> dict[str, Any]:
        response = self.post(token, query, **variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]
        return result


@pytest.fixture(scope="module")
def api(api_environment: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    process, base = start_api(api_environment, tmp_path_factory.mktemp("api") / "api.log")
    try:
        yield Api(base, api_environment, process.pid)
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
    env = environment(mongo.uri, dead_redis, database, free_port())
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
    assert set(created) == {"id", "token", "user_id"}
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


@pytest.fixture(scope="module")
def refused_token(api: Api) -> str:
    """The token of the requests that are refused: a valid one, so the refusal is the body's."""
    token: str = api.cli("accounts", "create", "--name", "Refused", "--json")["token"]
    return token


JSON = {"Content-Type": "application/json"}
AS_JSON = {"Accept": "application/json"}
QUERY = b'"query": "{ usage { tierLimit } }"'
MUTATION = 'mutation { deleteContact(id: "x") { deletedId } }'
ALLOWED = {"/graphql": {"GET", "POST"}, "/health": {"GET", "HEAD"}}


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status", "code"),
    [
        ("POST", "/graphql", JSON, b"{not json", 400, "INVALID"),
        ("POST", "/graphql", JSON, b"[{" + QUERY + b"}]", 400, "INVALID"),  # no batching
        ("POST", "/graphql", JSON, b'"hello"', 400, "INVALID"),  # JSON, but not an object
        ("POST", "/graphql", JSON, b"42", 400, "INVALID"),
        ("POST", "/graphql", JSON, b"null", 400, "INVALID"),
        (
            "POST",
            "/graphql",
            JSON,
            b'{"query": "{ usage \xff\xfe { tierLimit } }"}',
            400,
            "INVALID",
        ),
        (
            "POST",
            "/graphql",
            JSON,
            b'{"variables": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            400,
            "INVALID",
        ),
        (
            "POST",
            "/graphql",
            JSON,
            b"{" + QUERY + b', "variables": {"n": ' + b"1" * 5_000 + b"}}",
            400,
            "INVALID",
        ),
        ("POST", "/graphql", JSON, b'{"query": 42}', 400, "INVALID"),
        ("POST", "/graphql", JSON, b"{" + QUERY + b', "variables": "{}"}', 400, "INVALID"),
        ("POST", "/graphql", JSON, b"{" + QUERY + b', "variables": []}', 400, "INVALID"),
        ("POST", "/graphql", JSON, b"{" + QUERY + b', "extensions": "x"}', 400, "INVALID"),
        (
            "POST",
            "/graphql",
            JSON,
            b"{" + QUERY + b', "operationName": "' + b"B" * 10_000 + b'"}',
            400,
            "INVALID",
        ),
        (
            "POST",
            "/graphql",
            JSON,
            b'{"query": "' + b" " * 1_100_000 + b'{ usage { tierLimit } }"}',
            413,
            "TOO_LARGE",
        ),
        (
            "POST",
            "/graphql",
            {"Content-Type": "text/plain"},
            b"{" + QUERY + b"}",
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        ("POST", "/graphql", {}, b"{" + QUERY + b"}", 415, "UNSUPPORTED_MEDIA_TYPE"),
        ("GET", f"/graphql?{urlencode({'query': MUTATION})}", AS_JSON, b"", 400, "INVALID"),
        ("GET", "/graphql", AS_JSON, b"", 400, "INVALID"),
        (
            "GET",
            "/graphql",
            {"Accept": "text/html"},
            b"",
            404,
            "NOT_FOUND",
        ),  # no GraphiQL in production
        ("GET", "/graphiql/graphiql.min.js", {}, b"", 404, "NOT_FOUND"),  # nor its files
        ("PUT", "/graphql", JSON, b"{" + QUERY + b"}", 405, "METHOD_NOT_ALLOWED"),
        ("DELETE", "/graphql", {}, b"", 405, "METHOD_NOT_ALLOWED"),
        ("GET", "/nowhere", AS_JSON, b"", 404, "NOT_FOUND"),
        ("POST", "/health", JSON, b"{}", 405, "METHOD_NOT_ALLOWED"),
    ],
    ids=[
        "not-json",
        "batch",
        "string",
        "number",
        "null",
        "not-utf8",
        "deep",
        "long-integer",
        "query-not-a-string",
        "variables-a-string",
        "variables-a-list",
        "extensions-not-an-object",
        "unknown-long-operation-name",
        "too-large",
        "text-plain",
        "no-content-type",
        "mutation-by-get",
        "get-without-query",
        "graphiql-in-production",
        "graphiql-files-in-production",
        "put",
        "delete",
        "unknown-path",
        "post-to-health",
    ],
)
def test_every_refusal_is_a_json_graphql_error_with_a_code(
    api: Api,
    refused_token: str,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    status: int,
    code: str,
) -> None:
    response = httpx.request(
        method,
        f"{api.base}{path}",
        content=body,
        headers={"Authorization": f"Bearer {refused_token}", **headers},
        timeout=30,
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    [error] = response.json()["errors"]
    assert error == {"message": error["message"], "extensions": {"code": code}}
    assert 0 < len(error["message"]) <= 200, error  # quotes no more than a prefix of the request
    if status == 405:
        allowed = set(response.headers["allow"].split(", "))
        assert allowed == ALLOWED[path.partition("?")[0]]


def peak_memory_bytes(pid: int) -> int:
    """The process's peak resident set so far (VmHWM)."""
    status = Path(f"/proc/{pid}/status").read_text()
    [line] = [line for line in status.splitlines() if line.startswith("VmHWM:")]
    return int(line.split()[1]) * 1024


def test_a_chunked_body_is_refused_at_the_limit_as_it_arrives(api: Api, refused_token: str) -> None:
    host, port = api.base.removeprefix("http://").split(":")
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {refused_token}\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    piece, pieces = b" " * 65_536, 800  # 52 MB of JSON whitespace, never a whole body
    before = peak_memory_bytes(api.pid)
    response = stream_until_answered(host, int(port), head, chunked(piece, pieces), within=120)
    grown = peak_memory_bytes(api.pid) - before
    assert response.status == 413, response
    assert grown < 20_000_000, f"the API's peak memory grew by {grown} bytes"
    assert response.body_bytes_sent < len(piece) * pieces // 2  # answered before the end
    assert response.headers["content-type"] == "application/json"
    assert json.loads(response.body)["errors"][0]["extensions"]["code"] == "TOO_LARGE"


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_body_of_exactly_the_limit_is_answered(
    api: Api, refused_token: str, framing: str
) -> None:
    document = b'{"query": "{ usage { tierLimit } }"}'
    body = document[:-1] + b" " * (MAX_BODY_BYTES - len(document)) + b"}"
    assert len(body) == MAX_BODY_BYTES
    halves = iter([body[: len(body) // 2], body[len(body) // 2 :]])
    response = httpx.post(
        f"{api.base}/graphql",
        content=body if framing == "content-length" else halves,
        headers={"Authorization": f"Bearer {refused_token}", **JSON},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert "tierLimit" in response.json()["data"]["usage"]


def test_a_query_by_get_is_answered(api: Api, refused_token: str) -> None:
    response = httpx.get(
        f"{api.base}/graphql",
        params={"query": "{ usage { tierLimit } }"},
        headers={"Authorization": f"Bearer {refused_token}", **AS_JSON},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert "tierLimit" in response.json()["data"]["usage"]


def test_documents_built_to_make_the_server_work_are_refused(api: Api) -> None:
    token = api.cli("accounts", "create", "--name", "Costly", "--json")["token"]
    many_aliases = "{ " + " ".join(f"u{n}: usage {{ tierLimit }}" for n in range(2_000)) + " }"
    deep = "{ " + "contacts { edges { node { " * 4 + "id" + " } } }" * 4 + " }"
    for document, limit in ((many_aliases, "tokens"), (deep, "depth")):
        response = api.post(token, document)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body.get("data") is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["TOO_COMPLEX"], body
        assert body["errors"][0]["extensions"]["limit"] == limit


def post_within(api: Api, token: str, query: str, seconds: float) -> httpx.Response:
    """The answer, with `seconds` as its deadline (httpx raises past it)."""
    return httpx.post(
        f"{api.base}/graphql",
        json={"query": query},
        headers={"Authorization": f"Bearer {token}"},
        timeout=seconds,
    )


@pytest.mark.parametrize("levels", [7, 12])
def test_a_fragment_bomb_is_refused_at_once_as_too_complex(api: Api, levels: int) -> None:
    token = api.cli("accounts", "create", "--name", "Bomb", "--json")["token"]
    body = post_within(api, token, fragment_bomb(levels), seconds=10).json()
    assert body.get("data") is None
    assert body["errors"][0]["extensions"] == {
        "code": "TOO_COMPLEX",
        "limit": "cost",
        "max": MAX_COST,
    }


def test_another_account_is_answered_while_a_fragment_bomb_is_sent(api: Api) -> None:
    bomber = api.cli("accounts", "create", "--name", "Bomber", "--json")["token"]
    other = api.cli("accounts", "create", "--name", "Bystander", "--json")["token"]
    with ThreadPoolExecutor(max_workers=1) as pool:
        bomb = pool.submit(post_within, api, bomber, fragment_bomb(12), 10)
        while True:  # answered at least once, and for as long as the bomb is in flight
            done = bomb.done()
            answer = post_within(api, other, "{ usage { totalContacts } }", seconds=10)
            assert answer.json() == {"data": {"usage": {"totalContacts": 0}}}
            if done:
                break
        assert bomb.result().json()["errors"][0]["extensions"]["code"] == "TOO_COMPLEX"


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
    env = environment(mongo_server.uri, redis_server.url, mongo_database_name, free_port())
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
    env = environment(mongo.uri, redis_server.url, mongo_database_name, free_port())
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

"""Subscriptions over real WebSockets, fanned out across two API processes and a worker (A3)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from bson import ObjectId
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from marketing_contacts.dev.processes import ManagedProcess, free_port, start_process
from marketing_contacts.dev.servers import MongoServer, RedisServer
from marketing_contacts.domain.statuses import MarketingStatus
from marketing_contacts.runtime import open_runtime
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.settings import Settings
from marketing_contacts.storage.codec import AWAITING_DELIVERY
from marketing_contacts.storage.database import ALERTS as ALERTS_COLLECTION
from tests.support.api import start_api
from tests.support.cli import CLI, run_json
from tests.support.feed import listening
from tests.support.graphql import fragment_bomb
from tests.support.waiting import eventually
from tests.support.ws import acknowledged, close_code, closed_with, graphql_socket, subscribe

ALLOWED_ORIGIN = "https://app.example"
ALERTS = "subscription { tierAlerts { kind threshold marketingContacts tierLimit } }"
USAGE = "subscription { usageChanged { marketingContacts tierLimit } }"
PROGRESS = "subscription($id: ID!) { bulkOperationProgress(id: $id) { status processed matched } }"


@dataclass
class Stack:
    env: dict[str, str]
    api_a: str
    api_b: str

    def cli(self, *args: str) -> dict[str, Any]:
        """Run a CLI command with --json; its last line is one JSON object."""
        return run_json(self.env, *args)

    def post(self, base: str, token: str, query: str, **variables: Any) -> dict[str, Any]:
        response = httpx.post(
            f"{base}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        body = response.json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    async def listening(self, account_id: str) -> None:
        """Until an API process listens on the account's events (Redis says so)."""
        await listening(self.env["REDIS_URL"], account_id)

    def ws(self, base: str) -> str:
        return base.replace("http://", "ws://") + "/graphql"


def _start_api(env: dict[str, str], port: int, log: Path) -> ManagedProcess:
    return start_api({**env, "PORT": str(port)}, log, healthy=True)[0]


@pytest.fixture(scope="module")
def stack(
    mongo_server: MongoServer,
    redis_server: RedisServer,
    mongo_database_name: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("stack")
    env = {
        **os.environ,
        "MONGODB_URI": mongo_server.uri,
        "MONGODB_DATABASE": mongo_database_name,
        "REDIS_URL": redis_server.url,
        "ALLOWED_ORIGINS": ALLOWED_ORIGIN,
        "BULK_CHUNK_SIZE": "5",
    }
    port_a, port_b = free_port(), free_port()
    processes = [_start_api(env, port_a, logs / "a.log"), _start_api(env, port_b, logs / "b.log")]
    processes.append(start_process("worker", [CLI, "worker"], env=env, log_path=logs / "w.log"))
    try:
        yield Stack(env, f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}")
    finally:
        for process in processes:
            process.stop()


def create_marketing(stack: Stack, base: str, token: str, count: int) -> list[str]:
    return [
        stack.post(
            base,
            token,
            "mutation { createContact(input: {marketingStatus: MARKETING}) { contact { id } } }",
        )["createContact"]["contact"]["id"]
        for _ in range(count)
    ]


async def test_a3_alert_raised_on_one_api_process_reaches_a_subscriber_on_the_other(
    stack: Stack,
) -> None:
    account = stack.cli("accounts", "create", "--name", "Fan-out", "--tier-limit", "4")
    async with graphql_socket(stack.ws(stack.api_a), account["token"]) as socket:
        assert (await acknowledged(socket))["type"] == "connection_ack"
        alerts = await subscribe(socket, "1", ALERTS)
        await stack.listening(account["id"])
        await asyncio.to_thread(create_marketing, stack, stack.api_b, account["token"], 3)
        first = await alerts.data()
        assert first["tierAlerts"] == {
            "kind": "THRESHOLD_REACHED",
            "threshold": 75,
            "marketingContacts": 3,
            "tierLimit": 4,
        }


async def test_a3_subscribers_hear_only_their_own_account(stack: Stack) -> None:
    mine = stack.cli("accounts", "create", "--name", "Mine", "--tier-limit", "4")
    theirs = stack.cli("accounts", "create", "--name", "Theirs", "--tier-limit", "4")
    async with graphql_socket(stack.ws(stack.api_a), mine["token"]) as socket:
        await acknowledged(socket)
        usage = await subscribe(socket, "u", USAGE)
        await stack.listening(mine["id"])
        await asyncio.to_thread(create_marketing, stack, stack.api_b, theirs["token"], 2)
        await asyncio.to_thread(create_marketing, stack, stack.api_b, mine["token"], 1)
        heard = await usage.data()
        assert heard["usageChanged"] == {"marketingContacts": 1, "tierLimit": 4}


async def test_a3_alerts_raised_with_no_subscriber_are_read_later(stack: Stack) -> None:
    account = stack.cli("accounts", "create", "--name", "Offline", "--tier-limit", "4")
    await asyncio.to_thread(create_marketing, stack, stack.api_b, account["token"], 4)
    read = stack.post(
        stack.api_a,
        account["token"],
        "{ account { alerts { edges { node { kind threshold } } } } }",
    )
    kinds = sorted(
        (e["node"]["kind"], e["node"]["threshold"]) for e in read["account"]["alerts"]["edges"]
    )
    assert kinds == [
        ("THRESHOLD_REACHED", 75),
        ("THRESHOLD_REACHED", 90),
        ("THRESHOLD_REACHED", 98),
    ]


async def test_bulk_progress_from_a_worker_reaches_a_subscriber(stack: Stack) -> None:
    account = stack.cli("accounts", "create", "--name", "Progress")
    token = account["token"]
    for _ in range(12):
        stack.post(stack.api_b, token, "mutation { createContact(input: {}) { contact { id } } }")
    started = stack.post(
        stack.api_b,
        token,
        "mutation { startBulkStatusChange(input: {selection: {filter: {}}, status: MARKETING, "
        "confirmCount: 12}) { bulkOperation { id } userErrors { code } } }",
    )["startBulkStatusChange"]
    operation_id = started["bulkOperation"]["id"]
    async with graphql_socket(stack.ws(stack.api_a), token) as socket:
        await acknowledged(socket)
        progress = await subscribe(socket, "p", PROGRESS, id=operation_id)
        states = [(await progress.data())["bulkOperationProgress"]]
        while states[-1]["status"] not in ("COMPLETED", "FAILED", "CANCELLED"):
            states.append((await progress.data(within=30))["bulkOperationProgress"])
        assert states[-1] == {"status": "COMPLETED", "processed": 12, "matched": 12}
        assert (await progress.next())["type"] == "complete"


async def test_a_foreign_operation_id_yields_an_error(stack: Stack) -> None:
    owner = stack.cli("accounts", "create", "--name", "Owner")
    stranger = stack.cli("accounts", "create", "--name", "Stranger")
    contact = stack.post(
        stack.api_a, owner["token"], "mutation { createContact(input: {}) { contact { id } } }"
    )["createContact"]["contact"]
    operation = stack.post(
        stack.api_a,
        owner["token"],
        "mutation($id: ID!) { startBulkStatusChange(input: {selection: {ids: [$id]}, "
        "status: NON_MARKETING}) { bulkOperation { id } } }",
        id=contact["id"],
    )["startBulkStatusChange"]["bulkOperation"]
    async with graphql_socket(stack.ws(stack.api_a), stranger["token"]) as socket:
        await acknowledged(socket)
        progress = await subscribe(socket, "x", PROGRESS, id=operation["id"])
        message = await progress.next()
        assert message["type"] in ("error", "next")
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert "does not exist" in errors[0]["message"]
        assert errors[0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        (fragment_bomb(12, "subscription", "usageChanged { totalContacts }"), "TOO_COMPLEX"),
        ("subscription { usageChanged { nope } }", "INVALID"),
    ],
    ids=["fragment-bomb", "unknown-field"],
)
async def test_a_subscription_the_request_got_wrong_yields_an_error_with_its_code(
    stack: Stack, query: str, code: str
) -> None:
    token = stack.cli("accounts", "create", "--name", "Wrong")["token"]
    async with graphql_socket(stack.ws(stack.api_a), token) as socket:
        await acknowledged(socket)
        message = await (await subscribe(socket, "w", query)).next()
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert [error["extensions"]["code"] for error in errors] == [code], errors


@pytest.mark.parametrize("token", [None, "mc_not-a-token"])
async def test_missing_or_wrong_token_closes_the_socket_with_4403(
    stack: Stack, token: str | None
) -> None:
    async with graphql_socket(stack.ws(stack.api_a), token) as socket:
        with pytest.raises(ConnectionClosed) as closed:
            await acknowledged(socket)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_websocket_origins_are_limited_to_the_allowed_ones(stack: Stack) -> None:
    account = stack.cli("accounts", "create", "--name", "Origins")
    with pytest.raises(InvalidStatus):
        async with graphql_socket(
            stack.ws(stack.api_a), account["token"], origin="https://evil.example"
        ):
            pass
    async with graphql_socket(
        stack.ws(stack.api_a), account["token"], origin=ALLOWED_ORIGIN
    ) as socket:
        assert (await acknowledged(socket))["type"] == "connection_ack"


async def test_a3_alert_raised_by_a_worker_reaches_a_subscriber_of_an_api_process(
    stack: Stack,
) -> None:
    account = stack.cli("accounts", "create", "--name", "Worker alert", "--tier-limit", "8")
    token = account["token"]
    for _ in range(6):
        stack.post(stack.api_b, token, "mutation { createContact(input: {}) { contact { id } } }")
    async with graphql_socket(stack.ws(stack.api_a), token) as socket:
        await acknowledged(socket)
        alerts = await subscribe(socket, "w", ALERTS)
        await stack.listening(account["id"])
        started = stack.post(
            stack.api_b,
            token,
            "mutation { startBulkStatusChange(input: {selection: {filter: {}}, "
            "status: MARKETING, confirmCount: 6}) { bulkOperation { id } } }",
        )
        assert started["startBulkStatusChange"]["bulkOperation"]["id"]
        first = await alerts.data(within=30)
        assert first["tierAlerts"]["kind"] == "THRESHOLD_REACHED"
        assert first["tierAlerts"]["threshold"] == 75


async def test_a3_alerts_their_writer_could_not_publish_are_delivered_by_a_worker(
    stack: Stack, tmp_path: Path
) -> None:
    account = stack.cli("accounts", "create", "--name", "Outage", "--tier-limit", "4")
    # a writer that reaches MongoDB but not Redis: its changes commit, its publishing fails
    unreachable = Settings(
        mongodb_uri=stack.env["MONGODB_URI"],
        mongodb_database=stack.env["MONGODB_DATABASE"],
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        var_dir=tmp_path,
    )
    async with graphql_socket(stack.ws(stack.api_a), account["token"]) as socket:
        await acknowledged(socket)
        alerts = await subscribe(socket, "o", ALERTS)
        await stack.listening(account["id"])
        async with open_runtime(unreachable) as writer:
            caller = await writer.services.tokens.authenticate(account["token"])
            assert caller is not None
            draft = ContactDraft(marketing_status=MarketingStatus.MARKETING)
            for _ in range(3):
                await writer.services.contacts.create(caller, draft)
            stored = (
                await writer.mongo[ALERTS_COLLECTION]
                .find({"account_id": ObjectId(account["id"])})
                .to_list()
            )
            assert [doc["threshold"] for doc in stored] == [75]
            assert AWAITING_DELIVERY in stored[0]  # the writer's publish failed

            heard = await alerts.data(within=40)  # the worker's next delivery run
            assert heard["tierAlerts"] == {
                "kind": "THRESHOLD_REACHED",
                "threshold": 75,
                "marketingContacts": 3,
                "tierLimit": 4,
            }

            # the worker publishes first and marks the alert delivered after: wait for the mark
            async def marked_delivered() -> bool | None:
                doc = await writer.mongo[ALERTS_COLLECTION].find_one({"_id": stored[0]["_id"]})
                assert doc is not None
                return True if AWAITING_DELIVERY not in doc else None

            await eventually(marked_delivered, within=30, what="the alert marked delivered")


async def test_only_the_graphql_transport_ws_protocol_is_served(stack: Stack) -> None:
    """The legacy graphql-ws protocol is not offered: a client asking only for it is refused."""
    async with websockets.connect(
        stack.ws(stack.api_a), subprotocols=[Subprotocol("graphql-ws")], open_timeout=10
    ) as socket:
        assert await close_code(socket) == 4406


@pytest.mark.parametrize(
    "message",
    [
        [1, 2],
        42,
        {"type": 5},
        {"id": "1", "type": "subscribe", "payload": {"query": 5}},
        {"id": "1", "type": "subscribe", "payload": {"query": USAGE, "variables": "x"}},
        {"id": "1", "type": "subscribe", "payload": "query"},
        {"type": "x" * 100_000},
        {"id": "x" * 100_000, "type": "complete"},
    ],
    ids=[
        "list",
        "number",
        "type-not-string",
        "query-not-string",
        "variables-not-object",
        "payload",
        "unknown-type",
        "long-id",
    ],
)
async def test_a_malformed_message_closes_the_socket_with_4400(stack: Stack, message: Any) -> None:
    account = stack.cli("accounts", "create", "--name", "Malformed")
    async with graphql_socket(stack.ws(stack.api_a), account["token"]) as socket:
        assert (await acknowledged(socket))["type"] == "connection_ack"
        await socket.send(json.dumps(message))
        code, reason = await closed_with(socket)
        assert code == 4400
        assert len(reason) < 100  # says what is wrong, never repeats what was sent


async def test_a_message_larger_than_a_request_body_closes_the_socket_with_1009(
    stack: Stack,
) -> None:
    account = stack.cli("accounts", "create", "--name", "Oversized")
    async with graphql_socket(stack.ws(stack.api_a), account["token"]) as socket:
        assert (await acknowledged(socket))["type"] == "connection_ack"
        query = USAGE + " " * 1_100_000
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        assert await close_code(socket) == 1009

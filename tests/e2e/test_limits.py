"""P5 over HTTP and WebSocket on real API processes: one rate limit per token shared by two
processes through Redis, counted on HTTP requests and subscribe messages alike; the sockets a
token holds and the operations a socket runs are bounded; with Redis away the limit fails open
and the log says so once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from marketing_contacts.dev.processes import ManagedProcess, free_port
from marketing_contacts.dev.servers import MongoServer, start_redis
from marketing_contacts.http.socket_limits import TOO_MANY_SOCKETS
from tests.support.api import environment, graphql, start_api, ws_url
from tests.support.cli import run_json
from tests.support.waiting import eventually
from tests.support.workers import kill_hard, log_of
from tests.support.ws import Subscription, acknowledged, close_code, graphql_socket, subscribe

REQUESTS = 6
SOCKETS = 2
SUBSCRIPTIONS = 2
USAGE = "{ usage { totalContacts } }"
ALERTS = "subscription { tierAlerts { kind } }"
LIMITS = {
    "RATE_LIMIT_REQUESTS": str(REQUESTS),
    "RATE_LIMIT_WINDOW_SECONDS": "3600",
    "MAX_SOCKETS_PER_TOKEN": str(SOCKETS),
    "MAX_SUBSCRIPTIONS_PER_SOCKET": str(SUBSCRIPTIONS),
}


@dataclass
class Apis:
    env: dict[str, str]
    a: str
    b: str

    def token(self, name: str) -> str:
        token: str = run_json(self.env, "accounts", "create", "--name", name)["token"]
        return token


@pytest.fixture(scope="module")
def apis(
    api_environment: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Apis]:
    logs = tmp_path_factory.mktemp("limits")
    env = {**api_environment, **LIMITS}
    processes: list[ManagedProcess] = []
    bases = []
    try:
        for name in ("a", "b"):
            process, base = start_api({**env, "PORT": str(free_port())}, logs / f"{name}.log")
            processes.append(process)
            bases.append(base)
        yield Apis(env, *bases)
    finally:
        for process in processes:
            process.stop()


async def refusal_of(subscription: Subscription) -> dict[str, Any]:
    message = await subscription.next()
    assert message["type"] == "error", message
    [error] = message["payload"]
    extensions: dict[str, Any] = error["extensions"]
    return extensions


async def still_open(socket: Any) -> None:
    """The socket answers a ping: it was not closed."""
    await socket.send(json.dumps({"type": "ping"}))
    assert json.loads(await asyncio.wait_for(socket.recv(), 10)) == {"type": "pong"}


def test_p5_two_api_processes_share_one_limit_per_token(apis: Apis) -> None:
    token, other = apis.token("Shared"), apis.token("Other")
    answers = [graphql(base, token, USAGE) for base in [apis.a, apis.b] * (REQUESTS // 2)]
    assert [r.status_code for r in answers] == [200] * REQUESTS
    for base in (apis.a, apis.b):
        refused = graphql(base, token, USAGE)
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["Retry-After"]) >= 1
        [error] = refused.json()["errors"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
    assert graphql(apis.b, other, USAGE).status_code == 200


async def test_p5_subscribe_messages_count_against_the_token_limit_and_the_socket_stays(
    apis: Apis,
) -> None:
    token = apis.token("Subscriber")
    async with graphql_socket(ws_url(apis.a), token) as socket:
        assert (await acknowledged(socket))["type"] == "connection_ack"  # init is no request
        for _ in range(REQUESTS - 1):
            assert (await asyncio.to_thread(graphql, apis.b, token, USAGE)).status_code == 200
        await subscribe(socket, "admitted", ALERTS)  # the last request the limit admits
        refused = await refusal_of(await subscribe(socket, "refused", ALERTS))
        assert refused["code"] == "RATE_LIMITED"
        assert refused["retryAfter"] >= 1
        await still_open(socket)
    assert (await asyncio.to_thread(graphql, apis.a, token, USAGE)).status_code == 429


async def test_p5_a_token_holds_at_most_its_sockets_per_process(apis: Apis) -> None:
    token, other = apis.token("Sockets"), apis.token("Elsewhere")
    async with (
        graphql_socket(ws_url(apis.a), token) as first,
        graphql_socket(ws_url(apis.a), token) as second,
    ):
        for socket in (first, second):
            assert (await acknowledged(socket))["type"] == "connection_ack"
        async with graphql_socket(ws_url(apis.a), token) as third:
            assert await close_code(third) == TOO_MANY_SOCKETS
        async with graphql_socket(ws_url(apis.a), other) as others:
            assert (await acknowledged(others))["type"] == "connection_ack"
        # counted per process: the other process has its own count
        async with graphql_socket(ws_url(apis.b), token) as on_b:
            assert (await acknowledged(on_b))["type"] == "connection_ack"
        await first.close()

        async def a_socket_opens() -> bool | None:
            async with graphql_socket(ws_url(apis.a), token) as again:
                message = await acknowledged(again)
                return True if message["type"] == "connection_ack" else None

        await eventually(a_socket_opens, within=10, what="the closed socket's slot to free")
        await still_open(second)


async def test_p5_a_socket_runs_at_most_its_subscriptions(apis: Apis) -> None:
    token = apis.token("Subscriptions")
    async with graphql_socket(ws_url(apis.a), token) as socket:
        assert (await acknowledged(socket))["type"] == "connection_ack"
        for n in range(SUBSCRIPTIONS):
            await subscribe(socket, f"s{n}", ALERTS)
        refused = await refusal_of(await subscribe(socket, "one-more", ALERTS))
        assert refused == {"code": "TOO_MANY"}
        await still_open(socket)
        await socket.send(json.dumps({"type": "complete", "id": "s0"}))
        await subscribe(socket, "in-its-place", ALERTS)
        await still_open(socket)  # no error for it came before the pong


async def test_p5_while_redis_is_away_requests_are_served_and_the_log_says_so_once(
    mongo_server: MongoServer, mongo_database_name: str, tmp_path: Path
) -> None:
    redis = start_redis(
        port=free_port(), data_dir=tmp_path / "redis", persistent=False, log_path=tmp_path / "r"
    )
    env = environment(mongo_server.uri, redis.url, mongo_database_name, free_port())
    env["RATE_LIMIT_REQUESTS"] = "1"
    api, base = start_api(env, tmp_path / "api.log", healthy=True)
    try:
        token = run_json(env, "accounts", "create", "--name", "Fail-open")["token"]
        assert graphql(base, token, USAGE).status_code == 200
        assert graphql(base, token, USAGE).status_code == 429
        kill_hard(redis.process)

        def served() -> httpx.Response:
            return graphql(base, token, USAGE)

        answers = [await asyncio.to_thread(served) for _ in range(4)]
        assert [r.status_code for r in answers] == [200] * 4
        assert log_of(api).count("rate limits are off") == 1
    finally:
        api.stop()
        redis.stop()

"""The API process when its servers misbehave: a hung database, an account held by a killed
process's transaction, Redis killed and restarted under open and opening subscriptions.

Each test runs its own server (the one it breaks) beside the session's others.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from marketing_contacts.dev.processes import ManagedProcess, free_port, start_process
from marketing_contacts.dev.servers import IN_MEMORY, MongoServer, RedisServer, start_redis
from marketing_contacts.http.websocket import TRY_AGAIN_LATER
from tests.support.api import environment, graphql, start_api, ws_url
from tests.support.cli import run_json
from tests.support.feed import listening
from tests.support.waiting import eventually
from tests.support.workers import kill_hard, log_of, start_own_mongo
from tests.support.ws import Subscription, acknowledged, close_code, graphql_socket, subscribe

#: MONGODB_TIMEOUT_SECONDS of the API processes here: how long a request waits for MongoDB
TIMEOUT = 3.0
#: every answer must come within the timeout plus this
SLACK = 1.0
CREATE = """mutation($e: String) { createContact(input: {email: $e, marketingStatus: MARKETING})
  { contact { id } userErrors { code message } } }"""
RENAME = """mutation { updateAccountSettings(input: {name: "Renamed"})
  { account { name } userErrors { code } } }"""
ALERTS = "subscription { tierAlerts { id kind threshold marketingContacts } }"
USAGE = "subscription { usageChanged { marketingContacts } }"


@contextmanager
def api_on(
    mongo_uri: str, redis_url: str, database: str, log: Path
) -> Iterator[tuple[dict[str, str], str]]:
    env = environment(mongo_uri, redis_url, database, free_port())
    env["MONGODB_TIMEOUT_SECONDS"] = str(TIMEOUT)
    process, base = start_api(env, log, healthy=True)
    try:
        yield env, base
    finally:
        process.stop()


def account(env: dict[str, str], name: str, tier_limit: int = 1000) -> dict[str, Any]:
    return run_json(env, "accounts", "create", "--name", name, "--tier-limit", str(tier_limit))


# ---------------------------------------------------------------- a hung database


async def test_a_paused_database_is_answered_with_503_and_1013_within_the_timeout(
    redis_server: RedisServer, mongo_database_name: str, tmp_path: Path
) -> None:
    """SIGSTOP: the server keeps its connections open and answers nothing, the worst kind of
    outage for a client, which would wait for an answer forever without its own deadline."""
    mongo = start_own_mongo(free_port(), IN_MEMORY, tmp_path / "mongo.log")
    try:
        with api_on(mongo.uri, redis_server.url, mongo_database_name, tmp_path / "api.log") as (
            env,
            base,
        ):
            token = account(env, "Paused")["token"]
            assert graphql(base, token, "{ usage { tierLimit } }").status_code == 200
            os.kill(mongo.process.pid, signal.SIGSTOP)
            try:

                async def request() -> httpx.Response:
                    async with httpx.AsyncClient(timeout=TIMEOUT + SLACK) as http:
                        return await http.post(
                            f"{base}/graphql",
                            json={"query": "{ usage { tierLimit } }"},
                            headers={"Authorization": f"Bearer {token}"},
                        )

                async def socket() -> int | None:
                    async with graphql_socket(ws_url(base), token) as ws:
                        return await close_code(ws, within=TIMEOUT + SLACK)

                response, code = await asyncio.gather(request(), socket())
            finally:
                os.kill(mongo.process.pid, signal.SIGCONT)
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"] == "5"
            assert response.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
            assert code == TRY_AGAIN_LATER
            # and once the database answers again, so does the API
            await eventually(
                lambda: _answers(base, token), within=30, what="the API to answer again"
            )
    finally:
        mongo.stop()


async def _answers(base: str, token: str) -> bool | None:
    response = await asyncio.to_thread(graphql, base, token, "{ usage { tierLimit } }")
    return True if response.status_code == 200 else None


# ---------------------------------------------------------------- an account held by a dead process


def hold(env: dict[str, str], account_id: str, log: Path) -> ManagedProcess:
    """A process holding an open transaction on the account's document (running until killed)."""
    holder = start_process(
        "holder",
        [
            sys.executable,
            "-m",
            "tests.support.hold_transaction",
            env["MONGODB_URI"],
            env["MONGODB_DATABASE"],
            account_id,
        ],
        env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        log_path=log,
    )
    return holder


async def test_a_killed_process_holding_an_account_delays_only_that_account_and_briefly(
    mongo_server: MongoServer, redis_server: RedisServer, mongo_database_name: str, tmp_path: Path
) -> None:
    """A process SIGKILLed in the middle of a transaction leaves it open on the server, holding
    the account's document, until the server ends it (transactionLifetimeLimitSeconds, 60 s on
    SecantusDB as on mongod). Meanwhile that account's writes answer within the timeout, however
    many queue (CONFLICT, "retry", or 503 for a plain write) and apply nothing, other accounts'
    writes go on, and once the server ends the transaction the account's writes apply again."""
    with api_on(mongo_server.uri, redis_server.url, mongo_database_name, tmp_path / "api.log") as (
        env,
        base,
    ):
        held, free = account(env, "Held"), account(env, "Free")
        holder = hold(env, held["id"], tmp_path / "holder.log")
        await eventually(
            lambda: _logged(holder, "holding"),
            within=30,
            what="the transaction to be open",
            processes=(holder,),
        )
        kill_hard(holder)

        async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT + SLACK) as http:

            async def send(token: str, query: str, **variables: Any) -> httpx.Response:
                return await http.post(
                    "/graphql",
                    json={"query": query, "variables": variables},
                    headers={"Authorization": f"Bearer {token}"},
                )

            # writers of the held account queue in this API process: each is answered within
            # the timeout (the client's deadline), none after the others' retries
            blocked = [
                asyncio.ensure_future(send(held["token"], CREATE, e=f"blocked{n}@example.com"))
                for n in range(5)
            ]
            renamed = asyncio.ensure_future(send(held["token"], RENAME))
            other = (await send(free["token"], CREATE, e="free@example.com")).json()
            assert other["data"]["createContact"]["userErrors"] == []
            assert not any(b.done() for b in blocked)  # served while those waited
            answers = await asyncio.gather(*blocked)
            rename = await renamed
        for answer in answers:
            assert answer.status_code == 200, answer.text
            payload = answer.json()["data"]["createContact"]
            assert payload["contact"] is None
            assert [e["code"] for e in payload["userErrors"]] == ["CONFLICT"]
            assert "retry" in payload["userErrors"][0]["message"]
        # a settings change (a plain write, no transaction) is answered within the timeout
        # too: CONFLICT when it waited behind the other writers, or 503 when it waited for the
        # held document itself
        if rename.status_code == 503:
            assert rename.headers["Retry-After"] == "5"
            assert rename.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
        else:
            assert rename.json()["data"]["updateAccountSettings"] == {
                "account": None,
                "userErrors": [{"code": "CONFLICT"}],
            }

        async def applies() -> dict[str, Any] | None:
            payload = await asyncio.to_thread(
                lambda: graphql(base, held["token"], CREATE, e="later@example.com").json()
            )
            created: dict[str, Any] = payload["data"]["createContact"]
            return created if created["contact"] is not None else None

        created = await eventually(applies, within=120, what="the account's writes to resume")
        assert created["userErrors"] == []
        after = graphql(base, held["token"], "{ usage { totalContacts marketingContacts } }")
        assert after.json()["data"]["usage"] == {"totalContacts": 1, "marketingContacts": 1}
        name = graphql(base, held["token"], "{ account { name } }").json()["data"]["account"]
        assert name == {"name": "Held"}  # nothing refused was applied
        report = run_json(env, "usage", "reconcile", "--account", held["id"])
        assert report["drifted"] == 0, report


async def _in_log(log: Path, text: str) -> bool | None:
    written = await asyncio.to_thread(log.read_text, errors="replace")
    return True if text in written else None


async def _logged(process: ManagedProcess, text: str) -> bool | None:
    return True if text in log_of(process) else None


# ---------------------------------------------------------------- Redis killed and restarted


async def data_of(subscription: Subscription, within: float = 20) -> dict[str, Any]:
    message = await subscription.next(within)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    data: dict[str, Any] = message["payload"]["data"]
    return data


async def unavailable(subscription: Subscription) -> None:
    message = await subscription.next(within=20)
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "UNAVAILABLE", message
    assert "retry shortly" in errors[0]["message"]


async def test_a3_subscriptions_around_a_redis_outage(
    mongo_server: MongoServer, mongo_database_name: str, tmp_path: Path
) -> None:
    """Redis is killed under open subscriptions and restarted. A subscription opened meanwhile
    is told live events are unavailable; the open ones go on: the alert raised during the
    outage arrives once, usage is read afresh, and a subscriber whose account raised nothing
    is told nothing (no TOO_MANY) and hears its next alert."""
    port = free_port()

    def redis_up() -> RedisServer:
        return start_redis(
            port=port, data_dir=tmp_path / "redis", persistent=False, log_path=tmp_path / "r.log"
        )

    redis = redis_up()
    try:
        with api_on(mongo_server.uri, redis.url, mongo_database_name, tmp_path / "api.log") as (
            env,
            base,
        ):
            busy, quiet = account(env, "Busy", tier_limit=4), account(env, "Quiet", tier_limit=4)
            async with (
                graphql_socket(ws_url(base), busy["token"]) as busy_socket,
                graphql_socket(ws_url(base), quiet["token"]) as quiet_socket,
            ):
                assert (await acknowledged(busy_socket))["type"] == "connection_ack"
                assert (await acknowledged(quiet_socket))["type"] == "connection_ack"
                busy_alerts = await subscribe(busy_socket, "alerts", ALERTS)
                busy_usage = await subscribe(busy_socket, "usage", USAGE)
                quiet_alerts = await subscribe(quiet_socket, "alerts", ALERTS)
                await listening(redis.url, busy["id"])
                await listening(redis.url, quiet["id"])

                kill_hard(redis.process)
                # once the API knows Redis is away, a subscription opened then is told so: on
                # an open socket, and on a new one
                await eventually(
                    lambda: _in_log(tmp_path / "api.log", "the event feed from Redis broke"),
                    within=30,
                    what="the API to notice Redis is away",
                )
                await unavailable(await subscribe(busy_socket, "late", ALERTS))
                async with graphql_socket(ws_url(base), busy["token"]) as new_socket:
                    assert (await acknowledged(new_socket))["type"] == "connection_ack"
                    await unavailable(await subscribe(new_socket, "new", ALERTS))
                # the 75% alert is raised and stored; its publish fails
                for n in range(3):
                    graphql(base, busy["token"], CREATE, e=f"outage{n}@example.com")

                redis = redis_up()
                await listening(redis.url, busy["id"])
                await listening(redis.url, quiet["id"])
                heard = (await data_of(busy_alerts))["tierAlerts"]
                assert (heard["kind"], heard["threshold"], heard["marketingContacts"]) == (
                    "THRESHOLD_REACHED",
                    75,
                    3,
                )
                assert (await data_of(busy_usage))["usageChanged"] == {"marketingContacts": 3}

                # the quiet account's subscription goes on: its next message is its next alert
                for n in range(3):
                    graphql(base, quiet["token"], CREATE, e=f"quiet{n}@example.com")
                assert (await data_of(quiet_alerts))["tierAlerts"]["threshold"] == 75
                # and the busy one hears the alerts that follow, the 75% one not again
                graphql(base, busy["token"], CREATE, e="after@example.com")
                following = [(await data_of(busy_alerts))["tierAlerts"] for _ in range(2)]
                assert [a["threshold"] for a in following] == [90, 98]
                assert heard["id"] not in {a["id"] for a in following}
    finally:
        redis.stop()

"""P1 over real HTTP and WebSocket, across two API processes: a revoked token or a deactivated
user's token is refused at its next request (401) and its open sockets close with 4403, and
every operation on an open socket acts with the token's user as it is now (item 6)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from marketing_contacts.dev.processes import ManagedProcess, free_port
from marketing_contacts.dev.servers import MongoServer, RedisServer
from tests.support.api import graphql, start_api, ws_url
from tests.support.cli import run_json
from tests.support.feed import listening
from tests.support.ws import acknowledged, closed_with, graphql_socket, subscribe

USAGE = "subscription { usageChanged { marketingContacts } }"
CREATE_MARKETING = """mutation { createContact(input: {marketingStatus: MARKETING}) {
  contact { id } userErrors { code field } } }"""
CREATE_USER = """mutation($input: CreateUserInput!) {
  createUser(input: $input) { user { id } userErrors { code } } }"""
UPDATE_USER = """mutation($id: ID!, $input: UpdateUserInput!) {
  updateUser(id: $id, input: $input) { user { id } userErrors { code } } }"""
CREATE_TOKEN = """mutation($userId: ID!) {
  createApiToken(userId: $userId, name: "laptop") { token { id } secret userErrors { code } } }"""
REVOKE_TOKEN = """mutation($id: ID!) {
  revokeApiToken(id: $id) { token { revoked } userErrors { code } } }"""


@dataclass
class Stack:
    env: dict[str, str]
    api_a: str
    api_b: str

    def post(self, base: str, token: str, query: str, **variables: Any) -> dict[str, Any]:
        response = graphql(base, token, query, **variables)
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data


@dataclass
class Member:
    account_id: str
    admin_token: str
    user_id: str
    token_id: str
    token: str


@pytest.fixture(scope="module")
def stack(
    mongo_server: MongoServer,
    redis_server: RedisServer,
    mongo_database_name: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("access")
    env = {
        **os.environ,
        "MONGODB_URI": mongo_server.uri,
        "MONGODB_DATABASE": mongo_database_name,
        "REDIS_URL": redis_server.url,
    }
    processes: list[ManagedProcess] = []
    bases = []
    for name in ("a", "b"):
        process, base = start_api({**env, "PORT": str(free_port())}, logs / f"{name}.log")
        processes.append(process)
        bases.append(base)
    try:
        yield Stack(env, bases[0], bases[1])
    finally:
        for process in processes:
            process.stop()


def member_of_new_account(stack: Stack, name: str) -> Member:
    """An account (its admin's token from the CLI) and a MEMBER with a token of its own, made
    by the admin over the API."""
    account = run_json(stack.env, "accounts", "create", "--name", name)
    admin = account["token"]
    email = f"{name.lower().replace(' ', '-')}@example.com"
    user = stack.post(stack.api_b, admin, CREATE_USER, input={"name": "Sam", "email": email})[
        "createUser"
    ]["user"]
    token = stack.post(stack.api_b, admin, CREATE_TOKEN, userId=user["id"])["createApiToken"]
    return Member(account["id"], admin, user["id"], token["token"]["id"], token["secret"])


def assert_refused(response: httpx.Response) -> None:
    """As every other 401: JSON with the code UNAUTHENTICATED."""
    assert response.status_code == 401, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_revoked_tokens_next_request_is_401(stack: Stack) -> None:
    member = member_of_new_account(stack, "Revoked HTTP")
    assert graphql(stack.api_a, member.token, "{ me { id } }").json()["data"]["me"] == {
        "id": member.user_id
    }
    revoked = stack.post(stack.api_b, member.admin_token, REVOKE_TOKEN, id=member.token_id)
    assert revoked["revokeApiToken"] == {"token": {"revoked": True}, "userErrors": []}
    for base in (stack.api_a, stack.api_b):
        assert_refused(graphql(base, member.token, "{ me { id } }"))
    assert graphql(stack.api_a, member.admin_token, "{ me { role } }").status_code == 200


def test_a_deactivated_users_next_request_is_401(stack: Stack) -> None:
    member = member_of_new_account(stack, "Deactivated HTTP")
    stack.post(
        stack.api_b,
        member.admin_token,
        UPDATE_USER,
        id=member.user_id,
        input={"deactivated": True},
    )
    assert_refused(graphql(stack.api_a, member.token, "{ usage { totalContacts } }"))


@pytest.mark.parametrize(
    "change",
    ["revoke", "deactivate"],
)
async def test_an_open_socket_closes_with_4403_when_its_access_ends(
    stack: Stack, change: str
) -> None:
    """The socket only listens (a subscription): the change, made through the other API
    process, reaches it through the event hub."""
    member = member_of_new_account(stack, f"Socket {change}")
    async with graphql_socket(ws_url(stack.api_a), member.token) as socket:
        assert (await acknowledged(socket))["type"] == "connection_ack"
        await subscribe(socket, "u", USAGE)
        await listening(stack.env["REDIS_URL"], member.account_id)
        if change == "revoke":
            query, variables = REVOKE_TOKEN, {"id": member.token_id}
        else:
            query, variables = UPDATE_USER, {"id": member.user_id, "input": {"deactivated": True}}
        await asyncio.to_thread(stack.post, stack.api_b, member.admin_token, query, **variables)
        assert await closed_with(socket) == (4403, "Forbidden")


async def test_each_operation_on_a_socket_acts_with_the_users_current_access(
    stack: Stack,
) -> None:
    """P2 through a socket opened before the change: the admin takes marketing access away,
    then makes the user READ_ONLY; each next operation on the socket sees it."""
    member = member_of_new_account(stack, "Socket access")
    async with graphql_socket(ws_url(stack.api_a), member.token) as socket:
        await acknowledged(socket)
        made = await (await subscribe(socket, "1", CREATE_MARKETING)).data()
        assert made["createContact"]["userErrors"] == []
        await asyncio.to_thread(
            stack.post,
            stack.api_b,
            member.admin_token,
            UPDATE_USER,
            id=member.user_id,
            input={"marketingAccess": False},
        )
        refused = await (await subscribe(socket, "2", CREATE_MARKETING)).data()
        assert refused["createContact"] == {
            "contact": None,
            "userErrors": [{"code": "FORBIDDEN", "field": ["input", "marketingStatus"]}],
        }
        await asyncio.to_thread(
            stack.post,
            stack.api_b,
            member.admin_token,
            UPDATE_USER,
            id=member.user_id,
            input={"role": "READ_ONLY"},
        )
        message = await (await subscribe(socket, "3", CREATE_MARKETING)).next()
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert [error["extensions"]["code"] for error in errors] == ["FORBIDDEN"]
        read = await (await subscribe(socket, "4", "{ usage { marketingContacts } }")).data()
        assert read == {"usage": {"marketingContacts": 1}}


async def test_an_admin_of_another_account_cannot_revoke(stack: Stack) -> None:
    member = member_of_new_account(stack, "Target")
    stranger = member_of_new_account(stack, "Stranger")
    refused = stack.post(stack.api_a, stranger.admin_token, REVOKE_TOKEN, id=member.token_id)
    assert refused["revokeApiToken"] == {"token": None, "userErrors": [{"code": "NOT_FOUND"}]}
    async with graphql_socket(ws_url(stack.api_a), member.token) as socket:
        assert (await acknowledged(socket))["type"] == "connection_ack"

"""P1 over real HTTP and WebSocket, across two API processes: a revoked token or a deactivated
user's token is refused at its next request (401) and its open sockets close with 4403, and
every operation on an open socket acts with the token's user as it is now (item 6)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest

from marketing_contacts.dev.processes import free_port
from tests.support.api import graphql, start_api, ws_url
from tests.support.cli import run_cli, run_json
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
    api_environment: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """Two API processes on the module's database (the other on a port of its own)."""
    logs = tmp_path_factory.mktemp("access")
    first = start_api(api_environment, logs / "api-a.log")
    second = start_api({**api_environment, "PORT": str(free_port())}, logs / "api-b.log")
    try:
        yield Stack(api_environment, first[1], second[1])
    finally:
        for process, _ in (first, second):
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


async def changed(stack: Stack, member: Member, **change: Any) -> None:
    """The admin changes the member through the other API process."""
    await asyncio.to_thread(
        stack.post, stack.api_b, member.admin_token, UPDATE_USER, id=member.user_id, input=change
    )


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
        variables: dict[str, Any]
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
        await changed(stack, member, marketingAccess=False)
        refused = await (await subscribe(socket, "2", CREATE_MARKETING)).data()
        assert refused["createContact"] == {
            "contact": None,
            "userErrors": [{"code": "FORBIDDEN", "field": ["input", "marketingStatus"]}],
        }
        await changed(stack, member, role="READ_ONLY")
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


ME = "{ me { id name role marketingAccess } }"


def me(stack: Stack, token: str) -> dict[str, Any]:
    found: dict[str, Any] = stack.post(stack.api_a, token, ME)["me"]
    return found


def test_the_cli_makes_an_admin_with_the_account_and_members_with_tokens(stack: Stack) -> None:
    """`accounts create` prints what it did (and the user's id); `tokens create` makes a
    MEMBER named after the token, or with --user a further token of that user."""
    account = run_json(stack.env, "accounts", "create", "--name", "Cli")
    assert set(account) == {"id", "token", "user_id"}
    admin = {"id": account["user_id"], "name": "Admin", "role": "ADMIN", "marketingAccess": True}
    assert me(stack, account["token"]) == admin
    bot = run_json(
        stack.env,
        *("tokens", "create", "--account", account["id"], "--name", "CI bot"),
        "--no-marketing-access",
    )
    assert set(bot) == {"token", "user_id"}
    assert me(stack, bot["token"]) == {
        "id": bot["user_id"],
        "name": "CI bot",
        "role": "MEMBER",
        "marketingAccess": False,
    }
    more = run_json(
        stack.env,
        *("tokens", "create", "--account", account["id"], "--name", "laptop"),
        *("--user", account["user_id"]),
    )
    assert more["user_id"] == account["user_id"] and more["token"] != account["token"]
    assert me(stack, more["token"]) == admin

    printed = run_cli(stack.env, "accounts", "create", "--name", "Printed")
    lines = printed.stdout.strip().splitlines()
    assert printed.returncode == 0 and len(lines) == 3
    assert lines[0].startswith("account ") and lines[1].startswith("token mc_")
    assert lines[2].startswith("user ") and lines[2].endswith("(ADMIN)")


def test_cli_refusals_are_one_line_and_change_nothing(stack: Stack) -> None:
    ours = run_json(stack.env, "accounts", "create", "--name", "Ours")
    theirs = run_json(stack.env, "accounts", "create", "--name", "Theirs")
    token = ("tokens", "create", "--account", ours["id"], "--name", "n")
    refused = [
        run_cli(stack.env, *token, "--user", "nope"),
        run_cli(stack.env, *token, "--user", theirs["user_id"]),
        run_cli(stack.env, *token, "--user", ours["user_id"], "--no-marketing-access"),
        run_cli(stack.env, *token, "--email", "not an address"),
        run_cli(stack.env, "accounts", "create", "--name", "Bad", "--email", "nope"),
    ]
    for done in refused:
        assert done.returncode == 2, done
        assert "Traceback" not in done.stdout + done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    users = stack.post(stack.api_a, ours["token"], "{ users { totalCount } }")
    assert users["users"]["totalCount"] == 1


CREATE_OWNED = """mutation($owner: ID!) { createContact(input: {ownerId: $owner}) {
  contact { id owner { id name } } userErrors { code field } } }"""
SEEN = """query($id: ID!) { contacts { totalCount edges { node { id owner { id } } } }
  contact(id: $id) { id } }"""
PROGRESS = 'subscription { bulkOperationProgress(id: "%s") { id matched } }'
START_BULK = """mutation { startBulkStatusChange(input: {selection: {filter: {}},
  status: NON_MARKETING}) { bulkOperation { id matched } userErrors { code } } }"""


async def test_p3_an_owned_member_sees_its_own_records_over_http_and_on_a_socket(
    stack: Stack,
) -> None:
    """C9 over both API processes: the admin's contact and operation are not found by an
    OWNED member (HTTP, and on an open socket), and the admin's change of the member's
    visibility reaches the socket's next operation."""
    member = member_of_new_account(stack, "Visibility")
    admin_id = me(stack, member.admin_token)["id"]
    await changed(stack, member, visibility="OWNED")
    hidden = stack.post(stack.api_b, member.admin_token, CREATE_OWNED, owner=admin_id)
    hidden_id = hidden["createContact"]["contact"]["id"]
    own = stack.post(stack.api_b, member.admin_token, CREATE_OWNED, owner=member.user_id)
    assert own["createContact"]["contact"]["owner"] == {"id": member.user_id, "name": "Sam"}
    own_id = own["createContact"]["contact"]["id"]
    operation = stack.post(stack.api_b, member.admin_token, START_BULK)["startBulkStatusChange"]
    assert operation["bulkOperation"]["matched"] == 2
    seen = stack.post(stack.api_a, member.token, SEEN, id=hidden_id)
    assert seen == {
        "contacts": {
            "totalCount": 1,
            "edges": [{"node": {"id": own_id, "owner": {"id": member.user_id}}}],
        },
        "contact": None,
    }
    async with graphql_socket(ws_url(stack.api_a), member.token) as socket:
        await acknowledged(socket)
        progress = await (
            await subscribe(socket, "p", PROGRESS % operation["bulkOperation"]["id"])
        ).next()
        payload = progress["payload"]
        errors = payload if progress["type"] == "error" else payload["errors"]
        assert [error["extensions"]["code"] for error in errors] == ["NOT_FOUND"]
        before = await (await subscribe(socket, "1", SEEN, id=hidden_id)).data()
        assert before["contacts"]["totalCount"] == 1 and before["contact"] is None
        await changed(stack, member, visibility="ALL")
        after = await (await subscribe(socket, "2", SEEN, id=hidden_id)).data()
        assert after["contacts"]["totalCount"] == 2 and after["contact"] == {"id": hidden_id}


CREATE_COMPANY = """mutation($name: String!, $owner: ID) {
  createCompany(input: {name: $name, ownerId: $owner}) { company { id } userErrors { code } } }"""
ASSOCIATE = """mutation($contact: ID!, $company: ID!) { associate(input: {fromType: CONTACT,
  fromId: $contact, toType: COMPANY, toId: $company}) { userErrors { code field } } }"""
COMPANIES_SEEN = """query($contact: ID!, $company: ID!) {
  companies { totalCount edges { node { name } } }
  company(id: $company) { name }
  contact(id: $contact) { primaryCompany { name } companies { edges { node { name } } } } }"""


def test_p3_companies_are_seen_by_their_owners_over_http_in_one_account_and_not_another(
    stack: Stack,
) -> None:
    """C2, C9: an OWNED member sees its own company among its contact's, not the admin's
    (the contact's primary, made first); another account's admin finds neither record."""
    member = member_of_new_account(stack, "Company owners")
    outsider = run_json(stack.env, "accounts", "create", "--name", "Company outsider")["token"]
    admin_id = me(stack, member.admin_token)["id"]
    stack.post(stack.api_b, member.admin_token, UPDATE_USER, id=member.user_id,
               input={"visibility": "OWNED"})  # fmt: skip
    own = stack.post(stack.api_a, member.token, CREATE_OWNED, owner=member.user_id)
    own_id = own["createContact"]["contact"]["id"]

    def company(token: str, name: str, owner: str) -> str:
        made = stack.post(stack.api_b, token, CREATE_COMPANY, name=name, owner=owner)
        company_id: str = made["createCompany"]["company"]["id"]
        return company_id

    hidden = company(member.admin_token, "Hidden", admin_id)
    mine = company(member.token, "Mine", member.user_id)
    for company_id in (hidden, mine):  # the hidden one first: the contact's primary
        done = stack.post(stack.api_b, member.admin_token, ASSOCIATE, contact=own_id,
                          company=company_id)  # fmt: skip
        assert done["associate"]["userErrors"] == []
    seen = stack.post(stack.api_a, member.token, COMPANIES_SEEN, contact=own_id, company=hidden)
    assert seen == {
        "companies": {"totalCount": 1, "edges": [{"node": {"name": "Mine"}}]},
        "company": None,
        "contact": {"primaryCompany": None, "companies": {"edges": [{"node": {"name": "Mine"}}]}},
    }
    whole = stack.post(stack.api_a, member.admin_token, COMPANIES_SEEN, contact=own_id,
                       company=hidden)  # fmt: skip
    assert whole["contact"]["primaryCompany"] == {"name": "Hidden"}
    assert whole["companies"]["totalCount"] == 2
    outside = stack.post(stack.api_a, outsider, COMPANIES_SEEN, contact=own_id, company=hidden)
    assert outside == {
        "companies": {"totalCount": 0, "edges": []},
        "company": None,
        "contact": None,
    }
    refused = stack.post(stack.api_b, outsider, ASSOCIATE, contact=own_id, company=hidden)
    assert refused["associate"]["userErrors"] == [
        {"code": "NOT_FOUND", "field": ["input", "fromId"]}
    ]


AUDIT_LOG = """query($record: ID) { auditLog(recordId: $record) { edges { node {
  action recordIds requestId tokenId user { id } } } } }"""
RENAME = """mutation($id: ID!) { updateContact(id: $id, input: {firstName: "Ada"}) {
  contact { id } userErrors { code } } }"""


async def test_p4_the_log_names_each_writes_request_user_and_token(stack: Stack) -> None:
    """Over HTTP (the client's X-Request-Id kept, or one made and answered) and on a socket
    (each operation a request of its own), read back by the admin through the other process."""
    member = member_of_new_account(stack, "Audit")
    made = stack.post(stack.api_a, member.token, CREATE_OWNED, owner=member.user_id)
    contact_id = made["createContact"]["contact"]["id"]
    sent = await asyncio.to_thread(
        partial(
            httpx.post,
            f"{stack.api_a}/graphql",
            json={"query": RENAME, "variables": {"id": contact_id}},
            headers={"Authorization": f"Bearer {member.token}", "X-Request-Id": "ci-rename-1"},
            timeout=30,
        )
    )
    assert sent.headers["x-request-id"] == "ci-rename-1"
    assert sent.json()["data"]["updateContact"]["userErrors"] == []
    made_id = graphql(stack.api_a, member.token, RENAME, id=contact_id).headers["x-request-id"]
    async with graphql_socket(ws_url(stack.api_a), member.token) as socket:
        await acknowledged(socket)
        renamed = await (await subscribe(socket, "1", RENAME, id=contact_id)).data()
        assert renamed["updateContact"]["userErrors"] == []
    log = stack.post(stack.api_b, member.admin_token, AUDIT_LOG, record=contact_id)
    nodes = [edge["node"] for edge in log["auditLog"]["edges"]]
    assert [n["action"] for n in nodes] == ["updateContact"] * 3 + ["createContact"]
    assert {(n["tokenId"], n["user"]["id"]) for n in nodes} == {(member.token_id, member.user_id)}
    assert {tuple(n["recordIds"]) for n in nodes} == {(contact_id,)}
    socket_id, generated, kept, created = (n["requestId"] for n in nodes)
    assert kept == "ci-rename-1" and generated == made_id
    assert len({socket_id, generated, kept, created}) == 4  # one per request and operation
    refused = graphql(stack.api_a, member.token, AUDIT_LOG, record=contact_id).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # admins only

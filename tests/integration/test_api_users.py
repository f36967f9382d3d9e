"""Users, teams and API tokens through the real schema on real SecantusDB and Redis (P1, P2):
several users of one account, and two accounts that never see each other's."""

from __future__ import annotations

from typing import Any

from marketing_contacts.runtime import Runtime
from marketing_contacts.services.registry import Services
from tests.support.graphql import Client, open_client

USER_FIELDS = "id name email role visibility marketingAccess deactivated createdAt team { id name }"
PAYLOAD = f"user {{ {USER_FIELDS} }} userErrors {{ code field }}"
CREATE_USER = (
    f"""mutation($input: CreateUserInput!) {{ createUser(input: $input) {{ {PAYLOAD} }} }}"""
)
UPDATE_USER = f"""mutation($id: ID!, $input: UpdateUserInput!) {{
  updateUser(id: $id, input: $input) {{ {PAYLOAD} }} }}"""
CREATE_TEAM = """mutation($name: String!) {
  createTeam(name: $name) { team { id name members { id } } userErrors { code field } } }"""
TOKEN_FIELDS = "token { id name revoked createdAt lastUsedAt user { id role } } secret"
CREATE_TOKEN = f"""mutation($userId: ID!, $name: String!) {{
  createApiToken(userId: $userId, name: $name) {{
    {TOKEN_FIELDS} userErrors {{ code field }} }} }}"""
REVOKE_TOKEN = f"""mutation($id: ID!) {{
  revokeApiToken(id: $id) {{ {TOKEN_FIELDS} userErrors {{ code field }} }} }}"""
ME = f"{{ me {{ {USER_FIELDS} }} }}"
USERS = """query($first: Int, $after: String) { users(first: $first, after: $after) {
  totalCount edges { cursor node { id email } } pageInfo { hasNextPage endCursor } } }"""
TEAMS = "{ teams { id name members { id email team { name } } } }"
CREATE_CONTACT = """mutation($status: MarketingStatus!) {
  createContact(input: {marketingStatus: $status}) { contact { id } userErrors { code field } } }"""


async def created_user(admin: Client, **fields: Any) -> dict[str, Any]:
    data = await admin.execute(CREATE_USER, input=fields)
    assert data["createUser"]["userErrors"] == []
    user: dict[str, Any] = data["createUser"]["user"]
    return user


async def token_of(admin: Client, user_id: str) -> tuple[str, str]:
    """A new token of the user: its id and its secret."""
    data = (await admin.execute(CREATE_TOKEN, userId=user_id, name="ci"))["createApiToken"]
    assert data["userErrors"] == []
    return data["token"]["id"], data["secret"]


async def client_for(services: Services, secret: str) -> Client:
    caller = await services.tokens.authenticate(secret)
    assert caller is not None
    return Client(services, caller)


async def user_client(admin: Client, **fields: Any) -> Client:
    user = await created_user(admin, **fields)
    _, secret = await token_of(admin, user["id"])
    return await client_for(admin.services, secret)


def codes(result: Any) -> list[str]:
    return [error.extensions["code"] for error in result.errors or []]


async def test_an_admin_manages_users_and_teams(runtime: Runtime) -> None:
    admin = await open_client(runtime.services)
    team = (await admin.execute(CREATE_TEAM, name="Sales"))["createTeam"]
    assert team["userErrors"] == [] and team["team"]["members"] == []
    sam = await created_user(
        admin,
        name="Sam",
        email="Sam@Example.com",
        teamId=team["team"]["id"],
        visibility="TEAM",
        marketingAccess=False,
    )
    assert sam["email"] == "Sam@example.com" and sam["role"] == "MEMBER"
    assert sam["team"] == {"id": team["team"]["id"], "name": "Sales"}
    assert (sam["visibility"], sam["marketingAccess"], sam["deactivated"]) == ("TEAM", False, False)
    pat = await created_user(admin, name="Pat", email="pat@example.com", role="READ_ONLY")

    first = (await admin.execute(USERS, first=2))["users"]
    rest = (await admin.execute(USERS, first=2, after=first["pageInfo"]["endCursor"]))["users"]
    ids = [e["node"]["id"] for e in first["edges"] + rest["edges"]]
    assert ids == [admin.caller.user_id, sam["id"], pat["id"]]
    assert first["totalCount"] == 3 and not rest["pageInfo"]["hasNextPage"]
    teams = (await admin.execute(TEAMS))["teams"]
    assert teams == [
        {
            "id": team["team"]["id"],
            "name": "Sales",
            "members": [{"id": sam["id"], "email": "Sam@example.com", "team": {"name": "Sales"}}],
        }
    ]

    moved = await admin.execute(
        UPDATE_USER, id=pat["id"], input={"teamId": team["team"]["id"], "role": "MEMBER"}
    )
    assert moved["updateUser"]["user"]["team"]["name"] == "Sales"
    left = await admin.execute(UPDATE_USER, id=pat["id"], input={"teamId": None, "name": " P "})
    assert left["updateUser"]["user"]["team"] is None
    assert left["updateUser"]["user"]["name"] == "P"
    assert left["updateUser"]["user"]["role"] == "MEMBER"  # left out: kept


async def test_me_is_the_tokens_user(runtime: Runtime) -> None:
    admin = await open_client(runtime.services)
    member = await user_client(admin, name="Sam", email="sam@example.com")
    assert (await member.execute(ME))["me"]["email"] == "sam@example.com"
    assert (await admin.execute(ME))["me"]["role"] == "ADMIN"


async def test_members_and_read_only_users_do_not_administer(runtime: Runtime) -> None:
    admin = await open_client(runtime.services)
    member = await user_client(admin, name="Sam", email="sam@example.com")
    for query in (USERS, TEAMS):
        assert codes(await member.try_execute(query)) == ["FORBIDDEN"]
    forbidden = [{"code": "FORBIDDEN", "field": []}]
    mutations: list[tuple[str, dict[str, Any], str]] = [
        (CREATE_USER, {"input": {"name": "X", "email": "x@example.com"}}, "createUser"),
        (UPDATE_USER, {"id": member.caller.user_id, "input": {"role": "ADMIN"}}, "updateUser"),
        (CREATE_TEAM, {"name": "Mine"}, "createTeam"),
        (CREATE_TOKEN, {"userId": member.caller.user_id, "name": "more"}, "createApiToken"),
        (REVOKE_TOKEN, {"id": member.caller.token_id}, "revokeApiToken"),
    ]
    for mutation, variables, name in mutations:
        data = await member.execute(mutation, **variables)
        assert data[name]["userErrors"] == forbidden, name
    settings = await member.execute(
        'mutation { updateAccountSettings(input: {name: "Mine"}) { userErrors { code } } }'
    )
    assert settings["updateAccountSettings"]["userErrors"] == [{"code": "FORBIDDEN"}]
    assert (await member.execute(ME))["me"]["role"] == "MEMBER"


async def test_a_read_only_user_reads_and_changes_nothing(runtime: Runtime) -> None:
    """P1: every mutation of a READ_ONLY user is FORBIDDEN, before anything runs."""
    admin = await open_client(runtime.services)
    reader = await user_client(admin, name="Pat", email="pat@example.com", role="READ_ONLY")
    result = await reader.try_execute(CREATE_CONTACT, status="NON_MARKETING")
    assert result.data is None and codes(result) == ["FORBIDDEN"]
    result = await reader.try_execute(CREATE_USER, input={"name": "X", "email": "x@example.com"})
    assert codes(result) == ["FORBIDDEN"]
    assert (await admin.execute("{ usage { totalContacts } }"))["usage"]["totalContacts"] == 0
    assert (await reader.execute("{ contacts(first: 1) { totalCount } }"))["contacts"] == {
        "totalCount": 0
    }
    assert (await admin.execute(USERS))["users"]["totalCount"] == 2


async def test_bad_input_is_a_user_error_at_its_field(runtime: Runtime) -> None:
    admin = await open_client(runtime.services)
    await created_user(admin, name="Sam", email="sam@example.com")
    cases = [
        (
            {"name": "X", "email": "not an address"},
            [{"code": "INVALID", "field": ["input", "email"]}],
        ),
        (
            {"name": "X", "email": "SAM@example.com"},
            [{"code": "DUPLICATE", "field": ["input", "email"]}],
        ),
        (
            {"name": " ", "email": "x@example.com"},
            [{"code": "INVALID", "field": ["input", "name"]}],
        ),
        (
            {"name": "X", "email": "x@example.com", "teamId": "65a1b2c3d4e5f60718293a4b"},
            [{"code": "NOT_FOUND", "field": ["input", "teamId"]}],
        ),
    ]
    for fields, errors in cases:
        assert (await admin.execute(CREATE_USER, input=fields))["createUser"] == {
            "user": None,
            "userErrors": errors,
        }
    await admin.execute(CREATE_TEAM, name="Sales")
    duplicate = await admin.execute(CREATE_TEAM, name="sales")
    assert duplicate["createTeam"]["userErrors"] == [{"code": "DUPLICATE", "field": ["name"]}]
    unknown = await admin.execute(UPDATE_USER, id="nope", input={"name": "X"})
    assert unknown["updateUser"]["userErrors"] == [{"code": "NOT_FOUND", "field": ["id"]}]
    assert (await admin.execute(USERS))["users"]["totalCount"] == 2


async def test_the_last_active_admin_cannot_step_down(runtime: Runtime) -> None:
    admin = await open_client(runtime.services)
    me = admin.caller.user_id
    for change, field in (({"role": "MEMBER"}, "role"), ({"deactivated": True}, "deactivated")):
        refused = await admin.execute(UPDATE_USER, id=me, input=change)
        assert refused["updateUser"]["userErrors"] == [
            {"code": "CONFLICT", "field": ["input", field]}
        ]
    other = await created_user(admin, name="Ann", email="ann@example.com", role="ADMIN")
    stepped = await admin.execute(UPDATE_USER, id=me, input={"role": "MEMBER"})
    assert stepped["updateUser"]["user"]["role"] == "MEMBER"
    assert other["role"] == "ADMIN"


async def test_tokens_are_created_once_shown_and_revoked(runtime: Runtime) -> None:
    admin = await open_client(runtime.services)
    sam = await created_user(admin, name="Sam", email="sam@example.com")
    created = (await admin.execute(CREATE_TOKEN, userId=sam["id"], name="laptop"))["createApiToken"]
    token = created["token"]
    assert created["userErrors"] == [] and created["secret"].startswith("mc_")
    assert (token["name"], token["revoked"], token["lastUsedAt"]) == ("laptop", False, None)
    assert token["user"] == {"id": sam["id"], "role": "MEMBER"}
    holder = await client_for(runtime.services, created["secret"])
    assert holder.caller.user_id == sam["id"]
    revoked = (await admin.execute(REVOKE_TOKEN, id=token["id"]))["revokeApiToken"]
    assert revoked["secret"] is None and revoked["token"]["revoked"] is True
    assert revoked["token"]["lastUsedAt"] is not None  # the authentication above used it
    assert await runtime.services.tokens.authenticate(created["secret"]) is None
    bad = await admin.execute(CREATE_TOKEN, userId="nope", name="x")
    assert bad["createApiToken"]["userErrors"] == [{"code": "NOT_FOUND", "field": ["userId"]}]


async def test_a_deactivated_user_is_refused(runtime: Runtime) -> None:
    admin = await open_client(runtime.services)
    sam = await created_user(admin, name="Sam", email="sam@example.com")
    _, secret = await token_of(admin, sam["id"])
    await admin.execute(UPDATE_USER, id=sam["id"], input={"deactivated": True})
    assert await runtime.services.tokens.authenticate(secret) is None
    await admin.execute(UPDATE_USER, id=sam["id"], input={"deactivated": False})
    assert await runtime.services.tokens.authenticate(secret) is not None


async def test_marketing_access_is_the_users_and_an_admin_changes_it(runtime: Runtime) -> None:
    """P2, S5: the token's next request acts with the user's permission as it is now."""
    admin = await open_client(runtime.services)
    sam = await created_user(admin, name="Sam", email="sam@example.com")
    _, secret = await token_of(admin, sam["id"])
    member = await client_for(runtime.services, secret)
    made = await member.execute(CREATE_CONTACT, status="MARKETING")
    assert made["createContact"]["userErrors"] == []
    await admin.execute(UPDATE_USER, id=sam["id"], input={"marketingAccess": False})
    member = await client_for(runtime.services, secret)
    refused = await member.execute(CREATE_CONTACT, status="MARKETING")
    assert refused["createContact"]["userErrors"] == [
        {"code": "FORBIDDEN", "field": ["input", "marketingStatus"]}
    ]


async def test_accounts_never_see_each_others_users(runtime: Runtime) -> None:
    """An admin of one account finds no user, team or token of another: NOT_FOUND, as an id
    that does not exist."""
    ours = await open_client(runtime.services, name="Ours")
    theirs = await open_client(runtime.services, name="Theirs")
    their_user = await created_user(theirs, name="Sam", email="sam@example.com")
    their_token, secret = await token_of(theirs, their_user["id"])
    await created_user(ours, name="Sam", email="sam@example.com")  # their address is free here
    team = (await theirs.execute(CREATE_TEAM, name="Sales"))["createTeam"]["team"]

    changed = await ours.execute(UPDATE_USER, id=their_user["id"], input={"deactivated": True})
    assert changed["updateUser"]["userErrors"] == [{"code": "NOT_FOUND", "field": ["id"]}]
    token = await ours.execute(CREATE_TOKEN, userId=their_user["id"], name="x")
    assert token["createApiToken"]["userErrors"] == [{"code": "NOT_FOUND", "field": ["userId"]}]
    revoked = await ours.execute(REVOKE_TOKEN, id=their_token)
    assert revoked["revokeApiToken"]["userErrors"] == [{"code": "NOT_FOUND", "field": ["id"]}]
    joined = await ours.execute(
        CREATE_USER, input={"name": "X", "email": "x@example.com", "teamId": team["id"]}
    )
    assert joined["createUser"]["userErrors"] == [
        {"code": "NOT_FOUND", "field": ["input", "teamId"]}
    ]
    emails = [e["node"]["email"] for e in (await ours.execute(USERS))["users"]["edges"]]
    assert len(emails) == 2 and "sam@example.com" in emails
    assert (await ours.execute(TEAMS))["teams"] == []
    assert await runtime.services.tokens.authenticate(secret) is not None

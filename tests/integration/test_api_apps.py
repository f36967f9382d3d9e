"""Chatflows and connected apps through the served schema on real SecantusDB (F2, F3, F4, D2,
D4): a channel's contacts are marketing only while its setting is on, counted in `usage` at
once; toggling changes no existing contact; a conversation answers the caller's contact with the
address or creates one via CHATFLOW, and DUPLICATE for a contact it does not see; only an ADMIN
with marketing access turns a setting on, and nobody needs it to create contacts through one;
under a BLOCK tier a channel's contact is kept non-marketing and UPGRADE_BLOCKED raised; each
refusal is a userError at its path, with nothing written."""

from __future__ import annotations

from typing import Any

from marketing_contacts.domain.tiers import UpgradePolicy
from marketing_contacts.domain.users import RecordVisibility, Role
from marketing_contacts.runtime import Runtime
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.services.users import UserDraft
from tests.support.graphql import Client, client_of, open_client

CONTACT = "id email firstName createdVia marketingStatus statusSourceType statusSourceId"
CREATE_CHATFLOW = """mutation($input: CreateChatflowInput!) { createChatflow(input: $input) {
  chatflow { id name setContactsAsMarketing } userErrors { code field } } }"""
UPDATE_CHATFLOW = """mutation($id: ID!, $on: Boolean!) {
  updateChatflow(id: $id, setContactsAsMarketing: $on) {
  chatflow { id setContactsAsMarketing } userErrors { code field } } }"""
CREATE_INTEGRATION = """mutation($input: CreateIntegrationInput!) {
  createIntegration(input: $input) {
  integration { id name setContactsAsMarketing marketingSince } userErrors { code field } } }"""
UPDATE_INTEGRATION = """mutation($id: ID!, $on: Boolean!) {
  updateIntegration(id: $id, setContactsAsMarketing: $on) {
  integration { id setContactsAsMarketing marketingSince } userErrors { code field } } }"""
START = f"""mutation($input: StartConversationInput!) {{ startConversation(input: $input) {{
  contact {{ {CONTACT} }} userErrors {{ code field }} }} }}"""
CREATE_CONTACT = f"""mutation($input: CreateContactInput!) {{ createContact(input: $input) {{
  contact {{ {CONTACT} }} userErrors {{ code field }} }} }}"""
USAGE = "{ usage { marketingContacts totalContacts } }"


async def payload(client: Client, document: str, **variables: Any) -> dict[str, Any]:
    data = await client.execute(document, **variables)
    (found,) = data.values()
    result: dict[str, Any] = found
    return result


async def made(client: Client, document: str, kind: str, **variables: Any) -> dict[str, Any]:
    result = await payload(client, document, **variables)
    assert result["userErrors"] == [], result
    record: dict[str, Any] = result[kind]
    return record


async def usage(client: Client) -> tuple[int, int]:
    read = (await client.execute(USAGE))["usage"]
    return read["marketingContacts"], read["totalContacts"]


async def member(client: Client, runtime: Runtime, **draft: Any) -> Client:
    user = await runtime.services.users.create(
        client.caller, UserDraft(name="Sam", email="sam@apps.io", **draft)
    )
    return await client_of(runtime.services, user)


async def test_f3_an_apps_contacts_are_marketing_while_it_is_on_and_toggling_changes_none(
    runtime: Runtime,
) -> None:
    admin = await open_client(runtime.services)
    app = await made(
        admin,
        CREATE_INTEGRATION,
        "integration",
        input={"name": "Shop", "setContactsAsMarketing": True},
    )
    assert app["setContactsAsMarketing"] is True and app["marketingSince"] is not None
    # F4: creating through the app needs no marketing access
    limited = await member(admin, runtime, marketing_access=False)
    first = await made(
        limited,
        CREATE_CONTACT,
        "contact",
        input={"email": "one@apps.io", "integrationId": app["id"]},
    )
    assert (first["createdVia"], first["marketingStatus"]) == ("INTEGRATION", "MARKETING")
    assert (first["statusSourceType"], first["statusSourceId"]) == ("INTEGRATION", app["id"])
    assert await usage(admin) == (1, 1)
    off = await made(admin, UPDATE_INTEGRATION, "integration", id=app["id"], on=False)
    assert (off["setContactsAsMarketing"], off["marketingSince"]) == (False, None)
    second = await made(
        limited,
        CREATE_CONTACT,
        "contact",
        input={"email": "two@apps.io", "integrationId": app["id"]},
    )
    assert second["marketingStatus"] == "NON_MARKETING"
    await made(admin, UPDATE_INTEGRATION, "integration", id=app["id"], on=True)
    read = await admin.execute(
        "{ contacts(first: 10) { edges { node { email marketingStatus } } } }"
    )
    statuses = {e["node"]["email"]: e["node"]["marketingStatus"] for e in read["contacts"]["edges"]}
    assert statuses == {"one@apps.io": "MARKETING", "two@apps.io": "NON_MARKETING"}  # D2
    assert await usage(admin) == (1, 2)
    listed = await admin.execute("{ integrations { id name setContactsAsMarketing } }")
    assert listed["integrations"] == [
        {"id": app["id"], "name": "Shop", "setContactsAsMarketing": True}
    ]


async def test_f2_a_conversation_creates_its_contact_or_answers_the_callers(
    runtime: Runtime,
) -> None:
    admin = await open_client(runtime.services)
    chat = await made(admin, CREATE_CHATFLOW, "chatflow", input={"name": "Website chat"})
    assert chat["setContactsAsMarketing"] is False  # off by default (D2)
    visitor = {"chatflowId": chat["id"], "email": "ada@apps.io", "firstName": "Ada"}
    new = await made(admin, START, "contact", input=visitor)
    assert (new["createdVia"], new["marketingStatus"]) == ("CHATFLOW", "NON_MARKETING")
    assert (new["statusSourceType"], new["statusSourceId"]) == ("CHATFLOW", chat["id"])
    await made(admin, UPDATE_CHATFLOW, "chatflow", id=chat["id"], on=True)
    again = await made(
        admin, START, "contact", input={**visitor, "email": "ADA@apps.io", "firstName": "Eve"}
    )
    assert again == new  # the existing contact, as it is
    marketing = await made(admin, START, "contact", input={**visitor, "email": "bob@apps.io"})
    assert marketing["marketingStatus"] == "MARKETING"
    assert await usage(admin) == (1, 2)
    listed = await admin.execute("{ chatflows { id name setContactsAsMarketing } }")
    assert listed["chatflows"] == [
        {"id": chat["id"], "name": "Website chat", "setContactsAsMarketing": True}
    ]


async def test_f4_p1_who_may_create_and_turn_on_a_channel(runtime: Runtime) -> None:
    admin = await open_client(runtime.services)
    limited_admin = await open_client(runtime.services, name="Limited", marketing_access=False)
    chat = await made(limited_admin, CREATE_CHATFLOW, "chatflow", input={"name": "Chat"})
    app = await made(limited_admin, CREATE_INTEGRATION, "integration", input={"name": "App"})
    refusals = [
        (limited_admin, CREATE_CHATFLOW, {"input": {"name": "On", "setContactsAsMarketing": True}},
         [{"code": "FORBIDDEN", "field": ["input", "setContactsAsMarketing"]}]),
        (limited_admin, UPDATE_CHATFLOW, {"id": chat["id"], "on": True},
         [{"code": "FORBIDDEN", "field": ["setContactsAsMarketing"]}]),
        (limited_admin, UPDATE_INTEGRATION, {"id": app["id"], "on": True},
         [{"code": "FORBIDDEN", "field": ["setContactsAsMarketing"]}]),
        (admin, UPDATE_CHATFLOW, {"id": chat["id"], "on": True},  # another account's
         [{"code": "NOT_FOUND", "field": ["id"]}]),
        (limited_admin, CREATE_INTEGRATION, {"input": {"name": " "}},
         [{"code": "INVALID", "field": ["input", "name"]}]),
    ]  # fmt: skip
    for client, document, variables, errors in refusals:
        assert (await payload(client, document, **variables))["userErrors"] == errors, document
    sam = await member(limited_admin, runtime, role=Role.MEMBER)
    assert (await payload(sam, CREATE_CHATFLOW, input={"name": "Mine"}))["userErrors"] == [
        {"code": "FORBIDDEN", "field": []}
    ]
    assert (await sam.execute("{ chatflows { setContactsAsMarketing } }"))["chatflows"] == [
        {"setContactsAsMarketing": False}
    ]
    assert (await admin.execute("{ chatflows { id } integrations { id } }")) == {
        "chatflows": [],
        "integrations": [],
    }


async def test_f2_f3_what_the_contacts_inputs_refuse_at_their_paths(runtime: Runtime) -> None:
    admin = await open_client(runtime.services)
    chat = await made(admin, CREATE_CHATFLOW, "chatflow", input={"name": "Chat"})
    app = await made(admin, CREATE_INTEGRATION, "integration", input={"name": "App"})
    await runtime.services.contacts.create(
        admin.caller, ContactDraft(email="hidden@apps.io", owner_id=admin.caller.user_id)
    )
    owned = await member(admin, runtime, visibility=RecordVisibility.OWNED)
    refusals = [
        (START, {"chatflowId": app["id"], "email": "a@apps.io"}, "NOT_FOUND",
         ["input", "chatflowId"]),
        (START, {"chatflowId": chat["id"], "email": "nobody"}, "INVALID", ["input", "email"]),
        (START, {"chatflowId": chat["id"], "email": "hidden@apps.io"}, "DUPLICATE",
         ["input", "email"]),
        (CREATE_CONTACT, {"integrationId": chat["id"]}, "NOT_FOUND", ["input", "integrationId"]),
        (CREATE_CONTACT, {"integrationId": app["id"], "createdVia": "FORM"}, "INVALID",
         ["input", "createdVia"]),
    ]  # fmt: skip
    for document, given, code, field in refusals:
        result = await payload(owned, document, input=given)
        assert result == {"contact": None, "userErrors": [{"code": code, "field": field}]}, given
    assert await usage(admin) == (0, 1)


async def test_d4_under_block_a_channels_contact_is_kept_non_marketing_with_the_alert(
    runtime: Runtime,
) -> None:
    admin = await open_client(
        runtime.services, tier_limit=1, tier_step=1, upgrade_policy=UpgradePolicy.BLOCK
    )
    await made(admin, CREATE_CONTACT, "contact", input={"marketingStatus": "MARKETING"})
    chat = await made(
        admin, CREATE_CHATFLOW, "chatflow", input={"name": "Chat", "setContactsAsMarketing": True}
    )
    kept = await made(
        admin, START, "contact", input={"chatflowId": chat["id"], "email": "c@apps.io"}
    )
    assert (kept["createdVia"], kept["marketingStatus"]) == ("CHATFLOW", "NON_MARKETING")
    assert await usage(admin) == (1, 2)
    alerts = await admin.execute("{ account { alerts { edges { node { kind } } } } }")
    kinds = [edge["node"]["kind"] for edge in alerts["account"]["alerts"]["edges"]]
    assert "UPGRADE_BLOCKED" in kinds
    # an explicit MARKETING through an app is refused as createContact refuses it
    app = await made(admin, CREATE_INTEGRATION, "integration", input={"name": "App"})
    result = await payload(
        admin,
        CREATE_CONTACT,
        input={"integrationId": app["id"], "marketingStatus": "MARKETING"},
    )
    assert [e["code"] for e in result["userErrors"]] == ["TIER_LIMIT_REACHED"]
    assert await usage(admin) == (1, 2)

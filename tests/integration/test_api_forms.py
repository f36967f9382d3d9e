"""Forms through the served schema on real SecantusDB (F1, F4, D3, C4, C8, T1, T6, P3): a
submission is one transaction (the submission, its contact and the counts); a BLOCK account
keeps the lead, non-marketing; an existing pending submitter becomes marketing; the submitter
is matched whatever the case of its address; a field that merely holds an address creates
nothing; a form's submissions read newest first with their contacts; bad input is a userError
at its path, with nothing written."""

from __future__ import annotations

from typing import Any

from marketing_contacts.domain.tiers import UpgradePolicy
from marketing_contacts.domain.users import RecordVisibility
from marketing_contacts.runtime import Runtime
from marketing_contacts.services.users import UserDraft
from tests.support.graphql import Client, client_of, open_client

CREATE = """mutation($input: CreateFormInput!) { createForm(input: $input) {
  form { id name kind setContactsAsMarketing createWithoutEmail lifecycleStage submissionCount }
  userErrors { code field } } }"""
UPDATE = """mutation($id: ID!, $input: UpdateFormInput!) { updateForm(id: $id, input: $input) {
  form { id name setContactsAsMarketing } userErrors { code field } } }"""
SUBMIT = """mutation($input: SubmitFormInput!) { submitForm(input: $input) {
  submission { id createdContact blockedByTier values { name value }
    contact { id email marketingStatus createdVia lifecycleStage statusSourceType
      statusSourceId firstName } }
  userErrors { code field } } }"""
FORM = """query($id: ID!) { form(id: $id) { submissionCount
  submissions(first: 10) { edges { cursor node { id createdContact values { name value }
    contact { email } } } pageInfo { hasNextPage } } } }"""
USAGE = "{ usage { marketingContacts totalContacts } contacts { totalCount } }"
ALERTS = "{ account { tierLimit alerts(first: 50) { edges { node { kind } } } } }"


async def form(client: Client, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await client.execute(CREATE, input={"name": "Demo", **fields}))[
        "createForm"
    ]
    assert payload["userErrors"] == []
    made: dict[str, Any] = payload["form"]
    return made


async def submit(client: Client, form_id: str, **values: str) -> dict[str, Any]:
    sent = [{"name": name, "value": value} for name, value in values.items()]
    payload: dict[str, Any] = (
        await client.execute(SUBMIT, input={"formId": form_id, "values": sent})
    )["submitForm"]
    return payload


async def counted(client: Client) -> tuple[int, int]:
    """T1: the account's counters, and a count of its contacts by MARKETING status."""
    usage = (await client.execute(USAGE))["usage"]
    every = await client.execute("{ contacts(first: 200) { edges { node { marketingStatus } } } }")
    statuses = [e["node"]["marketingStatus"] for e in every["contacts"]["edges"]]
    assert usage["marketingContacts"] == statuses.count("MARKETING")
    assert usage["totalContacts"] == len(statuses)
    return usage["marketingContacts"], usage["totalContacts"]


async def test_f1_a_submission_creates_a_marketing_lead_and_counts_it_in_its_transaction(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    made = await form(client)
    assert made["kind"] == "NATIVE" and made["setContactsAsMarketing"] is True
    assert (made["createWithoutEmail"], made["lifecycleStage"]) == (False, "LEAD")
    sent = await submit(client, made["id"], email="Ada@Example.com", firstName="Ada")
    assert sent["userErrors"] == []
    submission = sent["submission"]
    assert (submission["createdContact"], submission["blockedByTier"]) == (True, False)
    assert submission["contact"] == {
        "id": submission["contact"]["id"],
        "email": "Ada@example.com",
        "marketingStatus": "MARKETING",
        "createdVia": "FORM",
        "lifecycleStage": "LEAD",
        "statusSourceType": "FORM",
        "statusSourceId": made["id"],
        "firstName": "Ada",
    }
    assert await counted(client) == (1, 1)
    # C8: matched whatever the case; a field that merely holds an address creates nothing
    again = await submit(client, made["id"], email="ada@EXAMPLE.com")
    assert again["submission"]["createdContact"] is False
    assert again["submission"]["contact"]["id"] == submission["contact"]["id"]
    other = await submit(client, made["id"], work_email="eve@example.com")
    assert (other["submission"]["createdContact"], other["submission"]["contact"]) == (False, None)
    invalid = await submit(client, made["id"], email="no address")
    assert invalid["submission"]["contact"] is None
    assert invalid["submission"]["values"] == [{"name": "email", "value": "no address"}]
    assert await counted(client) == (1, 1)
    read = (await client.execute(FORM, id=made["id"]))["form"]
    assert read["submissionCount"] == 4
    nodes = [edge["node"] for edge in read["submissions"]["edges"]]
    assert [n["id"] for n in nodes[-1:]] == [submission["id"]]  # newest first
    assert [n["values"][0]["value"] for n in nodes] == [
        "no address",
        "eve@example.com",
        "ada@EXAMPLE.com",
        "Ada@Example.com",
    ]
    assert [n["contact"] for n in nodes] == [
        None,
        None,
        {"email": "Ada@example.com"},
        {"email": "Ada@example.com"},
    ]


async def test_d3_an_existing_pending_submitter_becomes_marketing(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    made = await client.execute(
        """mutation { createContact(input: {email: "pat@example.com", marketingStatus: MARKETING})
        { contact { id } } }"""
    )
    contact_id = made["createContact"]["contact"]["id"]
    pending = await client.execute(
        """mutation($ids: [ID!]!) { setMarketingStatus(input: {contactIds: $ids,
        status: NON_MARKETING}) { contacts { marketingStatus marketingUntilNextUpdate } } }""",
        ids=[contact_id],
    )
    assert pending["setMarketingStatus"]["contacts"][0]["marketingUntilNextUpdate"] is True
    demo = await form(client, kind="EXTERNAL")
    sent = (await submit(client, demo["id"], email="PAT@example.com"))["submission"]
    assert sent["createdContact"] is False
    contact = sent["contact"]
    assert (contact["id"], contact["marketingStatus"]) == (contact_id, "MARKETING")
    assert (contact["statusSourceType"], contact["statusSourceId"]) == ("FORM", demo["id"])
    read = await client.execute(
        "query($id: ID!) { contact(id: $id) { marketingUntilNextUpdate } }", id=contact_id
    )
    assert read["contact"]["marketingUntilNextUpdate"] is False
    assert await counted(client) == (1, 1)


async def test_f1_t6_a_block_account_keeps_the_lead_non_marketing(runtime: Runtime) -> None:
    client = await open_client(
        runtime.services, tier_limit=1, tier_step=1, upgrade_policy=UpgradePolicy.BLOCK
    )
    await client.execute(
        """mutation { createContact(input: {email: "first@example.com",
        marketingStatus: MARKETING}) { contact { id } } }"""
    )
    demo = await form(client, lifecycleStage="SUBSCRIBER")
    sent = await submit(client, demo["id"], email="lead@example.com")
    assert sent["userErrors"] == []
    submission = sent["submission"]
    assert (submission["createdContact"], submission["blockedByTier"]) == (True, True)
    assert submission["contact"]["marketingStatus"] == "NON_MARKETING"
    assert submission["contact"]["lifecycleStage"] == "SUBSCRIBER"
    assert await counted(client) == (1, 2)
    account = (await client.execute(ALERTS))["account"]
    assert account["tierLimit"] == 1
    assert [a["node"]["kind"] for a in account["alerts"]["edges"]].count("UPGRADE_BLOCKED") == 1


async def test_f4_p3_marketing_access_sets_up_the_form_and_a_member_sees_only_its_contacts(
    runtime: Runtime,
) -> None:
    admin = await open_client(runtime.services)
    plain = await open_client(runtime.services, marketing_access=False)
    refused = (await plain.execute(CREATE, input={"name": "Demo"}))["createForm"]
    assert refused == {
        "form": None,
        "userErrors": [{"code": "FORBIDDEN", "field": ["input", "setContactsAsMarketing"]}],
    }
    off = await form(plain, setContactsAsMarketing=False)
    turned = (await plain.execute(UPDATE, id=off["id"], input={"setContactsAsMarketing": True}))[
        "updateForm"
    ]
    assert turned["userErrors"] == [
        {"code": "FORBIDDEN", "field": ["input", "setContactsAsMarketing"]}
    ]
    assert (await plain.execute("{ forms { setContactsAsMarketing } }"))["forms"] == [
        {"setContactsAsMarketing": False}
    ]
    # an OWNED member submits the admin's form: the admin's contact is matched, not shown,
    # its values withheld, and it is left as it is (P3)
    demo = await form(admin)
    await admin.execute(
        """mutation($owner: ID!) { createContact(input: {email: "boss@example.com",
        ownerId: $owner}) { contact { id } } }""",
        owner=admin.caller.user_id,
    )
    user = await runtime.services.users.create(
        admin.caller,
        UserDraft(name="Sam", email="sam@example.com", visibility=RecordVisibility.OWNED),
    )
    member = await client_of(runtime.services, user)
    sent = (await submit(member, demo["id"], email="boss@example.com"))["submission"]
    assert (sent["createdContact"], sent["contact"]) == (False, None)
    listed = await member.execute(
        "{ forms { id submissions { edges { node { values { value } contact { id } } } } } }"
    )
    assert listed["forms"][0]["id"] == demo["id"]
    assert listed["forms"][0]["submissions"]["edges"] == [{"node": {"values": [], "contact": None}}]
    assert await counted(admin) == (0, 1)
    seen = (await admin.execute(FORM, id=demo["id"]))["form"]["submissions"]["edges"]
    assert seen[0]["node"]["contact"] == {"email": "boss@example.com"}


async def test_f1_bad_input_is_a_user_error_at_its_path_and_writes_nothing(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    demo = await form(client)
    stranger = await open_client(runtime.services, name="Elsewhere")
    too_long = [{"name": "a", "value": "ok"}, {"name": "b", "value": "x" * 10_001}]
    cases = [
        (client, {"formId": demo["id"], "values": too_long}, ["input", "values", "1", "value"]),
        (
            client,
            {"formId": demo["id"], "values": [{"name": "bad\nname", "value": ""}]},
            ["input", "values", "0", "name"],
        ),
        (stranger, {"formId": demo["id"], "values": []}, ["input", "formId"]),
        (client, {"formId": "nope", "values": []}, ["input", "formId"]),
    ]
    for caller, sent, path in cases:
        payload = (await caller.execute(SUBMIT, input=sent))["submitForm"]
        assert payload["submission"] is None
        assert [e["field"] for e in payload["userErrors"]] == [path]
    many = [{"name": f"f{i}", "value": ""} for i in range(101)]
    payload = await client.execute(SUBMIT, input={"formId": demo["id"], "values": many})
    assert payload["submitForm"]["userErrors"] == [
        {"code": "TOO_MANY", "field": ["input", "values"]}
    ]
    blank = (await client.execute(UPDATE, id=demo["id"], input={"name": " "}))["updateForm"]
    assert blank["userErrors"] == [{"code": "INVALID", "field": ["input", "name"]}]
    assert (await client.execute(FORM, id=demo["id"]))["form"]["submissionCount"] == 0
    assert (await stranger.execute(FORM, id=demo["id"]))["form"] is None

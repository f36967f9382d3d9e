"""K1 through the schema on real servers: `accounts create --legacy` opens an account without
marketing contacts (every contact counts, no status can be set), and enableMarketingContacts
switches it on once; its background operation (run in-process here, as test_api_bulk does)
sets every contact NON_MARKETING, after which the usual rules apply."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from marketing_contacts.domain.users import Role
from marketing_contacts.runtime import Runtime
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.users import UserDraft
from marketing_contacts.settings import Settings
from tests.support.cli import run_json
from tests.support.graphql import Client, client_of

ACCOUNT = """{ account { id marketingContactsEnabled tierLimit
  usage { marketingContacts totalContacts } } }"""
CREATE = """mutation($s: MarketingStatus) { createContact(input:
  {marketingStatus: $s}) { contact { id marketingStatus statusSourceType }
  userErrors { code field message } } }"""
SET = """mutation($ids: [ID!]!, $s: MarketingStatus!) { setMarketingStatus(input:
  {contactIds: $ids, status: $s}) { userErrors { code field message } } }"""
START = """mutation($ids: [ID!]!) { startBulkStatusChange(input:
  {selection: {ids: $ids}, status: NON_MARKETING}) { bulkOperation { id }
  userErrors { code field message } } }"""
ENABLE = """mutation { enableMarketingContacts {
  account { id marketingContactsEnabled usage { marketingContacts totalContacts } }
  userErrors { code field message } } }"""
OPERATIONS = """{ bulkOperations(first: 10) { edges { node {
  id status targetStatus matched processed changedNow becamePending } } } }"""
CONTACTS = "{ contacts(first: 50) { edges { node { id marketingStatus statusSourceType } } } }"


async def legacy_client(runtime: Runtime, tier_limit: int = 2) -> Client:
    services = runtime.services
    account = await services.accounts.open(
        AccountOpening(name="Legacy", tier_limit=tier_limit, tier_step=tier_limit, legacy=True)
    )
    admin = await services.users.add(
        account.id, UserDraft(name="Admin", email=None, role=Role.ADMIN, marketing_access=True)
    )
    return await client_of(services, admin)


async def create(client: Client, status: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = (await client.execute(CREATE, s=status))["createContact"]
    return payload


async def test_k1_a_legacy_account_counts_every_contact_and_sets_no_status(
    runtime: Runtime,
) -> None:
    client = await legacy_client(runtime, tier_limit=2)
    made = [(await create(client))["contact"] for _ in range(3)]
    assert {(c["marketingStatus"], c["statusSourceType"]) for c in made} == {
        ("MARKETING", "LEGACY")
    }
    account = (await client.execute(ACCOUNT))["account"]
    assert account["marketingContactsEnabled"] is False
    assert account["usage"] == {"marketingContacts": 3, "totalContacts": 3}
    assert account["tierLimit"] == 4  # T2: the tier grew on every contact
    ids = [c["id"] for c in made]
    refused = [
        (await create(client, "NON_MARKETING"))["userErrors"],
        (await client.execute(SET, ids=ids[:1], s="NON_MARKETING"))["setMarketingStatus"][
            "userErrors"
        ],
        (await client.execute(START, ids=ids[:1]))["startBulkStatusChange"]["userErrors"],
    ]
    assert [[(e["code"], e["field"]) for e in errors] for errors in refused] == [
        [("FORBIDDEN", ["input", "marketingStatus"])],
        [("FORBIDDEN", ["input", "status"])],
        [("FORBIDDEN", ["input", "status"])],
    ]
    assert all("without marketing contacts (K1)" in e[0]["message"] for e in refused)
    after = (await client.execute(ACCOUNT))["account"]
    assert after == account


async def test_k1_enabling_sets_every_contact_non_marketing_once(runtime: Runtime) -> None:
    client = await legacy_client(runtime, tier_limit=10)
    for _ in range(3):
        await create(client)
    enabled = (await client.execute(ENABLE))["enableMarketingContacts"]
    assert enabled["userErrors"] == []
    assert enabled["account"]["marketingContactsEnabled"] is True
    (edge,) = (await client.execute(OPERATIONS))["bulkOperations"]["edges"]
    operation = edge["node"]
    assert (operation["status"], operation["targetStatus"], operation["matched"]) == (
        "QUEUED",
        "NON_MARKETING",
        3,
    )
    await runtime.services.bulk_runner.run(operation["id"], "test-runner")
    (edge,) = (await client.execute(OPERATIONS))["bulkOperations"]["edges"]
    done = edge["node"]
    assert (done["status"], done["processed"], done["changedNow"], done["becamePending"]) == (
        "COMPLETED",
        3,
        3,
        0,
    )
    contacts = [e["node"] for e in (await client.execute(CONTACTS))["contacts"]["edges"]]
    assert {(c["marketingStatus"], c["statusSourceType"]) for c in contacts} == {
        ("NON_MARKETING", "LEGACY")
    }
    account = (await client.execute(ACCOUNT))["account"]
    assert account["usage"] == {"marketingContacts": 0, "totalContacts": 3}
    # one-way: again changes nothing and starts no operation
    again = (await client.execute(ENABLE))["enableMarketingContacts"]
    assert again == {"account": enabled["account"] | {"usage": account["usage"]}, "userErrors": []}
    assert len((await client.execute(OPERATIONS))["bulkOperations"]["edges"]) == 1
    # from then on the rules apply: statuses are set, new API contacts are non-marketing (D2)
    set_back = await client.execute(SET, ids=[contacts[0]["id"]], s="MARKETING")
    assert set_back["setMarketingStatus"]["userErrors"] == []
    new = (await create(client))["contact"]
    assert (new["marketingStatus"], new["statusSourceType"]) == (
        "NON_MARKETING",
        "CREATION_DEFAULT",
    )
    usage = (await client.execute(ACCOUNT))["account"]["usage"]
    assert usage == {"marketingContacts": 1, "totalContacts": 4}


async def test_k1_only_an_admin_enables_marketing_contacts(runtime: Runtime) -> None:
    client = await legacy_client(runtime)
    services = runtime.services
    member = await services.users.add(
        client.caller.account_id,
        UserDraft(name="Member", email=None, role=Role.MEMBER, marketing_access=True),
    )
    refused = (await (await client_of(services, member)).execute(ENABLE))["enableMarketingContacts"]
    assert refused["account"] is None
    assert [e["code"] for e in refused["userErrors"]] == ["FORBIDDEN"]
    assert (await client.execute(ACCOUNT))["account"]["marketingContactsEnabled"] is False


async def test_k1_the_cli_opens_a_legacy_account(
    runtime: Runtime, settings_for_tests: Settings, tmp_path: Path
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ENVIRONMENT")},
        "VAR_DIR": str(tmp_path),
        "MONGODB_URI": settings_for_tests.mongodb_uri,
        "MONGODB_DATABASE": settings_for_tests.mongodb_database,
    }
    made = run_json(env, "accounts", "create", "--name", "Old billing", "--legacy")
    plain = run_json(env, "accounts", "create", "--name", "New billing")
    assert set(made) == set(plain) == {"id", "token", "user_id"}
    services = runtime.services
    for opened, enabled in [(made, False), (plain, True)]:
        caller = await services.tokens.authenticate(opened["token"])
        assert caller is not None
        account = (await Client(services, caller).execute(ACCOUNT))["account"]
        assert (account["id"], account["marketingContactsEnabled"]) == (opened["id"], enabled)

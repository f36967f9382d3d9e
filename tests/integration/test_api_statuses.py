"""setMarketingStatus, history, tier changes and alerts through the schema on real servers."""

from __future__ import annotations

from typing import Any

from marketing_contacts.domain.tiers import UpgradePolicy
from marketing_contacts.runtime import Runtime
from tests.support.graphql import Client, open_client

SET = """
mutation($ids: [ID!]!, $status: MarketingStatus!, $type: StatusSourceType) {
  setMarketingStatus(input: {contactIds: $ids, status: $status, sourceType: $type}) {
    contacts { id marketingStatus marketingUntilNextUpdate statusSourceType statusSourceId }
    usage { marketingContacts pendingNonMarketing tierLimit }
    userErrors { code field message }
  }
}"""
HISTORY = """
query($id: ID!, $after: String) { contact(id: $id) {
  statusHistory(first: 1, after: $after) {
    edges { node { fromStatus toStatus pending sourceType } }
    pageInfo { hasNextPage endCursor } } } }"""
ACCOUNT = """{ account { tierLimit
  usage { marketingContacts bannerVisible }
  tierChanges { edges { node { fromLimit toLimit marketingContacts proratedAmount } } }
  alerts(first: 50) { edges { node { kind threshold tierLimit marketingContacts } } } } }"""


async def contacts(client: Client, count: int, status: str = "NON_MARKETING") -> list[str]:
    ids = []
    for _ in range(count):
        data = await client.execute(
            "mutation($s: MarketingStatus) { createContact(input: {marketingStatus: $s}) "
            "{ contact { id } } }",
            s=status,
        )
        ids.append(data["createContact"]["contact"]["id"])
    return ids


async def set_status(client: Client, ids: list[str], status: str, **more: Any) -> dict[str, Any]:
    data = await client.execute(SET, ids=ids, status=status, **more)
    payload: dict[str, Any] = data["setMarketingStatus"]
    return payload


async def test_s2_s3_marketing_to_pending_to_marketing_keeps_the_count(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    [one] = await contacts(client, 1)
    marketing = await set_status(client, [one], "MARKETING")
    assert marketing["usage"]["marketingContacts"] == 1
    pending = await set_status(client, [one], "NON_MARKETING")
    assert pending["contacts"][0]["marketingStatus"] == "MARKETING"  # S3: no early exit
    assert pending["contacts"][0]["marketingUntilNextUpdate"] is True
    assert pending["usage"] == {"marketingContacts": 1, "pendingNonMarketing": 1, "tierLimit": 1000}
    back = await set_status(client, [one], "MARKETING")
    assert back["contacts"][0]["marketingUntilNextUpdate"] is False
    assert back["usage"]["pendingNonMarketing"] == 0
    noop = await set_status(client, [one], "MARKETING")
    assert noop["userErrors"] == []


async def test_s4_history_is_newest_first_and_pages_and_no_op_stores_nothing(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    [one] = await contacts(client, 1)
    for status in ("MARKETING", "MARKETING", "NON_MARKETING", "NON_MARKETING"):
        await set_status(client, [one], status)
    entries = []
    after = None
    while True:
        page = (await client.execute(HISTORY, id=one, after=after))["contact"]["statusHistory"]
        entries += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert entries == [
        {
            "fromStatus": "MARKETING",
            "toStatus": "NON_MARKETING",
            "pending": True,
            "sourceType": "USER",
        },
        {
            "fromStatus": "NON_MARKETING",
            "toStatus": "MARKETING",
            "pending": False,
            "sourceType": "USER",
        },
    ]


async def test_s4_provenance_names_the_token_for_users_and_the_tool_otherwise(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    [one, two] = await contacts(client, 2)
    by_user = await set_status(client, [one], "MARKETING")
    assert by_user["contacts"][0]["statusSourceType"] == "USER"
    assert by_user["contacts"][0]["statusSourceId"] == client.caller.user_id
    data = await client.execute(
        "mutation($ids: [ID!]!) { setMarketingStatus(input: {contactIds: $ids, status: MARKETING,"
        ' sourceType: INTEGRATION, sourceId: "salesforce-1"}) { contacts { statusSourceType '
        "statusSourceId } } }",
        ids=[two],
    )
    assert data["setMarketingStatus"]["contacts"] == [
        {"statusSourceType": "INTEGRATION", "statusSourceId": "salesforce-1"}
    ]


async def test_b6_more_than_100_ids_is_too_many_and_changes_nothing(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    [one] = await contacts(client, 1)
    # 101 distinct ids (an id given twice would count once)
    payload = await set_status(client, [one] + [f"{n:024x}" for n in range(100)], "MARKETING")
    assert payload["userErrors"][0]["code"] == "TOO_MANY"
    assert payload["userErrors"][0]["field"] == ["input", "contactIds"]
    usage = await client.execute("{ usage { marketingContacts } }")
    assert usage["usage"]["marketingContacts"] == 0


async def test_b6_unknown_or_foreign_id_fails_all_and_duplicates_count_once(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    stranger = await open_client(runtime.services, name="Stranger")
    mine = await contacts(client, 2)
    [theirs] = await contacts(stranger, 1)
    refused = await set_status(client, [*mine, theirs], "MARKETING")
    assert refused["userErrors"] == [
        {
            "code": "NOT_FOUND",
            "field": ["input", "contactIds", "2"],
            "message": refused["userErrors"][0]["message"],
        }
    ]
    assert refused["contacts"] == []
    usage = await client.execute("{ usage { marketingContacts } }")
    assert usage["usage"]["marketingContacts"] == 0
    doubled = await set_status(client, [mine[0], mine[0], mine[1]], "MARKETING")
    assert [c["id"] for c in doubled["contacts"]] == mine
    assert doubled["usage"]["marketingContacts"] == 2


async def test_source_types_the_service_owns_cannot_be_claimed(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    [one] = await contacts(client, 1)
    for claimed in ("UPDATE_DATE", "BULK_OPERATION", "CREATION_DEFAULT", "MERGE"):
        payload = await set_status(client, [one], "MARKETING", type=claimed)
        assert payload["userErrors"][0]["code"] == "INVALID"
        assert payload["userErrors"][0]["field"] == ["input", "sourceType"]


async def test_s7_workflow_non_marketing_needs_professional(runtime: Runtime) -> None:
    starter = await open_client(runtime.services)
    [one] = await contacts(starter, 1, "MARKETING")
    refused = await set_status(starter, [one], "NON_MARKETING", type="WORKFLOW")
    assert refused["userErrors"][0]["code"] == "FORBIDDEN"


async def test_t2_a2_upgrade_records_a_tier_change_and_alerts(runtime: Runtime) -> None:
    client = await open_client(runtime.services, tier_limit=4, tier_step=4)
    ids = await contacts(client, 6)
    payload = await set_status(client, ids[:3], "MARKETING")
    assert payload["usage"]["tierLimit"] == 4  # 75 % of 4: alert, no upgrade
    payload = await set_status(client, ids[3:], "MARKETING")
    assert payload["usage"] == {"marketingContacts": 6, "pendingNonMarketing": 0, "tierLimit": 8}
    account = (await client.execute(ACCOUNT))["account"]
    [change] = [edge["node"] for edge in account["tierChanges"]["edges"]]
    assert (change["fromLimit"], change["toLimit"], change["marketingContacts"]) == (4, 8, 6)
    alerts = [
        (a["node"]["kind"], a["node"]["threshold"], a["node"]["tierLimit"])
        for a in account["alerts"]["edges"]
    ]
    assert sorted(alerts) == sorted(
        [
            ("THRESHOLD_REACHED", 75, 4),
            ("THRESHOLD_REACHED", 90, 4),
            ("THRESHOLD_REACHED", 98, 4),
            ("TIER_EXCEEDED", 100, 4),
            ("TIER_UPGRADED", 100, 8),
            ("THRESHOLD_REACHED", 75, 8),
        ]
    )
    await set_status(client, ids, "NON_MARKETING")
    await set_status(client, ids, "MARKETING")  # back up within the period: nothing new
    again = (await client.execute(ACCOUNT))["account"]
    assert len(again["alerts"]["edges"]) == len(alerts)
    assert again["tierLimit"] == 8  # T3: never down


async def test_t6_block_refuses_the_whole_change_and_alerts_once(runtime: Runtime) -> None:
    client = await open_client(
        runtime.services, tier_limit=2, tier_step=2, upgrade_policy=UpgradePolicy.BLOCK
    )
    ids = await contacts(client, 3)
    for _ in range(2):
        refused = await set_status(client, ids, "MARKETING")
        assert [e["code"] for e in refused["userErrors"]] == ["TIER_LIMIT_REACHED"]
    account = (await client.execute(ACCOUNT))["account"]
    assert account["usage"]["marketingContacts"] == 0
    assert [a["node"]["kind"] for a in account["alerts"]["edges"]] == ["UPGRADE_BLOCKED"]
    fits = await set_status(client, ids[:2], "MARKETING")
    assert fits["usage"] == {"marketingContacts": 2, "pendingNonMarketing": 0, "tierLimit": 2}
    assert (await client.execute(ACCOUNT))["account"]["usage"]["bannerVisible"] is True

"""Deals through the served schema on real SecantusDB (C1, C3, C5): a deal's stage moves its
contacts and companies forward in the write that changes it (opportunities, then customers; a
lost deal moves nobody back), also when a win and an association race; a contact's and a
company's deals, a page of contacts with theirs; bad input is a userError or an INVALID error
at its path, with nothing written."""

from __future__ import annotations

import asyncio
from typing import Any

from marketing_contacts.runtime import Runtime
from tests.support.graphql import Client, open_client

CREATE = """mutation($input: CreateDealInput!) { createDeal(input: $input) {
  deal { id name stage amount closeDate owner { id } contacts { totalCount }
  companies { totalCount edges { node { name } } } } userErrors { code field } } }"""
UPDATE = """mutation($id: ID!, $input: UpdateDealInput!) { updateDeal(id: $id, input: $input) {
  deal { id stage amount } userErrors { code field } } }"""
ASSOCIATE = """mutation($input: AssociationInput!) { associate(input: $input) {
  userErrors { code field } } }"""
PAGE = """{ contacts(first: 10) { edges { node { email
  deals(first: 1) { totalCount edges { cursor node { name contacts { totalCount } } }
  pageInfo { hasNextPage } } } } } }"""


async def contact(client: Client, email: str, **fields: Any) -> str:
    made = await client.execute(
        "mutation($input: CreateContactInput!) { createContact(input: $input) { contact { id } } }",
        input={"email": email, **fields},
    )
    contact_id: str = made["createContact"]["contact"]["id"]
    return contact_id


async def company(client: Client, name: str) -> str:
    made = await client.execute(
        "mutation($n: String!) { createCompany(input: {name: $n}) { company { id } } }", n=name
    )
    company_id: str = made["createCompany"]["company"]["id"]
    return company_id


async def deal(client: Client, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await client.execute(CREATE, input=fields))["createDeal"]
    assert payload["userErrors"] == []
    made: dict[str, Any] = payload["deal"]
    return made


async def stages(client: Client) -> dict[str, str | None]:
    read = await client.try_execute(
        """{ contacts(first: 50) { edges { node { id lifecycleStage } } }
        companies { edges { node { id lifecycleStage } } } }"""
    )
    assert read.errors is None, read.errors
    return {
        edge["node"]["id"]: edge["node"]["lifecycleStage"]
        for kind in ("contacts", "companies")
        for edge in read.data[kind]["edges"]
    }


async def test_c5_a_deals_stage_moves_its_records_forward_and_a_loss_moves_nobody_back(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    lead = await contact(client, "lead@deals.io")  # C4: an API contact is a LEAD
    evangelist = await contact(client, "fan@deals.io", lifecycleStage="EVANGELIST")
    acme = await company(client, "Acme")
    made = await deal(
        client,
        name="Renewal",
        stage="CONTRACT_SENT",
        amount="1200.5",
        closeDate="2027-01-31",
        ownerId=client.caller.user_id,
        contactIds=[lead, evangelist],
        companyIds=[acme],
    )
    assert (made["amount"], made["closeDate"], made["owner"]) == (
        "1200.50",
        "2027-01-31",
        {"id": client.caller.user_id},
    )
    assert made["contacts"]["totalCount"] == 2
    assert made["companies"]["edges"] == [{"node": {"name": "Acme"}}]
    assert await stages(client) == {
        lead: "OPPORTUNITY",
        evangelist: "EVANGELIST",
        acme: "OPPORTUNITY",
    }
    other = await deal(client, name="Upsell", stage="QUALIFIED_TO_BUY", contactIds=[lead])
    won = await client.execute(UPDATE, id=made["id"], input={"stage": "CLOSED_WON"})
    assert won["updateDeal"]["deal"]["stage"] == "CLOSED_WON"
    assert await stages(client) == {lead: "CUSTOMER", evangelist: "EVANGELIST", acme: "CUSTOMER"}
    lost = await client.execute(UPDATE, id=other["id"], input={"stage": "CLOSED_LOST"})
    assert lost["updateDeal"]["userErrors"] == []
    assert (await stages(client))[lead] == "CUSTOMER"  # C5: never back from CUSTOMER
    seen = await client.execute(
        """query($id: ID!) { contact(id: $id) { deals { totalCount edges { node { name stage } } } }
        }""",
        id=lead,
    )
    assert seen["contact"]["deals"] == {
        "totalCount": 2,
        "edges": [
            {"node": {"name": "Renewal", "stage": "CLOSED_WON"}},
            {"node": {"name": "Upsell", "stage": "CLOSED_LOST"}},
        ],
    }


async def test_c5_a_win_racing_an_association_leaves_the_new_record_a_customer(
    runtime: Runtime,
) -> None:
    """The win and the association write the deal's document in their transactions, so one
    commits after the other and sees it: whichever comes first, the contact ends a customer."""
    client = await open_client(runtime.services)
    for round in range(4):
        person = await contact(client, f"race-{round}@deals.io")
        open_deal = await deal(client, name=f"Race {round}", stage="PRESENTATION_SCHEDULED")
        association = {
            "fromType": "DEAL",
            "fromId": open_deal["id"],
            "toType": "CONTACT",
            "toId": person,
        }
        win, joined = await asyncio.gather(
            client.execute(UPDATE, id=open_deal["id"], input={"stage": "CLOSED_WON"}),
            client.execute(ASSOCIATE, input=association),
        )
        assert win["updateDeal"]["userErrors"] == joined["associate"]["userErrors"] == []
        assert (await stages(client))[person] == "CUSTOMER"


async def test_a_page_of_contacts_reads_each_ones_first_deals(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    one = await contact(client, "one@deals.io")
    await contact(client, "none@deals.io")
    first = await deal(client, name="First", stage="CLOSED_LOST", contactIds=[one])
    await deal(client, name="Second", stage="CLOSED_LOST", contactIds=[one])
    page = (await client.execute(PAGE))["contacts"]["edges"]
    by_email = {edge["node"]["email"]: edge["node"]["deals"] for edge in page}
    assert by_email["none@deals.io"] == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {"hasNextPage": False},
    }
    deals = by_email["one@deals.io"]
    assert (deals["totalCount"], deals["pageInfo"]["hasNextPage"]) == (2, True)
    # the deal as a page of contacts reads it holds its contacts whole
    assert deals["edges"][0]["node"] == {"name": "First", "contacts": {"totalCount": 1}}
    rest = await client.execute(
        """query($id: ID!, $after: String) { contact(id: $id) {
        deals(first: 5, after: $after) { edges { node { id name } } } } }""",
        id=one,
        after=deals["edges"][0]["cursor"],
    )
    assert [e["node"]["name"] for e in rest["contact"]["deals"]["edges"]] == ["Second"]
    assert first["id"] not in {e["node"]["id"] for e in rest["contact"]["deals"]["edges"]}


async def test_bad_deal_input_is_refused_at_its_path_and_nothing_is_written(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    person = await contact(client, "p@deals.io", lifecycleStage="SUBSCRIBER")
    cases: list[tuple[dict[str, Any], list[dict[str, Any]]]] = [
        ({"name": "", "stage": "CLOSED_WON"}, [{"code": "INVALID", "field": ["input", "name"]}]),
        (
            {"name": "A", "stage": "CLOSED_WON", "amount": "-1", "contactIds": [person]},
            [{"code": "INVALID", "field": ["input", "amount"]}],
        ),
        (
            {"name": "A", "stage": "CLOSED_WON", "contactIds": [person, "0" * 24]},
            [{"code": "NOT_FOUND", "field": ["input", "contactIds", "1"]}],
        ),
    ]
    for fields, errors in cases:
        payload = (await client.execute(CREATE, input=fields))["createDeal"]
        assert (payload["deal"], payload["userErrors"]) == (None, errors)
    for amount in ("abc", "NaN", "1.234", "Infinity"):
        refused = await client.try_execute(
            CREATE, input={"name": "A", "stage": "CLOSED_WON", "amount": amount}
        )
        assert [e.extensions["code"] for e in refused.errors] == ["INVALID"], amount
    cleared = await client.execute(
        'mutation { createDeal(input: {name: "A", stage: CLOSED_LOST}) { deal { id } } }'
    )
    refused_update = await client.execute(
        UPDATE, id=cleared["createDeal"]["deal"]["id"], input={"stage": None}
    )
    assert refused_update["updateDeal"]["userErrors"] == [
        {"code": "INVALID", "field": ["input", "stage"]}
    ]
    total = await client.execute("{ deals { totalCount } }")
    assert total["deals"]["totalCount"] == 1
    assert (await stages(client))[person] == "SUBSCRIBER"

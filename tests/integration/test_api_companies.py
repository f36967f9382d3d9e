"""Companies and associations through the served schema on real SecantusDB (C1, C2, C3, C11):
userErrors at their paths with nothing written, a contact's companies with the primary first,
a company's contacts, search the moment a write commits, and deletion that keeps the contacts."""

from __future__ import annotations

from typing import Any

from marketing_contacts.runtime import Runtime
from tests.support.graphql import Client, open_client

CREATE = """mutation($input: CreateCompanyInput!) { createCompany(input: $input) {
  company { id name domain lifecycleStage owner { id } } userErrors { code field } } }"""
UPDATE = """mutation($id: ID!, $input: UpdateCompanyInput!) {
  updateCompany(id: $id, input: $input) { company { id name domain lifecycleStage }
  userErrors { code field } } }"""
ASSOCIATE = """mutation($input: AssociationInput!) { associate(input: $input) {
  userErrors { code field } } }"""
DISSOCIATE = """mutation($input: AssociationInput!) { dissociate(input: $input) {
  userErrors { code field } } }"""
CONTACT = """query($id: ID!) { contact(id: $id) { companyName primaryCompany { name }
  companies(first: 1) { totalCount edges { cursor node { name } } pageInfo { hasNextPage } } } }"""
COMPANIES = """query($filter: CompanyFilter) { companies(filter: $filter) { totalCount
  edges { node { name } } } }"""


async def company(client: Client, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await client.execute(CREATE, input=fields))["createCompany"]
    assert payload["userErrors"] == []
    made: dict[str, Any] = payload["company"]
    return made


async def contact(client: Client, **fields: Any) -> str:
    made = await client.execute(
        "mutation($input: CreateContactInput!) { createContact(input: $input) { contact { id } } }",
        input=fields,
    )
    contact_id: str = made["createContact"]["contact"]["id"]
    return contact_id


def pair(contact_id: str, company_id: str, **more: Any) -> dict[str, Any]:
    return {
        "fromType": "CONTACT",
        "fromId": contact_id,
        "toType": "COMPANY",
        "toId": company_id,
        **more,
    }


async def test_c1_a_company_is_created_with_its_owner_and_refused_at_its_field(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    made = await company(client, name=" Acme ", domain="ACME.io", ownerId=client.caller.user_id)
    assert (made["name"], made["domain"], made["owner"]) == (
        "Acme",
        "acme.io",
        {"id": client.caller.user_id},
    )
    for fields, error in [
        ({"name": ""}, {"code": "INVALID", "field": ["input", "name"]}),
        (
            {"name": "X", "domain": "https://x.io"},
            {"code": "INVALID", "field": ["input", "domain"]},
        ),
        ({"name": "X", "ownerId": "0" * 24}, {"code": "NOT_FOUND", "field": ["input", "ownerId"]}),
    ]:
        payload = (await client.execute(CREATE, input=fields))["createCompany"]
        assert payload == {"company": None, "userErrors": [error]}
    assert (await client.execute(COMPANIES))["companies"]["totalCount"] == 1


async def test_c3_a_companys_stage_moves_back_only_once_cleared(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    made = await company(client, name="Acme", lifecycleStage="CUSTOMER")
    back = await client.execute(UPDATE, id=made["id"], input={"lifecycleStage": "LEAD"})
    assert back["updateCompany"]["userErrors"] == [
        {"code": "INVALID", "field": ["input", "lifecycleStage"]}
    ]
    await client.execute(UPDATE, id=made["id"], input={"lifecycleStage": None})
    lead = await client.execute(UPDATE, id=made["id"], input={"lifecycleStage": "LEAD"})
    assert lead["updateCompany"]["company"]["lifecycleStage"] == "LEAD"


async def test_c2_a_contact_lists_its_companies_primary_first_and_keeps_its_company_name(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    person = await contact(client, email="ada@engines.io", companyName="Free text Ltd")
    first = await company(client, name="First")
    second = await company(client, name="Second")
    for made in (first, second):
        assert (await client.execute(ASSOCIATE, input=pair(person, made["id"])))["associate"] == {
            "userErrors": []
        }
    seen = (await client.execute(CONTACT, id=person))["contact"]
    assert seen["companyName"] == "Free text Ltd"
    assert seen["primaryCompany"] == {"name": "First"}
    assert seen["companies"]["totalCount"] == 2
    assert [e["node"]["name"] for e in seen["companies"]["edges"]] == ["First"]
    assert seen["companies"]["pageInfo"]["hasNextPage"] is True
    after = seen["companies"]["edges"][0]["cursor"]
    rest = await client.execute(
        "query($id: ID!, $after: String) { contact(id: $id) { companies(first: 5, after: $after)"
        " { edges { node { name } } pageInfo { hasNextPage hasPreviousPage } } } }",
        id=person,
        after=after,
    )
    assert rest["contact"]["companies"] == {
        "edges": [{"node": {"name": "Second"}}],
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": True},
    }
    await client.execute(ASSOCIATE, input=pair(person, second["id"], primary=True))
    seen = (await client.execute(CONTACT, id=person))["contact"]
    assert seen["primaryCompany"] == {"name": "Second"}
    members = await client.execute(
        "query($id: ID!) { company(id: $id) { contacts { totalCount edges { node { email } } } } }",
        id=first["id"],
    )
    assert members["company"]["contacts"]["edges"] == [{"node": {"email": "ada@engines.io"}}]
    by_company = await client.execute(
        "query($id: ID!) { contacts(filter: {companyId: $id}) { totalCount } }", id=second["id"]
    )
    assert by_company["contacts"]["totalCount"] == 1
    await client.execute(DISSOCIATE, input=pair(person, second["id"]))
    seen = (await client.execute(CONTACT, id=person))["contact"]
    assert (seen["primaryCompany"], seen["companies"]["totalCount"]) == (None, 1)


async def test_c2_an_association_names_records_of_the_account_and_no_deal(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    other = await open_client(runtime.services, name="Other")
    person = await contact(client)
    theirs = await company(other, name="Theirs")
    mine = await company(client, name="Mine")
    cases = [
        (pair(person, theirs["id"]), {"code": "NOT_FOUND", "field": ["input", "toId"]}),
        (pair("0" * 24, mine["id"]), {"code": "NOT_FOUND", "field": ["input", "fromId"]}),
        (  # a company's id names no deal
            {**pair(person, mine["id"]), "toType": "DEAL"},
            {"code": "NOT_FOUND", "field": ["input", "toId"]},
        ),
        (
            {**pair(person, mine["id"]), "fromType": "DEAL", "toType": "DEAL"},
            {"code": "INVALID", "field": ["input", "toType"]},
        ),
        (
            {**pair(person, mine["id"]), "toType": "CONTACT"},
            {"code": "INVALID", "field": ["input", "toType"]},
        ),
    ]
    for association, error in cases:
        assert (await client.execute(ASSOCIATE, input=association))["associate"] == {
            "userErrors": [error]
        }
    seen = (await client.execute(CONTACT, id=person))["contact"]
    assert seen["companies"]["totalCount"] == 0


async def test_c11_a_company_is_found_by_a_prefix_of_its_name_or_domain_at_once(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    made = await company(client, name="Analytical Engines", domain="engines.io")
    await company(client, name="Babbage & Co")

    async def found(search: str) -> list[str]:
        page = (await client.execute(COMPANIES, filter={"search": search}))["companies"]
        return [edge["node"]["name"] for edge in page["edges"]]

    assert await found("ANAL") == ["Analytical Engines"]
    assert await found("engines.") == ["Analytical Engines"]
    assert await found("bab") == ["Babbage & Co"]
    await client.execute(UPDATE, id=made["id"], input={"name": "Difference Engines"})
    assert await found("diff") == ["Difference Engines"]
    assert await found("anal") == []


async def test_c2_deleting_a_company_keeps_its_contacts(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    person = await contact(client, email="kept@engines.io")
    made = await company(client, name="Gone")
    await client.execute(ASSOCIATE, input=pair(person, made["id"]))
    deleted = await client.execute(
        "mutation($id: ID!) { deleteCompany(id: $id) { deletedId userErrors { code } } }",
        id=made["id"],
    )
    assert deleted["deleteCompany"] == {"deletedId": made["id"], "userErrors": []}
    seen = (await client.execute(CONTACT, id=person))["contact"]
    assert (seen["primaryCompany"], seen["companies"]["totalCount"]) == (None, 0)
    assert (await client.execute("query($id: ID!) { company(id: $id) { id } }", id=made["id"])) == {
        "company": None
    }
    again = await client.execute(
        "mutation($id: ID!) { deleteCompany(id: $id) { deletedId userErrors { code field } } }",
        id=made["id"],
    )
    assert again["deleteCompany"]["userErrors"] == [{"code": "NOT_FOUND", "field": ["id"]}]

"""The CRM records over HTTP against a real API process (C2, C4-C7, C10-C12, S6): a contact
created by the API starts as a LEAD, is found by search the moment the write answers, works
for a company it is associated with, and shows the email events of its address, those from
before it existed too; a hard bounce marks it; a won deal makes its contact a customer; an
engagement moves its dates and follows its contact into a merge."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.api import graphql, start_api
from tests.support.cli import run_json


class Api:
    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token

    def data(self, query: str, **variables: Any) -> dict[str, Any]:
        response: httpx.Response = graphql(self.base, self.token, query, **variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]
        return result


@pytest.fixture(scope="module")
def api(api_environment: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    process, base = start_api(api_environment, tmp_path_factory.mktemp("api") / "api.log")
    try:
        token = run_json(api_environment, "accounts", "create", "--name", "Records")["token"]
        yield Api(base, token)
    finally:
        process.stop()


RECORD = """mutation($email: String!, $type: EmailEventType!, $at: DateTime!) {
  recordEmailEvent(input: {email: $email, type: $type, occurredAt: $at}) {
    userErrors { code } } }"""
CREATE = """mutation($email: String!, $last: String) {
  createContact(input: {email: $email, lastName: $last}) {
    contact { id lifecycleStage } userErrors { code } } }"""
SEARCH = """query($search: String!) { contacts(filter: {search: $search}) {
  edges { node { id } } } }"""


def test_c11_c2_c7_a_contact_over_http(api: Api) -> None:
    sent = api.data(RECORD, email="grace@navy.mil", type="SENT", at="2026-01-01T08:00:00Z")
    assert sent["recordEmailEvent"]["userErrors"] == []
    made = api.data(CREATE, email="grace@navy.mil", last="Hopper")["createContact"]["contact"]
    assert made["lifecycleStage"] == "LEAD"  # C4: created through the API
    found = api.data(SEARCH, search="HOPP")["contacts"]["edges"]
    assert found == [{"node": {"id": made["id"]}}]  # C11: at once
    company = api.data(
        """mutation { createCompany(input: {name: "US Navy", domain: "navy.mil"}) {
        company { id } } }"""
    )["createCompany"]["company"]
    associated = api.data(
        """mutation($c: ID!, $k: ID!) { associate(input: {fromType: COMPANY, fromId: $k,
        toType: CONTACT, toId: $c}) { userErrors { code } } }""",
        c=made["id"],
        k=company["id"],
    )
    assert associated["associate"]["userErrors"] == []
    bounced = api.data(
        RECORD, email="Grace@navy.mil", type="HARD_BOUNCED", at="2026-01-02T08:00:00Z"
    )
    assert bounced["recordEmailEvent"]["userErrors"] == []
    seen = api.data(
        """query($id: ID!) { contact(id: $id) { emailHardBounced primaryCompany { name }
        emailActivity { edges { node { type } } } } }""",
        id=made["id"],
    )["contact"]
    assert seen == {
        "emailHardBounced": True,
        "primaryCompany": {"name": "US Navy"},
        "emailActivity": {
            "edges": [{"node": {"type": "HARD_BOUNCED"}}, {"node": {"type": "SENT"}}]
        },
    }
    by_company = api.data(
        """query($k: ID!) { companies(filter: {search: "navy.m"}) { edges { node {
        contacts { edges { node { id } } } } } } company(id: $k) { name } }""",
        k=company["id"],
    )
    assert by_company["companies"]["edges"] == [
        {"node": {"contacts": {"edges": [{"node": {"id": made["id"]}}]}}}
    ]


def test_c5_a_won_deal_makes_its_contact_a_customer_over_http(api: Api) -> None:
    made = api.data(CREATE, email="ada@engines.io", last="Lovelace")["createContact"]["contact"]
    deal = api.data(
        """mutation($c: ID!) { createDeal(input: {name: "Engine", stage: CONTRACT_SENT,
        amount: "1200", contactIds: [$c]}) { deal { id amount } userErrors { code } } }""",
        c=made["id"],
    )["createDeal"]
    assert (deal["userErrors"], deal["deal"]["amount"]) == ([], "1200.00")
    stage = """query($id: ID!) { contact(id: $id) { lifecycleStage
      deals { edges { node { stage } } } } }"""
    assert api.data(stage, id=made["id"])["contact"]["lifecycleStage"] == "OPPORTUNITY"
    won = api.data(
        """mutation($d: ID!) { updateDeal(id: $d, input: {stage: CLOSED_WON}) {
        userErrors { code } } }""",
        d=deal["deal"]["id"],
    )
    assert won["updateDeal"]["userErrors"] == []
    assert api.data(stage, id=made["id"])["contact"] == {
        "lifecycleStage": "CUSTOMER",
        "deals": {"edges": [{"node": {"stage": "CLOSED_WON"}}]},
    }


def test_c6_c12_c10_an_engagement_and_a_merge_over_http(api: Api) -> None:
    kept = api.data(CREATE, email="hedy@lamarr.io", last="Lamarr")["createContact"]["contact"]
    other = api.data(CREATE, email="h.kiesler@lamarr.io")["createContact"]["contact"]
    logged = api.data(
        """mutation($c: ID!) { logEngagement(input: {type: CALL, body: "Frequency hopping",
        occurredAt: "2026-01-03T08:00:00Z", contactIds: [$c]}) {
        engagement { associatedIds notAssociatedIds } userErrors { code } } }""",
        c=other["id"],
    )["logEngagement"]
    assert logged == {
        "engagement": {"associatedIds": [other["id"]], "notAssociatedIds": []},
        "userErrors": [],
    }
    merged = api.data(
        """mutation($p: ID!, $s: ID!) { mergeContacts(input: {primaryId: $p, secondaryId: $s}) {
        contact { mergedIds lastContactedAt engagements { edges { node { body } } } }
        userErrors { code } } }""",
        p=kept["id"],
        s=other["id"],
    )["mergeContacts"]
    assert merged == {
        "contact": {
            "mergedIds": [other["id"]],
            "lastContactedAt": "2026-01-03T08:00:00.000Z",
            "engagements": {"edges": [{"node": {"body": "Frequency hopping"}}]},
        },
        "userErrors": [],
    }
    gone = api.data("query($id: ID!) { contact(id: $id) { id } }", id=other["id"])
    assert gone == {"contact": None}  # C10: the secondary answers as a missing id
    again = api.data(CREATE, email="h.kiesler@lamarr.io")["createContact"]  # its address is free
    assert again["userErrors"] == []

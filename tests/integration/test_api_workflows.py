"""S7 workflows through the schema on SecantusDB: startBulkStatusChange with sourceType
WORKFLOW (the runner is run in-process, as in test_api_bulk)."""

from __future__ import annotations

from typing import Any

import pytest

from marketing_contacts.domain.tiers import Edition
from marketing_contacts.runtime import Runtime
from tests.support.graphql import Client, open_client

START = """
mutation($input: BulkStatusChangeInput!) { startBulkStatusChange(input: $input) {
  bulkOperation { id status matched targetStatus }
  userErrors { code field message } } }"""
CREATE = """mutation($s: MarketingStatus) { createContact(input: {marketingStatus: $s}) {
  contact { id } } }"""
CONTACT = """query($id: ID!) { contact(id: $id) { marketingStatus marketingUntilNextUpdate
  statusSourceType statusSourceId
  statusHistory(first: 1) { edges { node { toStatus pending sourceType sourceId } } } } }"""
OPERATION = "query($id: ID!) { bulkOperation(id: $id) { status processed failed } }"
OPERATIONS = "{ bulkOperations { edges { node { id } } } }"


async def contacts(client: Client, count: int, status: str) -> list[str]:
    return [
        (await client.execute(CREATE, s=status))["createContact"]["contact"]["id"]
        for _ in range(count)
    ]


async def start(client: Client, **input: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await client.execute(START, input=input))["startBulkStatusChange"]
    return payload


@pytest.mark.parametrize(
    ("status", "before", "after", "pending"),
    [
        ("NON_MARKETING", "MARKETING", "MARKETING", True),
        ("MARKETING", "NON_MARKETING", "MARKETING", False),
    ],
)
async def test_s7_a_professional_accounts_workflow_operation_names_the_workflow(
    runtime: Runtime, status: str, before: str, after: str, pending: bool
) -> None:
    client = await open_client(runtime.services, edition=Edition.PROFESSIONAL)
    made = await contacts(client, 3, before)
    confirm = 3 if status == "MARKETING" else None
    payload = await start(
        client,
        selection={"ids": made},
        status=status,
        confirmCount=confirm,
        sourceType="WORKFLOW",
        sourceId="workflow-7",
    )
    assert payload["userErrors"] == []
    operation_id = payload["bulkOperation"]["id"]
    await runtime.services.bulk_runner.run(operation_id, "test-runner")
    done = (await client.execute(OPERATION, id=operation_id))["bulkOperation"]
    assert done == {"status": "COMPLETED", "processed": 3, "failed": 0}
    for contact_id in made:
        contact = (await client.execute(CONTACT, id=contact_id))["contact"]
        assert contact == {
            "marketingStatus": after,
            "marketingUntilNextUpdate": pending,
            "statusSourceType": "WORKFLOW",
            "statusSourceId": "workflow-7",
            "statusHistory": {
                "edges": [
                    {
                        "node": {
                            "toStatus": status,
                            "pending": pending,
                            "sourceType": "WORKFLOW",
                            "sourceId": "workflow-7",
                        }
                    }
                ]
            },
        }


async def test_s7_a_starter_accounts_workflow_cannot_set_non_marketing_and_nothing_is_queued(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services, edition=Edition.STARTER)
    made = await contacts(client, 2, "MARKETING")
    payload = await start(
        client,
        selection={"ids": made},
        status="NON_MARKETING",
        sourceType="WORKFLOW",
        sourceId="workflow-7",
    )
    assert payload["bulkOperation"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("FORBIDDEN", ["input", "sourceType"])
    ]
    assert (await client.execute(OPERATIONS))["bulkOperations"]["edges"] == []
    for contact_id in made:
        contact = (await client.execute(CONTACT, id=contact_id))["contact"]
        assert (contact["marketingStatus"], contact["statusSourceType"]) == ("MARKETING", "USER")


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"sourceType": "WORKFLOW"}, ["input", "sourceId"]),
        ({"sourceType": "WORKFLOW", "sourceId": " "}, ["input", "sourceId"]),
        ({"sourceType": "USER", "sourceId": "workflow-7"}, ["input", "sourceType"]),
        ({"sourceType": "UPDATE_DATE"}, ["input", "sourceType"]),
    ],
)
async def test_s7_a_bulk_source_is_the_operation_or_a_named_workflow(
    runtime: Runtime, extra: dict[str, str], field: list[str]
) -> None:
    client = await open_client(runtime.services, edition=Edition.ENTERPRISE)
    await contacts(client, 1, "MARKETING")
    payload = await start(client, selection={"filter": {}}, status="NON_MARKETING", **extra)
    assert payload["bulkOperation"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID", field)]
    assert (await client.execute(OPERATIONS))["bulkOperations"]["edges"] == []

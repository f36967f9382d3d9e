"""Email activity through the served schema on real SecantusDB (C7, S6): events recorded for an
address before its contact exists show on the contact, newest first, also on a contact that
takes the address over later; a bounce marks the contact and the unengaged selection then
holds it; bad input is a userError at its path."""

from __future__ import annotations

from typing import Any

from marketing_contacts.runtime import Runtime
from tests.support.graphql import Client, open_client

RECORD = """mutation($input: RecordEmailEventInput!) { recordEmailEvent(input: $input) {
  event { id type email occurredAt campaignId } userErrors { code field } } }"""
ACTIVITY = """query($id: ID!) { contact(id: $id) { emailHardBounced marketingStatus
  emailActivity(first: 2) { totalCount edges { node { type email } } pageInfo { hasNextPage } }
} }"""


async def record(client: Client, email: str, kind: str, at: str) -> dict[str, Any]:
    payload: dict[str, Any] = (
        await client.execute(RECORD, input={"email": email, "type": kind, "occurredAt": at})
    )["recordEmailEvent"]
    return payload


async def created(client: Client, email: str) -> str:
    made = await client.execute(
        "mutation($e: String!) { createContact(input: {email: $e, marketingStatus: MARKETING})"
        " { contact { id } } }",
        e=email,
    )
    contact_id: str = made["createContact"]["contact"]["id"]
    return contact_id


async def test_c7_a_contact_shows_its_addresss_events_from_before_it_existed(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    sent = await record(client, "Ada@Engines.io", "SENT", "2026-01-01T09:00:00Z")
    assert sent["userErrors"] == []
    assert sent["event"]["email"] == "Ada@engines.io"  # the address's normal form (C8)
    await record(client, "ada@engines.io", "OPENED", "2026-01-02T09:00:00Z")
    first = await created(client, "ada@engines.io")
    await record(client, "ADA@engines.io", "CLICKED", "2026-01-01T12:00:00Z")
    seen = (await client.execute(ACTIVITY, id=first))["contact"]["emailActivity"]
    assert seen["totalCount"] == 3
    assert [e["node"]["type"] for e in seen["edges"]] == ["OPENED", "CLICKED"]
    assert seen["pageInfo"]["hasNextPage"] is True
    await client.execute("mutation($id: ID!) { deleteContact(id: $id) { deletedId } }", id=first)
    again = await created(client, "ada@engines.io")  # re-created: the history stays
    assert (await client.execute(ACTIVITY, id=again))["contact"]["emailActivity"]["totalCount"] == 3


async def test_s6_a_hard_bounce_marks_the_contact_for_the_unengaged_selection(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    contact = await created(client, "eve@engines.io")
    bounced = await record(client, "eve@engines.io", "HARD_BOUNCED", "2026-01-03T09:00:00Z")
    assert bounced["userErrors"] == []
    seen = (await client.execute(ACTIVITY, id=contact))["contact"]
    assert (seen["emailHardBounced"], seen["marketingStatus"]) == (True, "MARKETING")
    preview = await client.execute(
        "{ previewStatusChange(selection: {unengaged: true}, status: NON_MARKETING) { matched } }"
    )
    assert preview["previewStatusChange"]["matched"] == 1


async def test_a_bad_event_is_a_user_error_at_its_path(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    for fields, path in [
        ({"email": "nobody", "occurredAt": "2026-01-01T00:00:00Z"}, ["input", "email"]),
        ({"email": "a@engines.io", "occurredAt": "2099-01-01T00:00:00Z"}, ["input", "occurredAt"]),
        (
            {
                "email": "a@engines.io",
                "occurredAt": "2026-01-01T00:00:00Z",
                "campaignId": "x" * 201,
            },
            ["input", "campaignId"],
        ),
    ]:
        payload = (await client.execute(RECORD, input={"type": "SENT", **fields}))[
            "recordEmailEvent"
        ]
        assert payload == {"event": None, "userErrors": [{"code": "INVALID", "field": path}]}

"""The contact reads that their indexes bound, through the schema on real SecantusDB: pages by
creation time (a range of ids), the unengaged flag the writes keep (S6), and first history pages
read per contact from its newest entry (S4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from marketing_contacts.runtime import Runtime
from marketing_contacts.storage.wiring import all_indexes
from tests.support.clock import MovableClock
from tests.support.graphql import Client, open_client

CREATE = """mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { id } userErrors { code } } }"""
UPDATE = """mutation($id: ID!, $input: UpdateContactInput!) {
  updateContact(id: $id, input: $input) { contact { id } userErrors { code } } }"""
SET = """mutation($ids: [ID!]!, $status: MarketingStatus!) {
  setMarketingStatus(input: {contactIds: $ids, status: $status}) { userErrors { code } } }"""
PAGE = """query($filter: ContactFilter, $first: Int, $after: String) {
  contacts(filter: $filter, first: $first, after: $after) {
    totalCount edges { node { email } } pageInfo { hasNextPage endCursor } } }"""
LIST = """mutation($ids: [ID!]!) { createList(name: "picked", contactIds: $ids) {
  list { id } userErrors { code } } }"""
PREVIEW = """{ previewStatusChange(selection: {unengaged: true}, status: NON_MARKETING) {
  matched } }"""
HISTORY_PAGE = """{ contacts(first: 10) { edges { node { email
  statusHistory(first: 2) { edges { node { toStatus } } pageInfo { hasNextPage endCursor } }
} } } }"""
HISTORY_AFTER = """query($id: ID!, $after: String) { contact(id: $id) {
  statusHistory(first: 2, after: $after) { edges { node { toStatus } } } } }"""


async def create(client: Client, email: str, **fields: Any) -> str:
    data = await client.execute(CREATE, input={"email": email, **fields})
    assert data["createContact"]["userErrors"] == []
    contact_id: str = data["createContact"]["contact"]["id"]
    return contact_id


async def emails(client: Client, **filter: Any) -> list[str]:
    """Every contact the filter selects, a page of one at a time, and its totalCount."""
    found: list[str] = []
    after = None
    while True:
        page = (await client.execute(PAGE, filter=filter, first=1, after=after))["contacts"]
        assert page["totalCount"] >= len(found) + len(page["edges"])
        found += [edge["node"]["email"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            assert page["totalCount"] == len(found)
            return found
        after = page["pageInfo"]["endCursor"]


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


async def test_created_after_and_before_select_by_creation_time_to_the_millisecond(
    runtime: Runtime, test_clock: MovableClock
) -> None:
    client = await open_client(runtime.services)
    noon = datetime(2031, 3, 4, 12, 0, tzinfo=UTC)
    times = {
        "early@example.com": noon + timedelta(milliseconds=400),
        "late@example.com": noon + timedelta(milliseconds=800),
        "next@example.com": noon + timedelta(seconds=2),
        "tomorrow@example.com": noon + timedelta(days=1),
    }
    for email, at in times.items():
        test_clock.set(at)
        await create(client, email)
    test_clock.set(noon - timedelta(days=365))  # made last, its id carries its time: first
    await create(client, "old@example.com")
    mid_second = noon + timedelta(milliseconds=600)
    assert await emails(client, createdAfter=iso(mid_second)) == [
        "late@example.com",
        "next@example.com",
        "tomorrow@example.com",
    ]
    assert await emails(client, createdBefore=iso(mid_second)) == [
        "old@example.com",
        "early@example.com",
    ]
    assert await emails(
        client,
        createdAfter=iso(times["early@example.com"]),
        createdBefore=iso(times["next@example.com"]),
    ) == ["late@example.com"]
    assert await emails(client, createdAfter=iso(noon + timedelta(days=2))) == []


async def test_each_filter_of_the_list_selects_its_contacts(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    owner = client.caller.user_id  # C1: an owner is a user of the account
    picked = await create(
        client,
        "picked@acme.io",
        marketingStatus="NON_MARKETING",
        lifecycleStage="SALES_QUALIFIED_LEAD",  # the others are LEAD, by C4's default
        ownerId=owner,
        createdVia="FORM",
        emailHardBounced=True,
        unsubscribedFromAll=True,
    )
    await create(client, "other@example.com", marketingStatus="MARKETING")
    leaving = await create(client, "leaving@example.com", marketingStatus="MARKETING")
    await client.execute(SET, ids=[leaving], status="NON_MARKETING")  # pending: still marketing
    listed = await client.execute(LIST, ids=[picked])
    only_picked = {
        "emailDomain": "ACME.io",
        "lifecycleStage": "SALES_QUALIFIED_LEAD",
        "ownerId": owner,
        "createdVia": "FORM",
        "emailHardBounced": True,
        "unsubscribedFromAll": True,
        "listId": listed["createList"]["list"]["id"],
        "marketingStatus": "NON_MARKETING",
    }
    for name, value in only_picked.items():
        assert await emails(client, **{name: value}) == ["picked@acme.io"], name
    assert await emails(client, marketingUntilNextUpdate=True) == ["leaving@example.com"]
    assert await emails(client, lifecycleStage="SALES_QUALIFIED_LEAD", ownerId="0" * 24) == []


async def unengaged(client: Client) -> int:
    """How many marketing contacts a bulk change of the unengaged would select (S6)."""
    data = await client.execute(PREVIEW)
    matched: int = data["previewStatusChange"]["matched"]
    return matched


async def test_unengaged_follows_the_bounce_and_the_unsubscribe_on_every_write(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    marketing = {"marketingStatus": "MARKETING"}
    bounced = await create(client, "bounced@example.com", emailHardBounced=True, **marketing)
    quiet = await create(client, "quiet@example.com", **marketing)
    await create(client, "fine@example.com", **marketing)
    await create(client, "gone@example.com", unsubscribedFromAll=True)  # not marketing
    assert await unengaged(client) == 1
    await client.execute(UPDATE, id=quiet, input={"unsubscribedFromAll": True})
    assert await unengaged(client) == 2
    await client.execute(UPDATE, id=bounced, input={"emailHardBounced": False})
    assert await unengaged(client) == 1
    assert await emails(client, unsubscribedFromAll=True) == [
        "quiet@example.com",
        "gone@example.com",
    ]
    assert await emails(client, emailHardBounced=False, unsubscribedFromAll=False) == [
        "bounced@example.com",
        "fine@example.com",
    ]
    # a status change writes the contact again: the flag stays what the domain says
    await client.execute(SET, ids=[quiet], status="NON_MARKETING")  # pending: still marketing
    assert await unengaged(client) == 1


async def test_first_history_pages_start_at_each_contact_s_newest_entry(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    busy = await create(client, "busy@example.com", marketingStatus="MARKETING")
    await create(client, "quiet@example.com")  # non-marketing from the start: no history
    await create(client, "once@example.com", marketingStatus="MARKETING")
    for status in ("NON_MARKETING", "MARKETING", "NON_MARKETING", "MARKETING"):
        await client.execute(SET, ids=[busy], status=status)
    page = (await client.execute(HISTORY_PAGE))["contacts"]["edges"]
    history = {edge["node"]["email"]: edge["node"]["statusHistory"] for edge in page}
    statuses = {
        email: [entry["node"]["toStatus"] for entry in found["edges"]]
        for email, found in history.items()
    }
    assert statuses == {
        "busy@example.com": ["MARKETING", "NON_MARKETING"],  # entries 5 and 4 of 5
        "quiet@example.com": [],
        "once@example.com": ["MARKETING"],
    }
    assert history["busy@example.com"]["pageInfo"]["hasNextPage"] is True
    assert history["once@example.com"]["pageInfo"]["hasNextPage"] is False
    rest = await client.execute(
        HISTORY_AFTER, id=busy, after=history["busy@example.com"]["pageInfo"]["endCursor"]
    )
    assert [e["node"]["toStatus"] for e in rest["contact"]["statusHistory"]["edges"]] == [
        "MARKETING",
        "NON_MARKETING",
    ]


async def test_the_database_holds_every_index_the_storage_declares(runtime: Runtime) -> None:
    for collection, models in all_indexes().items():
        created = await runtime.mongo[collection].index_information()
        keys = [list(spec["key"]) for spec in created.values()]
        for model in models:
            assert list(model.document["key"].items()) in keys, (collection, model.document)

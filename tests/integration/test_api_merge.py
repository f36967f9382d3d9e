"""C10 Merge through the served schema on real SecantusDB (T1): the primary stays with the
stronger state, the secondary leaves the count in the same write, its id is not found and its
address is free afterwards; histories, lists, companies and email activity are combined; the
refusals (a contact with itself, another account's or an invisible contact, one waiting in a
bulk operation's page) change nothing; merges racing status changes in two processes leave
counts that reconciliation finds exact."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from bson import ObjectId

from marketing_contacts.domain.bulk import BulkOperation
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.users import RecordVisibility
from marketing_contacts.runtime import Runtime, open_runtime
from marketing_contacts.services.users import UserDraft
from marketing_contacts.settings import Settings
from marketing_contacts.storage.database import CONTACTS
from tests.support.clock import MovableClock
from tests.support.graphql import Client, client_of, open_client

MERGE = """mutation($p: ID!, $s: ID!) {
  mergeContacts(input: {primaryId: $p, secondaryId: $s}) {
    contact { id email firstName lastName marketingStatus marketingUntilNextUpdate
      statusSourceType mergedIds }
    userErrors { code field message } } }"""
CREATE = """mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { id } userErrors { code field } } }"""
SET_STATUS = """mutation($ids: [ID!]!, $s: MarketingStatus!) {
  setMarketingStatus(input: {contactIds: $ids, status: $s}) { userErrors { code } } }"""
USAGE = "{ usage { marketingContacts pendingNonMarketing totalContacts } }"
CONTACT = """query($id: ID!) { contact(id: $id) { id mergedIds lifecycleStage
  statusHistory(first: 10) { totalCount edges { node { fromStatus toStatus pending sourceType
    sourceId } } }
  companies { totalCount edges { node { id } } } primaryCompany { id }
  emailActivity(first: 2) { totalCount edges { cursor node { email type } } } } }"""
ACTIVITY_AFTER = """query($id: ID!, $after: String) { contact(id: $id) {
  emailActivity(first: 2, after: $after) { edges { node { email type } } } } }"""
RECORD = """mutation($e: String!, $t: EmailEventType!, $at: DateTime!) {
  recordEmailEvent(input: {email: $e, type: $t, occurredAt: $at}) { userErrors { code } } }"""

N, M, P = "N", "M", "P"
#: (primary, secondary) -> merged, for each of the 9 pairs
PAIRS = [
    (N, N, N),
    (N, P, P),
    (N, M, M),
    (P, N, P),
    (P, P, P),
    (P, M, M),
    (M, N, M),
    (M, P, M),
    (M, M, M),
]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def second_runtime(
    settings_for_tests: Settings, module_runtime: tuple[Runtime, MovableClock]
) -> AsyncIterator[Runtime]:
    """Another process over the same database: its own MongoDB client, its own account locks."""
    async with open_runtime(settings_for_tests, clock=module_runtime[1]) as runtime:
        yield runtime


async def contact_in(client: Client, email: str, state: str, **fields: Any) -> str:
    """A contact in `state` (P: made marketing, then set NON_MARKETING)."""
    status = "NON_MARKETING" if state == N else "MARKETING"
    made = await client.execute(CREATE, input={"email": email, "marketingStatus": status, **fields})
    assert made["createContact"]["userErrors"] == []
    contact_id: str = made["createContact"]["contact"]["id"]
    if state == P:
        await client.execute(SET_STATUS, ids=[contact_id], s="NON_MARKETING")
    return contact_id


async def merged(client: Client, primary: str, secondary: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await client.execute(MERGE, p=primary, s=secondary))["mergeContacts"]
    return payload


async def usage(client: Client) -> tuple[int, int, int]:
    found = (await client.execute(USAGE))["usage"]
    return found["marketingContacts"], found["pendingNonMarketing"], found["totalContacts"]


async def assert_counts_exact(runtime: Runtime, client: Client) -> None:
    """T1: reconciliation (`usage reconcile`'s service) finds nothing to repair."""
    reconciliation = await runtime.services.usage.reconcile(client.caller.account_id)
    assert not reconciliation.drifted, (reconciliation.stored, reconciliation.actual)


def state_of(contact: dict[str, Any]) -> str:
    if contact["marketingStatus"] == "NON_MARKETING":
        return N
    return P if contact["marketingUntilNextUpdate"] else M


@pytest.mark.parametrize(("primary", "secondary", "expected"), PAIRS)
async def test_c10_t1_the_stronger_state_stays_and_the_secondary_leaves_the_count(
    runtime: Runtime, primary: str, secondary: str, expected: str
) -> None:
    client = await open_client(runtime.services)
    p = await contact_in(client, "ada@engines.io", primary)
    s = await contact_in(client, "augusta@engines.io", secondary)
    await contact_in(client, "bystander@engines.io", M)
    payload = await merged(client, p, s)
    assert payload["userErrors"] == []
    contact = payload["contact"]
    assert (contact["id"], state_of(contact), contact["mergedIds"]) == (p, expected, [s])
    counted = {N: 0, M: 0, P: 0}
    counted[expected] += 1
    marketing = 1 + counted[M] + counted[P]  # the bystander is M
    assert await usage(client) == (marketing, counted[P], 2)
    await assert_counts_exact(runtime, client)
    assert (await client.execute(CONTACT, id=s))["contact"] is None
    again = await client.execute(CREATE, input={"email": "Augusta@engines.io"})
    assert again["createContact"]["userErrors"] == []  # the address is free
    assert await usage(client) == (marketing, counted[P], 3)


async def test_c10_histories_lists_companies_and_email_activity_are_combined(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    p = await contact_in(client, "ada@engines.io", N, firstName="Ada", lifecycleStage="LEAD")
    s = await contact_in(
        client, "augusta@engines.io", P, firstName="Augusta", lastName="King",
        lifecycleStage="CUSTOMER",
    )  # fmt: skip
    lists = {}
    for name, members in (("both", [p, s]), ("theirs", [s]), ("mine", [p])):
        made = await client.execute(
            "mutation($n: String!, $ids: [ID!]!) { createList(name: $n, contactIds: $ids) "
            "{ list { id } } }",
            n=name,
            ids=members,
        )
        lists[name] = made["createList"]["list"]["id"]
    company = (
        await client.execute(
            'mutation { createCompany(input: {name: "Engines"}) { company { id } } }'
        )
    )["createCompany"]["company"]["id"]
    await client.execute(
        "mutation($c: ID!, $co: ID!) { associate(input: {fromType: CONTACT, fromId: $c, "
        "toType: COMPANY, toId: $co}) { userErrors { code } } }",
        c=s,
        co=company,
    )
    for email, kind, at in (
        ("ada@engines.io", "SENT", "2026-01-01T09:00:00Z"),
        ("Augusta@engines.io", "OPENED", "2026-01-02T09:00:00Z"),
        ("augusta@engines.io", "CLICKED", "2026-01-03T09:00:00Z"),
    ):
        recorded = await client.execute(RECORD, e=email, t=kind, at=at)
        assert recorded["recordEmailEvent"]["userErrors"] == []

    payload = await merged(client, p, s)

    assert payload["userErrors"] == []
    found = payload["contact"]
    assert (found["email"], found["firstName"], found["lastName"]) == (
        "ada@engines.io",
        "Ada",
        "King",
    )
    assert (state_of(found), found["statusSourceType"]) == (P, "MERGE")
    contact = (await client.execute(CONTACT, id=p))["contact"]
    assert contact["lifecycleStage"] == "CUSTOMER"
    history = contact["statusHistory"]
    # newest first: the merge (N to pending), then the secondary's own two (its creation as
    # marketing, then pending); the primary, created non-marketing, had none
    assert history["totalCount"] == 3
    assert [
        (e["node"]["sourceType"], e["node"]["fromStatus"], e["node"]["pending"])
        for e in history["edges"]
    ] == [
        ("MERGE", "NON_MARKETING", True),
        ("USER", "MARKETING", True),
        ("USER", "NON_MARKETING", False),
    ]
    assert history["edges"][0]["node"]["sourceId"] == s
    assert [e["node"]["id"] for e in contact["companies"]["edges"]] == [company]
    assert contact["primaryCompany"] == {"id": company}
    sizes = await client.execute("{ lists(first: 10) { edges { node { id size } } } }")
    size_of = {e["node"]["id"]: e["node"]["size"] for e in sizes["lists"]["edges"]}
    assert [size_of[lists[name]] for name in ("both", "theirs", "mine")] == [1, 1, 1]
    in_theirs = await runtime.services.contacts.page(
        client.caller, ContactFilter(list_id=lists["theirs"]), 10, None
    )
    assert [c.id for c in in_theirs.items] == [p]
    # C7: the events of both addresses, newest first, over pages
    activity = contact["emailActivity"]
    assert activity["totalCount"] == 3
    assert [e["node"]["type"] for e in activity["edges"]] == ["CLICKED", "OPENED"]
    rest = await client.execute(ACTIVITY_AFTER, id=p, after=activity["edges"][-1]["cursor"])
    assert [e["node"] for e in rest["contact"]["emailActivity"]["edges"]] == [
        {"email": "ada@engines.io", "type": "SENT"}
    ]
    # a page of contacts reads the activity of both addresses in its one read
    page = await client.execute(
        "{ contacts(first: 10) { edges { node { id emailActivity(first: 5) { totalCount } } } } }"
    )
    assert [e["node"]["emailActivity"]["totalCount"] for e in page["contacts"]["edges"]] == [3]
    await assert_counts_exact(runtime, client)


async def snapshot(runtime: Runtime, client: Client) -> dict[str, Any]:
    """The account as its ADMIN reads it: every contact, the lists, the usage."""
    services, caller = runtime.services, client.caller
    contacts = await services.contacts.page(caller, ContactFilter(), 200, None)
    lists = await services.lists.page(caller, 50, None)
    return {
        "contacts": contacts.items,
        "lists": lists.items,
        "account": await services.accounts.get(caller),
    }


async def test_c10_refusals_change_nothing(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    p = await contact_in(client, "ada@engines.io", M)
    s = await contact_in(client, "augusta@engines.io", N)
    elsewhere = await open_client(runtime.services, name="Elsewhere")
    foreign = await contact_in(elsewhere, "ada@engines.io", M)
    member = await runtime.services.users.create(
        client.caller,
        UserDraft(name="Olive", email="olive@engines.io", visibility=RecordVisibility.OWNED),
    )
    olive = await client_of(runtime.services, member)
    hers = await contact_in(client, "olive-own@engines.io", N, ownerId=member.id)
    before = (await snapshot(runtime, client), await snapshot(runtime, elsewhere))
    refusals = [
        (client, p, p, "INVALID", ["input", "secondaryId"]),
        (client, p, foreign, "NOT_FOUND", ["input", "secondaryId"]),
        (client, foreign, p, "NOT_FOUND", ["input", "primaryId"]),
        (elsewhere, foreign, p, "NOT_FOUND", ["input", "secondaryId"]),
        (olive, hers, s, "NOT_FOUND", ["input", "secondaryId"]),
        (olive, p, hers, "NOT_FOUND", ["input", "primaryId"]),
        (client, p, "not-an-id", "NOT_FOUND", ["input", "secondaryId"]),
    ]
    for who, primary, secondary, code, field in refusals:
        payload = await merged(who, primary, secondary)
        assert payload["contact"] is None
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(code, field)]
    assert (await snapshot(runtime, client), await snapshot(runtime, elsewhere)) == before


async def waiting_operation(runtime: Runtime, client: Client, selection: dict[str, Any]) -> str:
    """A bulk operation whose run resolved its selection (a contact a page) and applied none."""
    started = await client.execute(
        "mutation($sel: ContactSelection!) { startBulkStatusChange(input: {selection: $sel, "
        "status: NON_MARKETING}) { bulkOperation { id } userErrors { code } } }",
        sel=selection,
    )
    operation_id: str = started["startBulkStatusChange"]["bulkOperation"]["id"]
    ports = runtime.services.ports
    now = ports.clock.now()
    claimed = await ports.operations.claim(operation_id, "run-1", now, now + timedelta(minutes=1))
    assert claimed is not None
    running: BulkOperation = await ports.bulk_pages.resolve(claimed, 1)
    assert running.resolved and running.next_page == 0
    return operation_id


@pytest.mark.parametrize("by_ids", [False, True], ids=["filter", "ids"])
async def test_c10_a_contact_waiting_in_a_bulk_page_is_a_conflict_until_applied(
    runtime: Runtime, by_ids: bool
) -> None:
    client = await open_client(runtime.services)
    p = await contact_in(client, "ada@engines.io", M)
    s = await contact_in(client, "augusta@engines.io", M)
    third = await contact_in(client, "third@engines.io", M)
    selection: dict[str, Any] = {"ids": [third, s]} if by_ids else {"filter": {}}
    operation = await waiting_operation(runtime, client, selection)
    before = await snapshot(runtime, client)
    # each contact its page holds, at its field (every contact, for the filter)
    for primary, secondary, fields in (
        (p, s, ["secondaryId"] if by_ids else ["primaryId", "secondaryId"]),
        (s, p, ["primaryId"] if by_ids else ["primaryId", "secondaryId"]),
    ):
        payload = await merged(client, primary, secondary)
        errors = payload["userErrors"]
        assert [(e["code"], e["field"]) for e in errors] == [
            ("CONFLICT", ["input", field]) for field in fields
        ]
        assert all(operation in e["message"] for e in errors)
    assert await snapshot(runtime, client) == before
    await runtime.services.bulk_runner.run(operation, "run-1")  # every page applied
    payload = await merged(client, p, s)
    assert payload["userErrors"] == []
    # s was made pending by the operation (p too, when it selected everyone): M over P
    assert state_of(payload["contact"]) == (M if by_ids else P)
    await assert_counts_exact(runtime, client)


async def test_c10_t1_merges_racing_status_changes_in_two_processes_leave_no_drift(
    runtime: Runtime, second_runtime: Runtime
) -> None:
    client = await open_client(runtime.services, name="Racing")
    elsewhere = Client(second_runtime.services, client.caller)
    states = [M, N, P, M, N, N, P, M, M, P, N, M]
    ids = [await contact_in(client, f"c{n}@engines.io", state) for n, state in enumerate(states)]
    pairs = [(ids[n], ids[n + 1]) for n in range(0, 8, 2)]

    async def merge(on: Client, primary: str, secondary: str) -> None:
        for _ in range(5):  # CONFLICT: gave up while the account kept moving; a client retries
            payload = await merged(on, primary, secondary)
            if [e["code"] for e in payload["userErrors"]] != ["CONFLICT"]:
                assert payload["userErrors"] == []
                return
        raise AssertionError("still in CONFLICT")

    async def toggle(on: Client, contact_ids: list[str]) -> None:
        for status in ("NON_MARKETING", "MARKETING", "NON_MARKETING"):
            await on.execute(SET_STATUS, ids=contact_ids, s=status)

    await asyncio.gather(
        *(merge(client if n % 2 else elsewhere, *pair) for n, pair in enumerate(pairs)),
        # the same contacts as the merges (primaries) and others, from both processes
        toggle(elsewhere, [ids[0], ids[8]]),
        toggle(client, [ids[2], ids[9], ids[10]]),
        toggle(elsewhere, [ids[4], ids[11]]),
    )
    await assert_counts_exact(runtime, client)
    marketing, pending, total = await usage(client)
    assert total == len(states) - len(pairs)
    contacts = await runtime.services.contacts.page(client.caller, ContactFilter(), 50, None)
    assert [c.id for c in contacts.items] == [c for c in ids if c not in {s for _, s in pairs}]
    assert (marketing, pending) == (
        sum(c.state.counts_toward_tier for c in contacts.items),
        sum(c.marketing_until_next_update for c in contacts.items),
    )


DEAL = """mutation($ids: [ID!]) { createDeal(input: {name: "Renewal", stage: QUALIFIED_TO_BUY,
  contactIds: $ids}) { deal { id } userErrors { code } } }"""
LOG = """mutation($ids: [ID!], $at: DateTime!) { logEngagement(input: {type: CALL,
  occurredAt: $at, contactIds: $ids}) { engagement { id } userErrors { code } } }"""


async def test_c10_c6_c12_deals_engagements_and_activity_dates_move_to_the_primary(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    p = await contact_in(client, "ada@engines.io", N)
    s = await contact_in(client, "augusta@engines.io", M)
    deals = [
        (await client.execute(DEAL, ids=ids))["createDeal"]["deal"]["id"] for ids in ([p, s], [s])
    ]
    for ids, at in (([p, s], "2026-01-01T09:00:00Z"), ([s], "2026-01-05T09:00:00Z")):
        logged = await client.execute(LOG, ids=ids, at=at)
        assert logged["logEngagement"]["userErrors"] == []
    assert (await merged(client, p, s))["userErrors"] == []
    for deal in deals:  # each names the primary, once, where it named the secondary
        found = await client.execute(
            "query($id: ID!) { deal(id: $id) { contacts { edges { node { id } } } } }", id=deal
        )
        assert [e["node"]["id"] for e in found["deal"]["contacts"]["edges"]] == [p]
    contact = await client.execute(
        "query($id: ID!) { contact(id: $id) { lastActivityAt lastContactedAt "
        "engagements { totalCount edges { node { associatedIds } } } } }",
        id=p,
    )
    engaged = contact["contact"]["engagements"]
    assert engaged["totalCount"] == 2
    assert [e["node"]["associatedIds"] for e in engaged["edges"]] == [[p], [p]]
    late = "2026-01-05T09:00:00.000Z"
    assert (contact["contact"]["lastActivityAt"], contact["contact"]["lastContactedAt"]) == (
        late,
        late,
    )
    # C6: the count is of the engagements that name the primary (the shared one once)
    stored = await runtime.mongo[CONTACTS].find_one({"_id": ObjectId(p)})
    assert stored is not None and stored["engagement_count"] == 2
    await assert_counts_exact(runtime, client)

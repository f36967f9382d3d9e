"""Engagements through the served schema on real SecantusDB (C6, C12, P3, P4), with a cap of
LIMIT engagements per record (ENGAGEMENTS_PER_RECORD_LIMIT, read from the environment): past
it, logEngagement still creates the engagement and lists the full records in notAssociatedIds,
also when logs race; logging moves lastActivityAt (and lastContactedAt for calls, emails and
meetings) at once and never back; a record the caller does not see is NOT_FOUND at its path
and bad input is a userError at its path, with nothing written; a record's engagements read
back newest first; a deleted record leaves its engagements."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from marketing_contacts.domain.errors import MAX_NAMED_IDS
from marketing_contacts.domain.users import RecordVisibility
from marketing_contacts.runtime import Runtime
from marketing_contacts.services.users import UserDraft
from marketing_contacts.settings import Settings
from marketing_contacts.storage.database import AUDIT_LOG, CONTACTS, ENGAGEMENTS
from tests.support.graphql import Client, client_of, open_client

LIMIT = 3
LOG = """mutation($input: LogEngagementInput!) { logEngagement(input: $input) {
  engagement { id type occurredAt body owner { id } createdAt associatedIds notAssociatedIds }
  userErrors { code field } } }"""
CONTACT = """query($id: ID!) { contact(id: $id) { lastActivityAt lastContactedAt
  engagements(first: 2) { totalCount edges { cursor node { id type } }
    pageInfo { hasNextPage endCursor } } } }"""
COMPANY = """query($id: ID!) { company(id: $id) { lastActivityAt
  engagements { totalCount edges { node { id } } } } }"""


@pytest.fixture(scope="module")
def settings_for_tests(settings_for_tests: Settings) -> Settings:
    """The module's settings with the cap as the environment sets it (the other settings as
    given, the cap left to the environment)."""
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("ENGAGEMENTS_PER_RECORD_LIMIT", str(LIMIT))
        given = settings_for_tests.model_dump(exclude={"engagements_per_record_limit"})
        settings = Settings(**given)
    assert settings.engagements_per_record_limit == LIMIT
    return settings


def stamp(hours_ago: float) -> str:
    """A whole second some hours ago, as the API writes a DateTime."""
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours_ago)
    return at.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


async def log(client: Client, **fields: Any) -> dict[str, Any]:
    variables = {"type": "NOTE", "occurredAt": stamp(1), **fields}
    payload: dict[str, Any] = (await client.execute(LOG, input=variables))["logEngagement"]
    return payload


async def logged(client: Client, **fields: Any) -> dict[str, Any]:
    payload = await log(client, **fields)
    assert payload["userErrors"] == []
    engagement: dict[str, Any] = payload["engagement"]
    return engagement


async def created_contact(client: Client, email: str, owner: str | None = None) -> str:
    made = await client.execute(
        "mutation($e: String, $o: ID) { createContact(input: {email: $e, ownerId: $o})"
        " { contact { id } userErrors { code } } }",
        e=email,
        o=owner,
    )
    contact_id: str = made["createContact"]["contact"]["id"]
    return contact_id


async def created_company(client: Client, name: str) -> str:
    made = await client.execute(
        "mutation($n: String!) { createCompany(input: {name: $n}) { company { id } } }", n=name
    )
    company_id: str = made["createCompany"]["company"]["id"]
    return company_id


async def contact(client: Client, contact_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await client.execute(CONTACT, id=contact_id))["contact"]
    return found


async def engagement_count(runtime: Runtime, record_id: str) -> int:
    doc = await runtime.mongo[CONTACTS].find_one({"_id": ObjectId(record_id)})
    assert doc is not None
    count: int = doc.get("engagement_count", 0)
    return count


async def test_c6_past_the_cap_the_engagement_lists_the_full_records(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    ada = await created_contact(client, "ada@caps.io")
    bob = await created_contact(client, "bob@caps.io")
    acme = await created_company(client, "Acme")
    for hours in range(LIMIT, 0, -1):
        first = await logged(client, occurredAt=stamp(hours), contactIds=[ada], companyIds=[acme])
        assert (first["associatedIds"], first["notAssociatedIds"]) == ([ada, acme], [])
    past = await logged(client, type="CALL", contactIds=[ada, bob, ada], companyIds=[acme])
    assert (past["associatedIds"], past["notAssociatedIds"]) == ([bob], [ada, acme])
    assert (await contact(client, ada))["engagements"]["totalCount"] == LIMIT
    assert (await contact(client, bob))["engagements"]["totalCount"] == 1
    company = (await client.execute(COMPANY, id=acme))["company"]
    assert company["engagements"]["totalCount"] == LIMIT
    assert await engagement_count(runtime, ada) == LIMIT
    # the record past the cap got its dates all the same (C12)
    assert (await contact(client, ada))["lastContactedAt"] == past["occurredAt"]


async def test_c6_the_cap_holds_when_logs_race(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    ada = await created_contact(client, "ada@race.io")
    racing = [log(client, type="MEETING", contactIds=[ada]) for _ in range(8)]
    payloads = await asyncio.gather(*racing)
    assert all(p["userErrors"] == [] for p in payloads)
    engagements = [p["engagement"] for p in payloads]
    assert sum(e["associatedIds"] == [ada] for e in engagements) == LIMIT
    assert sum(e["notAssociatedIds"] == [ada] for e in engagements) == 8 - LIMIT
    assert await engagement_count(runtime, ada) == LIMIT
    assert (await contact(client, ada))["engagements"]["totalCount"] == LIMIT
    created = await runtime.mongo[ENGAGEMENTS].count_documents(
        {"_id": {"$in": [ObjectId(e["id"]) for e in engagements]}}
    )
    assert created == 8


async def test_c12_activity_dates_move_at_once_and_never_back(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    ada = await created_contact(client, "ada@dates.io")
    acme = await created_company(client, "Dates")
    both = {"contactIds": [ada], "companyIds": [acme]}
    note = await logged(client, type="NOTE", occurredAt=stamp(5), **both)
    seen = await contact(client, ada)
    assert (seen["lastActivityAt"], seen["lastContactedAt"]) == (note["occurredAt"], None)
    call = await logged(client, type="CALL", occurredAt=stamp(8), **both)  # older than the note
    seen = await contact(client, ada)
    assert (seen["lastActivityAt"], seen["lastContactedAt"]) == (
        note["occurredAt"],
        call["occurredAt"],
    )
    meeting = await logged(client, type="MEETING", occurredAt=stamp(2), **both)
    await logged(client, type="EMAIL", occurredAt=stamp(9), **both)  # moves nothing back
    await logged(client, type="TASK", occurredAt=stamp(7), **both)
    await client.execute(  # an edit of the contact leaves its dates
        'mutation($id: ID!) { updateContact(id: $id, input: {firstName: "Ada"}) '
        "{ userErrors { code } } }",
        id=ada,
    )
    seen = await contact(client, ada)
    assert (seen["lastActivityAt"], seen["lastContactedAt"]) == (
        meeting["occurredAt"],
        meeting["occurredAt"],
    )
    company = (await client.execute(COMPANY, id=acme))["company"]
    assert company["lastActivityAt"] == meeting["occurredAt"]


async def test_c6_a_records_engagements_newest_first_and_a_page_of_contacts_reads_them(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    ada = await created_contact(client, "ada@pages.io")
    bob = await created_contact(client, "bob@pages.io")
    made = {
        hours: await logged(
            client,
            occurredAt=stamp(hours),
            body=f"{hours} hours ago\nand a second line",
            ownerId=client.caller.user_id,
            contactIds=[ada],
        )
        for hours in (3, 1, 2)
    }
    assert made[1]["owner"] == {"id": client.caller.user_id}
    assert made[1]["body"] == "1 hours ago\nand a second line"
    first = (await contact(client, ada))["engagements"]
    assert [edge["node"]["id"] for edge in first["edges"]] == [made[1]["id"], made[2]["id"]]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = await client.execute(
        "query($id: ID!, $after: String) { contact(id: $id) { engagements(after: $after) "
        "{ edges { node { id } } pageInfo { hasNextPage } } } }",
        id=ada,
        after=first["pageInfo"]["endCursor"],
    )
    assert [e["node"]["id"] for e in rest["contact"]["engagements"]["edges"]] == [made[3]["id"]]
    page = await client.execute(
        "{ contacts(first: 10) { edges { node { id engagements(first: 1) "
        "{ edges { node { id occurredAt } } } } } } }"
    )
    newest = {
        edge["node"]["id"]: [e["node"]["id"] for e in edge["node"]["engagements"]["edges"]]
        for edge in page["contacts"]["edges"]
    }
    assert newest == {ada: [made[1]["id"]], bob: []}


async def test_p3_a_hidden_foreign_or_missing_record_is_not_found_and_nothing_is_written(
    runtime: Runtime,
) -> None:
    services = runtime.services
    admin = await open_client(services, name="Hidden")
    user = await services.users.create(
        admin.caller,
        UserDraft(name="Sam", email="sam@hidden.io", visibility=RecordVisibility.OWNED),
    )
    member = await client_of(services, user)
    own = await created_contact(admin, "own@hidden.io", owner=user.id)
    hidden = await created_contact(admin, "hidden@hidden.io")
    acme = await created_company(admin, "Hidden Co")
    stranger = await open_client(services, name="Elsewhere")
    foreign = await created_contact(stranger, "foreign@else.io")
    account = ObjectId(admin.caller.account_id)
    before = await runtime.mongo[AUDIT_LOG].count_documents({"account_id": account})
    payload = await log(
        member,
        contactIds=[own, hidden, foreign, own, "nonsense"],
        companyIds=[acme],
        dealIds=[str(ObjectId())],
    )
    assert payload == {
        "engagement": None,
        "userErrors": [
            {"code": "NOT_FOUND", "field": ["input", "contactIds", "1"]},
            {"code": "NOT_FOUND", "field": ["input", "contactIds", "2"]},
            {"code": "NOT_FOUND", "field": ["input", "contactIds", "4"]},
            {"code": "NOT_FOUND", "field": ["input", "companyIds", "0"]},
            {"code": "NOT_FOUND", "field": ["input", "dealIds", "0"]},
        ],
    }
    assert await runtime.mongo[ENGAGEMENTS].count_documents({"account_id": account}) == 0
    assert await runtime.mongo[AUDIT_LOG].count_documents({"account_id": account}) == before
    assert (await contact(admin, own))["lastActivityAt"] is None
    assert (await contact(admin, hidden))["lastActivityAt"] is None


async def test_p3_an_engagement_lists_only_the_records_the_caller_sees(runtime: Runtime) -> None:
    """A member limited to OWNED reads every engagement of its own contact, and of the records
    each one lists, only those it sees: no hidden record's id."""
    services = runtime.services
    admin = await open_client(services, name="Listing")
    user = await services.users.create(
        admin.caller,
        UserDraft(name="Sam", email="sam@listing.io", visibility=RecordVisibility.OWNED),
    )
    member = await client_of(services, user)
    own = await created_contact(admin, "own@listing.io", owner=user.id)
    hidden = await created_contact(admin, "hidden@listing.io")
    acme = await created_company(admin, "Listing Co")
    made = await logged(admin, contactIds=[hidden, own], companyIds=[acme])
    query = """query($id: ID!) { contact(id: $id) { engagements { totalCount
      edges { node { id associatedIds notAssociatedIds } } } } }"""
    seen = (await member.execute(query, id=own))["contact"]["engagements"]
    assert seen == {
        "totalCount": 1,
        "edges": [{"node": {"id": made["id"], "associatedIds": [own], "notAssociatedIds": []}}],
    }
    as_admin = (await admin.execute(query, id=own))["contact"]["engagements"]["edges"]
    assert as_admin[0]["node"]["associatedIds"] == [hidden, own, acme]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"occurredAt": stamp(-1)}, {"code": "INVALID", "field": ["input", "occurredAt"]}),
        ({"body": "x" * 65_537}, {"code": "INVALID", "field": ["input", "body"]}),
        ({"body": "bell\u0007"}, {"code": "INVALID", "field": ["input", "body"]}),
        ({"ownerId": str(ObjectId())}, {"code": "NOT_FOUND", "field": ["input", "ownerId"]}),
        (
            {"companyIds": [str(ObjectId()) for _ in range(MAX_NAMED_IDS + 1)]},
            {"code": "TOO_MANY", "field": ["input", "companyIds"]},
        ),
    ],
)
async def test_bad_input_is_a_user_error_at_its_path_and_nothing_is_written(
    runtime: Runtime, fields: dict[str, Any], error: dict[str, Any]
) -> None:
    client = await open_client(runtime.services)
    ada = await created_contact(client, "ada@bad.io")
    payload = await log(client, contactIds=[ada], **fields)
    assert payload == {"engagement": None, "userErrors": [error]}
    account = ObjectId(client.caller.account_id)
    assert await runtime.mongo[ENGAGEMENTS].count_documents({"account_id": account}) == 0
    assert (await contact(client, ada))["lastActivityAt"] is None


async def test_c6_a_deleted_record_is_taken_off_its_engagements(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    ada = await created_contact(client, "ada@gone.io")
    bob = await created_contact(client, "bob@gone.io")
    acme = await created_company(client, "Gone")
    made = await logged(client, contactIds=[ada, bob], companyIds=[acme])
    await client.execute("mutation($id: ID!) { deleteContact(id: $id) { deletedId } }", id=ada)
    await client.execute("mutation($id: ID!) { deleteCompany(id: $id) { deletedId } }", id=acme)
    kept = await client.execute(
        "query($id: ID!) { contact(id: $id) { engagements { edges { node { id associatedIds } } }"
        " } }",
        id=bob,
    )
    nodes = [edge["node"] for edge in kept["contact"]["engagements"]["edges"]]
    assert nodes == [{"id": made["id"], "associatedIds": [bob]}]
    doc = await runtime.mongo[ENGAGEMENTS].find_one({"_id": ObjectId(made["id"])})
    assert doc is not None and doc["record_ids"] == [bob]


async def test_p4_logging_writes_its_entry_with_the_records_it_wrote(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    ada = await created_contact(client, "ada@audit.io")
    made = await logged(client, contactIds=[ada])
    entry = (
        await client.execute("{ auditLog(first: 1) { edges { node { action recordIds } } } }")
    )["auditLog"]["edges"][0]["node"]
    assert entry == {"action": "logEngagement", "recordIds": [made["id"], ada]}

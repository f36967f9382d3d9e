"""Channel audiences through the schema on SecantusDB (H1, H2, P3)."""

from __future__ import annotations

from typing import Any

import pytest

from marketing_contacts.domain.users import RecordVisibility
from marketing_contacts.runtime import Runtime
from marketing_contacts.services.users import UserDraft
from tests.support.graphql import Client, client_of, open_client

AUDIENCE = """
query($channel: Channel!, $selection: ContactSelection!, $first: Int, $after: String) {
  audience(channel: $channel, selection: $selection) {
    channel matched reachable excludedNonMarketing excludedUnengaged excludedNoEmail
    contacts(first: $first, after: $after) {
      totalCount edges { node { email } } pageInfo { hasNextPage endCursor } } } }"""
CREATE = """
mutation($input: CreateContactInput!) { createContact(input: $input) {
  contact { id } userErrors { code } } }"""
PENDING = """
mutation($ids: [ID!]!) { setMarketingStatus(input: {contactIds: $ids, status: NON_MARKETING}) {
  userErrors { code } } }"""
CREATE_LIST = """
mutation($ids: [ID!]!) { createList(name: "Audience", contactIds: $ids) { list { id } } }"""

#: name -> the contact's input: M, P, N, unsubscribed, bounced, no email
KINDS: dict[str, dict[str, Any]] = {
    "m": {"marketingStatus": "MARKETING"},
    "p": {"marketingStatus": "MARKETING"},  # made pending below
    "n": {"marketingStatus": "NON_MARKETING"},
    "n-bounced": {"marketingStatus": "NON_MARKETING", "emailHardBounced": True},
    "m-unsubscribed": {"marketingStatus": "MARKETING", "unsubscribedFromAll": True},
    "m-bounced": {"marketingStatus": "MARKETING", "emailHardBounced": True},
    "m-no-email": {"marketingStatus": "MARKETING"},
    "n-no-email": {"marketingStatus": "NON_MARKETING"},
}


async def contacts_of_every_kind(client: Client, owner: str | None = None) -> dict[str, str]:
    ids = {}
    for name, fields in KINDS.items():
        email = None if name.endswith("no-email") else f"{name}@audience.io"
        made = await client.execute(CREATE, input={**fields, "email": email, "ownerId": owner})
        assert made["createContact"]["userErrors"] == []
        ids[name] = made["createContact"]["contact"]["id"]
    pending = await client.execute(PENDING, ids=[ids["p"]])
    assert pending["setMarketingStatus"]["userErrors"] == []
    return ids


async def audience(client: Client, channel: str, selection: Any, **page: Any) -> Any:
    found = await client.execute(AUDIENCE, channel=channel, selection=selection, **page)
    return found["audience"]


def emails(found: Any) -> list[str | None]:
    return [edge["node"]["email"] for edge in found["contacts"]["edges"]]


def at(*names: str) -> list[str | None]:
    return [None if n.endswith("no-email") else f"{n}@audience.io" for n in names]


MARKETING_ONLY = ["m", "p", "m-unsubscribed", "m-bounced", "m-no-email"]
WITH_EMAIL = ["m", "p", "n", "n-bounced", "m-unsubscribed", "m-bounced"]


@pytest.mark.parametrize(
    ("channel", "counts", "reached"),
    [
        ("MARKETING_EMAIL", (2, 3, 2, 1), ["m", "p"]),
        ("ADS", (5, 3, 0, 0), MARKETING_ONLY),
        ("WORKFLOW_MARKETING_ACTION", (5, 3, 0, 0), MARKETING_ONLY),
        *((c, (6, 0, 0, 2), WITH_EMAIL) for c in [
            "SALES_EMAIL", "SEQUENCE", "CONVERSATION", "TRANSACTIONAL_EMAIL",
            "REGISTRATION_EMAIL", "TICKET_EMAIL", "FEEDBACK_SURVEY",
        ]),
    ],
)  # fmt: skip
async def test_h1_h2_every_channel_counts_and_lists_whom_it_reaches(
    runtime: Runtime, channel: str, counts: tuple[int, int, int, int], reached: list[str]
) -> None:
    """8 contacts: M, P, N, N bounced, M unsubscribed, M bounced, M and N without email; a
    contact left out for several reasons counts under the first (non-marketing, unengaged,
    no email)."""
    client = await open_client(runtime.services)
    await contacts_of_every_kind(client)
    found = await audience(client, channel, {"filter": {}})
    reachable, non_marketing, unengaged, no_email = counts
    assert found | {"contacts": None} == {
        "channel": channel,
        "matched": 8,
        "reachable": reachable,
        "excludedNonMarketing": non_marketing,
        "excludedUnengaged": unengaged,
        "excludedNoEmail": no_email,
        "contacts": None,
    }
    assert emails(found) == at(*reached)
    assert found["contacts"]["totalCount"] == reachable


async def test_h1_an_audience_of_a_list_or_of_ids_counts_those_contacts(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    ids = await contacts_of_every_kind(client)
    listed = [ids[n] for n in ["m", "n", "m-bounced", "m-no-email"]]
    made = await client.execute(CREATE_LIST, ids=listed)
    list_id = made["createList"]["list"]["id"]
    by_list = await audience(client, "MARKETING_EMAIL", {"listId": list_id})
    assert [by_list[k] for k in ("matched", "reachable", "excludedNonMarketing")] == [4, 1, 1]
    assert [by_list[k] for k in ("excludedUnengaged", "excludedNoEmail")] == [1, 1]
    assert emails(by_list) == at("m")
    by_ids = await audience(client, "SALES_EMAIL", {"ids": [ids["n"], ids["n-no-email"]]})
    assert [by_ids[k] for k in ("matched", "reachable", "excludedNoEmail")] == [2, 1, 1]
    assert emails(by_ids) == at("n")


async def test_h1_the_reachable_contacts_page_on(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    await contacts_of_every_kind(client)
    seen: list[str | None] = []
    after = None
    while True:
        found = await audience(client, "ADS", {"filter": {}}, first=2, after=after)
        seen += emails(found)
        info = found["contacts"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert seen == at(*MARKETING_ONLY)


async def test_p3_an_owned_member_audience_counts_only_what_it_sees(runtime: Runtime) -> None:
    services = runtime.services
    admin = await open_client(services)
    user = await services.users.create(
        admin.caller,
        UserDraft(name="Sam", email="sam@audience.io", visibility=RecordVisibility.OWNED),
    )
    member = await client_of(services, user)
    await contacts_of_every_kind(admin)
    own = await admin.execute(
        CREATE, input={"email": "own@audience.io", "marketingStatus": "MARKETING",
                       "ownerId": user.id},
    )  # fmt: skip
    found = await audience(member, "MARKETING_EMAIL", {"filter": {}})
    assert [found[k] for k in ("matched", "reachable", "excludedNonMarketing")] == [1, 1, 0]
    assert emails(found) == ["own@audience.io"]
    assert own["createContact"]["userErrors"] == []
    everyone = await audience(admin, "MARKETING_EMAIL", {"filter": {}})
    assert (everyone["matched"], everyone["reachable"]) == (9, 3)


@pytest.mark.parametrize(
    ("selection", "code", "field"),
    [
        ({"listId": "0123456789abcdef01234567"}, "NOT_FOUND", ["selection", "listId"]),
        ({"ids": []}, "INVALID", ["selection", "ids"]),
        ({"unengaged": False}, "INVALID", ["selection", "unengaged"]),
    ],
)
async def test_h1_a_selection_that_cannot_be_read_is_an_error_with_its_field(
    runtime: Runtime, selection: Any, code: str, field: list[str]
) -> None:
    client = await open_client(runtime.services)
    result = await client.try_execute(AUDIENCE, channel="ADS", selection=selection)
    assert result.data is None
    (error,) = result.errors
    assert (error.extensions["code"], error.extensions["field"]) == (code, field)

"""Static lists through the real schema on real SecantusDB and Redis."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId

from marketing_contacts.runtime import Runtime
from marketing_contacts.services.lists import MAX_LIST_CHANGE
from marketing_contacts.services.ports.lists import ListRecount
from tests.support.graphql import Client, open_client

CREATE_CONTACT = """
mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { id } userErrors { code } }
}"""
LIST_FIELDS = "list { id name createdAt size } userErrors { code field message }"
CREATE = f"""
mutation($name: String!, $contactIds: [ID!]!) {{
  createList(name: $name, contactIds: $contactIds) {{ {LIST_FIELDS} }}
}}"""
ADD = f"""
mutation($listId: ID!, $contactIds: [ID!]!) {{
  addContactsToList(listId: $listId, contactIds: $contactIds) {{ {LIST_FIELDS} }}
}}"""
REMOVE = f"""
mutation($listId: ID!, $contactIds: [ID!]!) {{
  removeContactsFromList(listId: $listId, contactIds: $contactIds) {{ {LIST_FIELDS} }}
}}"""
DELETE = "mutation($id: ID!) { deleteList(id: $id) { deletedId userErrors { code field } } }"
ONE = "query($id: ID!) { list(id: $id) { id name size } }"
PAGE = """
query($first: Int, $after: String) {
  lists(first: $first, after: $after) {
    edges { cursor node { id name size } }
    pageInfo { hasNextPage endCursor }
  }
}"""
MEMBERS = """
query($listId: ID!) {
  contacts(filter: {listId: $listId}, first: 200) { totalCount edges { node { id } } }
}"""
USAGE = """{ usage { marketingContacts pendingNonMarketing nonMarketingContacts totalContacts
                     tierLimit projectedAfterNextUpdate } }"""


async def contacts(client: Client, count: int, status: str = "MARKETING") -> list[str]:
    ids = []
    for _ in range(count):
        data = await client.execute(CREATE_CONTACT, input={"marketingStatus": status})
        ids.append(data["createContact"]["contact"]["id"])
    return ids


async def create(client: Client, name: str, ids: list[str]) -> dict[str, Any]:
    payload: dict[str, Any] = (await client.execute(CREATE, name=name, contactIds=ids))[
        "createList"
    ]
    return payload


async def members(client: Client, list_id: str) -> list[str]:
    found = (await client.execute(MEMBERS, listId=list_id))["contacts"]
    ids = [edge["node"]["id"] for edge in found["edges"]]
    assert found["totalCount"] == len(ids)
    return ids


async def everything(client: Client, lists: list[str]) -> dict[str, Any]:
    """What a refused request must leave as it was."""
    return {
        "usage": (await client.execute(USAGE))["usage"],
        "lists": (await client.execute(PAGE, first=200))["lists"],
        "members": {list_id: await members(client, list_id) for list_id in lists},
    }


async def test_create_with_members_and_read_it_back(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    ids = await contacts(client, 3)
    payload = await create(client, "  Newsletter ", [ids[2], ids[0], ids[2]])
    assert payload["userErrors"] == []
    created = payload["list"]
    assert (created["name"], created["size"]) == ("Newsletter", 2)
    assert sorted(await members(client, created["id"])) == sorted([ids[0], ids[2]])
    one = await client.execute(ONE, id=created["id"])
    assert one["list"] == {"id": created["id"], "name": "Newsletter", "size": 2}
    empty = await client.execute('mutation { createList(name: "Empty") { list { size } } }')
    assert empty["createList"]["list"] == {"size": 0}


async def test_add_and_remove_are_idempotent_and_the_filter_sees_exactly_the_members(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    ids = await contacts(client, 4)
    created = (await create(client, "L", [ids[0]]))["list"]
    for _ in range(2):
        added = (await client.execute(ADD, listId=created["id"], contactIds=ids[:3]))[
            "addContactsToList"
        ]
        assert added["userErrors"] == []
        assert added["list"]["size"] == 3
    assert await members(client, created["id"]) == ids[:3]
    for _ in range(2):
        removed = (await client.execute(REMOVE, listId=created["id"], contactIds=[ids[1], ids[3]]))[
            "removeContactsFromList"
        ]
        assert removed["userErrors"] == []
        assert removed["list"]["size"] == 2
    assert await members(client, created["id"]) == [ids[0], ids[2]]


async def test_lists_page_newest_first_with_sizes_and_cursors(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    other = await open_client(runtime.services, name="Other")
    await create(other, "Theirs", [])
    ids = await contacts(client, 3)
    made = [(await create(client, f"L{n}", ids[:n]))["list"]["id"] for n in range(4)]
    seen: list[tuple[str, int]] = []
    after = None
    while True:
        page = (await client.execute(PAGE, first=3, after=after))["lists"]
        seen += [(edge["node"]["id"], edge["node"]["size"]) for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [(made[n], n) for n in reversed(range(4))]


@pytest.mark.parametrize(
    ("variables", "field"),
    [({"first": 0}, ["first"]), ({"first": 201}, ["first"]), ({"after": "nope"}, ["after"])],
)
async def test_bad_page_arguments_are_graphql_errors_with_a_code(
    runtime: Runtime, variables: dict[str, Any], field: list[str]
) -> None:
    client = await open_client(runtime.services)
    result = await client.try_execute(PAGE, **variables)
    assert result.data is None
    assert result.errors[0].extensions == {"code": "INVALID", "field": field}


async def test_foreign_or_unknown_lists_and_contacts_are_not_found_and_nothing_changes(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    stranger = await open_client(runtime.services, name="Stranger")
    ids = await contacts(client, 2)
    (theirs,) = await contacts(stranger, 1)
    their_list = (await create(stranger, "Theirs", [theirs]))["list"]["id"]
    mine = (await create(client, "Mine", ids[:1]))["list"]["id"]
    before = await everything(client, [mine, their_list])
    their_before = await everything(stranger, [their_list])
    asked = [ids[1], theirs, "not-an-id"]
    refused = await create(client, "New", asked)
    assert refused["list"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("NOT_FOUND", ["contactIds", "1"]),
        ("NOT_FOUND", ["contactIds", "2"]),
    ]
    for query, root in ((ADD, "addContactsToList"), (REMOVE, "removeContactsFromList")):
        payload = (await client.execute(query, listId=mine, contactIds=asked))[root]
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("NOT_FOUND", ["contactIds", "1"]),
            ("NOT_FOUND", ["contactIds", "2"]),
        ]
        for list_id in (their_list, "not-an-id", "0" * 24):
            payload = (await client.execute(query, listId=list_id, contactIds=ids))[root]
            assert payload["list"] is None
            assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
                ("NOT_FOUND", ["listId"])
            ]
    for list_id in (their_list, "not-an-id"):
        deleted = (await client.execute(DELETE, id=list_id))["deleteList"]
        assert deleted == {
            "deletedId": None,
            "userErrors": [{"code": "NOT_FOUND", "field": ["id"]}],
        }
        assert (await client.execute(ONE, id=list_id))["list"] is None
    assert await members(client, their_list) == []
    assert await everything(client, [mine, their_list]) == before
    assert await everything(stranger, [their_list]) == their_before


async def test_more_than_10000_contact_ids_is_too_many(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    (contact,) = await contacts(client, 1)
    mine = (await create(client, "Mine", [contact]))["list"]["id"]
    before = await everything(client, [mine])
    too_many = [f"{n:024x}" for n in range(MAX_LIST_CHANGE + 1)]
    payloads = [
        await create(client, "Big", too_many),
        (await client.execute(ADD, listId=mine, contactIds=too_many))["addContactsToList"],
        (await client.execute(REMOVE, listId=mine, contactIds=too_many))["removeContactsFromList"],
    ]
    for payload in payloads:
        assert payload["list"] is None
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("TOO_MANY", ["contactIds"])
        ]
    assert await everything(client, [mine]) == before


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
async def test_a_name_outside_1_to_200_characters_is_invalid(runtime: Runtime, name: str) -> None:
    client = await open_client(runtime.services)
    payload = await create(client, name, [])
    assert payload["list"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID", ["name"])]
    assert (await client.execute(PAGE))["lists"]["edges"] == []


async def test_delete_list_answers_at_once_and_a_bulk_turn_removes_every_membership(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    ids = await contacts(client, 3)
    doomed = (await create(client, "Doomed", ids))["list"]["id"]
    kept = (await create(client, "Kept", ids[:2]))["list"]["id"]
    deleted = (await client.execute(DELETE, id=doomed))["deleteList"]
    assert deleted == {"deletedId": doomed, "userErrors": []}
    assert await members(client, doomed) == []
    assert await members(client, kept) == ids[:2]
    assert (await client.execute(ONE, id=doomed))["list"] is None
    assert [e["node"]["id"] for e in (await client.execute(PAGE))["lists"]["edges"]] == [kept]
    again = (await client.execute(DELETE, id=doomed))["deleteList"]
    assert again["userErrors"] == [{"code": "NOT_FOUND", "field": ["id"]}]
    added = (await client.execute(ADD, listId=doomed, contactIds=ids))["addContactsToList"]
    assert added["userErrors"] == [
        {"code": "NOT_FOUND", "field": ["listId"], "message": f"list '{doomed}' does not exist"}
    ]
    stored = runtime.mongo["contacts"]
    assert await stored.count_documents({"list_ids": doomed}) == 3  # left to the worker
    turn = await runtime.services.bulk_runner.take_turn(
        client.caller.account_id, "a worker's turn", lambda _: False
    )
    assert turn.lists_removed == (doomed,)
    assert await stored.count_documents({"list_ids": doomed}) == 0
    assert await runtime.mongo["lists"].count_documents({"_id": ObjectId(doomed)}) == 0
    assert (await client.execute(ONE, id=kept))["list"]["size"] == 2


async def test_a_deleted_contact_leaves_its_lists_sizes(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    ids = await contacts(client, 3)
    listed = (await create(client, "Listed", ids))["list"]["id"]
    await client.execute("mutation($id: ID!) { deleteContact(id: $id) { deletedId } }", id=ids[0])
    assert (await client.execute(ONE, id=listed))["list"]["size"] == 2
    assert await members(client, listed) == ids[1:]


async def test_membership_never_changes_statuses_or_usage(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    marketing = await contacts(client, 2)
    non_marketing = await contacts(client, 1, status="NON_MARKETING")
    pending = await contacts(client, 1)
    await client.execute(
        """mutation($ids: [ID!]!) { setMarketingStatus(input: {contactIds: $ids,
            status: NON_MARKETING}) { userErrors { code } } }""",
        ids=pending,
    )
    everyone = marketing + non_marketing + pending
    statuses = "query($id: ID!) { contact(id: $id) { marketingStatus marketingUntilNextUpdate } }"
    before_usage = (await client.execute(USAGE))["usage"]
    before = [await client.execute(statuses, id=cid) for cid in everyone]
    created = (await create(client, "All", everyone))["list"]["id"]
    await client.execute(REMOVE, listId=created, contactIds=marketing)
    await client.execute(ADD, listId=created, contactIds=everyone)
    await client.execute(DELETE, id=created)
    assert (await client.execute(USAGE))["usage"] == before_usage
    assert before_usage["marketingContacts"] == 3
    assert before_usage["pendingNonMarketing"] == 1
    assert [await client.execute(statuses, id=cid) for cid in everyone] == before


async def test_the_lists_index_exists_after_start(runtime: Runtime) -> None:
    indexes = await runtime.mongo["lists"].index_information()
    keys = [spec["key"] for spec in indexes.values()]
    assert [("account_id", 1), ("deleted_at", 1), ("_id", -1)] in keys


async def test_t1_the_reconciliation_repairs_a_drifted_list_size(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    ids = await contacts(client, 3)
    drifted = (await create(client, "Drifted", ids))["list"]["id"]
    exact = (await create(client, "Exact", ids[:1]))["list"]["id"]
    await runtime.mongo["lists"].update_one({"_id": ObjectId(drifted)}, {"$set": {"size": 7}})
    result = await runtime.services.usage.reconcile(client.caller.account_id)
    assert result.drifted and result.stored == result.actual  # the counters were exact
    assert result.lists == (ListRecount(drifted, 7, 3),)
    assert [(await client.execute(ONE, id=i))["list"]["size"] for i in (drifted, exact)] == [3, 1]
    again = await runtime.services.usage.reconcile(client.caller.account_id)
    assert not again.drifted

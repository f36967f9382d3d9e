"""deleteList answers at once; real worker processes take the membership out in pages, and one
killed in the middle of it is taken over by another, which finishes it.

The API side runs in-process (the real schema over a Runtime); the workers are real
`marketing-contacts worker` processes on a SecantusDB of this test's own, started with test
commands so that a fail point can hold worker-1 at a known write.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from bson import ObjectId

from marketing_contacts.dev.processes import free_port
from marketing_contacts.dev.servers import IN_MEMORY, RedisServer
from marketing_contacts.runtime import Runtime, open_runtime
from marketing_contacts.storage.database import CONTACTS, LISTS
from tests.support.fail_points import fail_point
from tests.support.graphql import Client, open_client
from tests.support.waiting import eventually, until_past
from tests.support.workers import Place, kill_hard, log_of, start_own_mongo

CREATE_CONTACT = """mutation { createContact(input: {marketingStatus: MARKETING})
  { contact { id } } }"""
CREATE_LIST = """mutation($name: String!, $ids: [ID!]!) { createList(name: $name, contactIds: $ids)
  { list { id size } userErrors { code } } }"""
DELETE_LIST = "mutation($id: ID!) { deleteList(id: $id) { deletedId userErrors { code } } }"
LIST = "query($id: ID!) { list(id: $id) { id size } }"
MEMBERS = "query($id: ID!) { contacts(filter: {listId: $id}, first: 1) { totalCount } }"
USAGE = "{ usage { marketingContacts totalContacts } }"

MEMBERS_AT_START = 100
CHUNK = 20
#: worker-1's writes (`update` commands) let through before the fail point holds it: the claim,
#: then the lease renewal and the pull of each of two pages; its third renewal blocks
WRITES_LET_THROUGH = 5
#: longer than the test: the blocked write never runs while it matters
BLOCK_MS = 120_000
WAIT_SECONDS = 60.0


async def test_a_deleted_lists_membership_is_taken_out_by_workers_though_one_dies_midway(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    mongo = await asyncio.to_thread(
        start_own_mongo, free_port(), IN_MEMORY, tmp_path / "mongo.log", "--enable-test-commands"
    )
    place = Place.create(mongo.uri, "lists", redis_server.url, tmp_path)
    place.env_overrides.update(BULK_CHUNK_SIZE=str(CHUNK), BULK_LEASE_SECONDS="3")
    try:
        async with open_runtime(place.settings()) as runtime:
            await delete_through_a_dying_worker(place, runtime)
    finally:
        await asyncio.to_thread(place.stop)
        await asyncio.to_thread(mongo.stop)


async def delete_through_a_dying_worker(place: Place, runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    ids = [
        (await client.execute(CREATE_CONTACT))["createContact"]["contact"]["id"]
        for _ in range(MEMBERS_AT_START)
    ]
    doomed = await create_list(client, "Doomed", ids)
    kept = await create_list(client, "Kept", ids[:10])
    usage = await client.execute(USAGE)

    first = await place.started_worker("worker-1", MONGODB_URI=f"{place.mongo_uri}&appName=w1")
    skip = {"skip": WRITES_LET_THROUGH}
    async with fail_point(runtime, ["update"], "w1", block_ms=BLOCK_MS, mode=skip):
        deleted = (await client.execute(DELETE_LIST, id=doomed))["deleteList"]
        assert deleted == {"deletedId": doomed, "userErrors": []}
        # at once, before any worker: no read finds the list or a member of it
        assert (await client.execute(LIST, id=doomed))["list"] is None
        assert (await client.execute(MEMBERS, id=doomed))["contacts"]["totalCount"] == 0

        async def held_after_two_pages() -> bool | None:
            return await stored_members(runtime, doomed) == MEMBERS_AT_START - 2 * CHUNK or None

        await eventually(
            held_after_two_pages,
            within=WAIT_SECONDS,
            what="worker-1 to take out two pages and block at its next write",
            processes=(first,),
        )
        kill_hard(first)
    assert await stored_members(runtime, doomed) == MEMBERS_AT_START - 2 * CHUNK

    # the dead worker's lease must run out before the next worker's startup sweep looks
    held = await runtime.mongo[LISTS].find_one({"_id": ObjectId(doomed)})
    assert held is not None and held["drop_lease_until"] is not None
    await until_past(held["drop_lease_until"])
    second = await place.started_worker("worker-2")

    async def removed() -> bool | None:
        gone = await runtime.mongo[LISTS].count_documents({"_id": ObjectId(doomed)}) == 0
        return gone or None

    await eventually(
        removed, within=WAIT_SECONDS, what="worker-2 to remove the list", processes=(second,)
    )
    assert await stored_members(runtime, doomed) == 0
    assert re.search(
        rf"bulk work of account \w+ \({doomed}\) was left past its lease", log_of(second)
    )
    assert (await client.execute(LIST, id=kept))["list"] == {"id": kept, "size": 10}
    assert (await client.execute(MEMBERS, id=kept))["contacts"]["totalCount"] == 10
    assert await client.execute(USAGE) == usage  # membership never moves the counts


async def create_list(client: Client, name: str, ids: list[str]) -> str:
    payload: dict[str, Any] = (await client.execute(CREATE_LIST, name=name, ids=ids))["createList"]
    assert payload["userErrors"] == [] and payload["list"]["size"] == len(ids)
    list_id: str = payload["list"]["id"]
    return list_id


async def stored_members(runtime: Runtime, list_id: str) -> int:
    """Contacts that still name the list, as stored (reads of the API show none)."""
    return await runtime.mongo[CONTACTS].count_documents({"list_ids": list_id})

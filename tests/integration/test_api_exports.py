"""Exports (I6, P3, P5) through the schema and the HTTP edge on real servers; the export's job
is run in-process here (tests/e2e runs it in a real arq worker process)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest_asyncio

from marketing_contacts.domain.exports import COLUMNS
from marketing_contacts.domain.users import RecordVisibility
from marketing_contacts.runtime import Runtime
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.services.users import UserDraft
from marketing_contacts.settings import Settings
from marketing_contacts.storage.database import EXPORT_CHUNKS
from tests.support.app import ServedApp, served
from tests.support.clock import MovableClock
from tests.support.graphql import Client, client_of, open_client

START = """mutation($input: StartExportInput!) { startExport(input: $input) {
  export { id status rows downloadUrl expiresAt createdAt finishedAt }
  userErrors { code field message } } }"""
EXPORT = """query($id: ID!) { export(id: $id) {
  id status rows downloadUrl expiresAt createdAt finishedAt } }"""
CREATE = """mutation($e: String, $f: String) { createContact(input: {email: $e, firstName: $f}) {
  contact { id } } }"""


async def start(client: Client, **selection: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await client.execute(START, input={"selection": selection}))[
        "startExport"
    ]
    return payload


async def read(client: Client, export_id: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (await client.execute(EXPORT, id=export_id))["export"]
    return found


def parsed(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


async def test_i6_an_export_runs_to_completed_and_its_file_is_kept_7_days(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    ids = [
        (await client.execute(CREATE, e=f"p{n}@x.io", f=name))["createContact"]["contact"]["id"]
        for n, name in enumerate(["Ann", "=cmd|' /C calc'!A0", 'Bob "B", Jr'])
    ]
    started = await start(client, ids=ids)
    assert started["userErrors"] == []
    export = started["export"]
    assert (export["status"], export["rows"], export["downloadUrl"]) == ("QUEUED", 0, None)
    assert (export["expiresAt"], export["finishedAt"]) == (None, None)
    done = await runtime.services.exports.run(export["id"])
    assert done is not None
    found = await read(client, export["id"])
    assert found is not None
    assert (found["status"], found["rows"]) == ("COMPLETED", 3)
    assert found["downloadUrl"] == f"/exports/{export['id']}/file"
    assert done.finished_at is not None and done.expires_at is not None
    assert done.expires_at - done.finished_at == timedelta(days=7)
    assert found["expiresAt"] == done.expires_at.isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )
    text = b"".join([chunk async for chunk in runtime.services.exports.file_of(done)]).decode()
    rows = parsed(text)
    assert [r["id"] for r in rows] == ids
    assert [r["firstName"] for r in rows] == ["Ann", "'=cmd|' /C calc'!A0", 'Bob "B", Jr']


async def test_i6_p3_an_export_is_its_requesters_record_and_holds_what_it_sees(
    runtime: Runtime,
) -> None:
    services = runtime.services
    admin = await open_client(services)
    user = await services.users.create(
        admin.caller,
        UserDraft(name="Owned", email="owned@x.io", visibility=RecordVisibility.OWNED),
    )
    member = await client_of(services, user)
    hidden = await services.contacts.create(admin.caller, ContactDraft(email="hidden@x.io"))
    own = await services.contacts.create(
        admin.caller, ContactDraft(email="own@x.io", owner_id=user.id)
    )
    mine = (await start(member, ids=[hidden.id, own.id]))["export"]
    theirs = (await start(admin, filter={}))["export"]
    for export in (mine, theirs):
        await services.exports.run(export["id"])
    text = b"".join(
        [
            chunk
            async for chunk in services.exports.file_of(
                await services.ports.exports.load(mine["id"])  # type: ignore[arg-type]
            )
        ]
    ).decode()
    assert [r["email"] for r in parsed(text)] == ["own@x.io"]
    assert await read(member, theirs["id"]) is None  # not found, as a missing one
    assert (await read(admin, mine["id"]) or {})["rows"] == 1  # the admin sees the member's
    stranger = await open_client(services, name="Elsewhere")
    assert await read(stranger, mine["id"]) is None


async def test_p5_a_sixth_background_operation_is_too_many(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    contact = (await client.execute(CREATE, e="one@x.io", f=None))["createContact"]["contact"]
    bulk = """mutation($ids: [ID!]!) { startBulkStatusChange(input: {selection: {ids: $ids},
      status: NON_MARKETING}) { userErrors { code } } }"""
    for _ in range(2):
        assert (await client.execute(bulk, ids=[contact["id"]]))["startBulkStatusChange"][
            "userErrors"
        ] == []
    for _ in range(3):
        assert (await start(client, ids=[contact["id"]]))["userErrors"] == []
    refused = await start(client, ids=[contact["id"]])
    assert refused["export"] is None
    assert [e["code"] for e in refused["userErrors"]] == ["TOO_MANY"]


async def test_i6_bad_selections_are_user_errors_at_their_field(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    listed = await runtime.services.lists.create(client.caller, "Gone", [])
    await runtime.services.lists.delete(client.caller, listed.id)
    gone = await start(client, listId=listed.id)
    assert gone["userErrors"] == [
        {
            "code": "NOT_FOUND",
            "field": ["input", "selection", "listId"],
            "message": f"list '{listed.id}' does not exist",
        }
    ]
    unengaged = await start(client, unengaged=False)
    assert [(e["code"], e["field"]) for e in unengaged["userErrors"]] == [
        ("INVALID", ["input", "selection", "unengaged"])
    ]


async def test_i6_the_sweep_deletes_an_expired_export_and_its_file(
    runtime: Runtime, test_clock: MovableClock
) -> None:
    client = await open_client(runtime.services)
    await client.execute(CREATE, e="swept@x.io", f=None)
    export = (await start(client, filter={}))["export"]
    done = await runtime.services.exports.run(export["id"])
    assert done is not None and done.expires_at is not None
    chunks = runtime.mongo[EXPORT_CHUNKS]
    assert await chunks.count_documents({"export_id": {"$exists": True}}) >= 1
    test_clock.set(done.expires_at + timedelta(seconds=1))
    found = await read(client, export["id"])
    assert found is not None and found["downloadUrl"] is None  # expired, not swept yet
    swept = await runtime.services.exports.sweep()
    assert export["id"] in swept.deleted
    assert await read(client, export["id"]) is None
    assert [c async for c in runtime.services.exports.file_of(done)] == []


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def app(settings_for_tests: Settings) -> AsyncIterator[ServedApp]:
    async with served(settings_for_tests) as app:
        yield app


async def post(app: ServedApp, token: str, query: str, **variables: Any) -> dict[str, Any]:
    response = await app.http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_i6_the_file_downloads_with_the_token_and_is_404_to_everyone_else(
    app: ServedApp,
) -> None:
    token, other = await app.new_token("Owner"), await app.new_token("Other")
    await post(app, token, CREATE, e="dl@x.io", f="Dee")
    started = (await post(app, token, START, input={"selection": {"filter": {}}}))["startExport"]
    export_id = started["export"]["id"]
    path = f"/exports/{export_id}/file"
    auth = {"Authorization": f"Bearer {token}"}
    unfinished = await app.http.get(path, headers=auth)
    assert unfinished.status_code == 404
    assert unfinished.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    await app.runtime.services.exports.run(export_id)
    url = (await post(app, token, EXPORT, id=export_id))["export"]["downloadUrl"]
    assert url == path
    response = await app.http.get(url, headers=auth)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f"contacts-export-{export_id}.csv" in response.headers["content-disposition"]
    assert [r["email"] for r in parsed(response.text)] == ["dl@x.io"]
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        refused = await app.http.get(url, headers=headers)
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    foreign = await app.http.get(url, headers={"Authorization": f"Bearer {other}"})
    assert foreign.status_code == 404
    assert "dl@x.io" not in foreign.text
    missing = await app.http.get("/exports/ffffffffffffffffffffffff/file", headers=auth)
    assert missing.status_code == 404
    assert (await app.http.post(url, headers=auth)).status_code == 405

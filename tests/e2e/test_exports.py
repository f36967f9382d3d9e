"""I6 end to end: an export started over HTTP on a real API process is written by a real arq
worker process; its file downloads over HTTP with the token (200, the rows, columns that parse
back), 401 without one, 404 with another account's token."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from marketing_contacts.dev.processes import free_port
from marketing_contacts.dev.servers import MongoServer, RedisServer
from marketing_contacts.domain.exports import COLUMNS
from tests.support.api import graphql, start_api
from tests.support.servers import unique_database_name
from tests.support.waiting import eventually
from tests.support.workers import Place

WAIT_SECONDS = 60.0
CREATE = """mutation($e: String, $f: String) { createContact(input: {email: $e, firstName: $f})
  { contact { id } } }"""
START = """mutation($input: StartExportInput!) { startExport(input: $input) {
  export { id status } userErrors { code field message } } }"""
EXPORT = "query($id: ID!) { export(id: $id) { id status rows downloadUrl expiresAt } }"


@pytest.fixture
def place(
    mongo_server: MongoServer,
    redis_server: RedisServer,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> Iterator[Place]:
    place = Place.create(
        mongo_server.uri, unique_database_name(request.node.name), redis_server.url, tmp_path
    )
    try:
        yield place
    finally:
        place.stop()
        place.drop_database()


def post(base: str, token: str, query: str, **variables: Any) -> dict[str, Any]:
    response = graphql(base, token, query, **variables)
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def test_i6_a_worker_writes_the_export_and_the_api_serves_it_to_its_account_only(
    place: Place,
) -> None:
    api, base = await asyncio.to_thread(
        start_api, place.env(PORT=str(free_port())), place.work_dir / "api.log"
    )
    try:
        worker = await place.started_worker("worker")
        token = place.cli("accounts", "create", "--name", "Exporter")["token"]
        other = place.cli("accounts", "create", "--name", "Other")["token"]
        people = [("ann@x.io", "Ann"), ("bob@x.io", "Bob, Jr"), ("eve@x.io", "=1+1")]
        ids = [
            post(base, token, CREATE, e=e, f=f)["createContact"]["contact"]["id"] for e, f in people
        ]
        started = post(base, token, START, input={"selection": {"filter": {}}})["startExport"]
        assert started["userErrors"] == []
        export_id = started["export"]["id"]

        async def completed() -> dict[str, Any] | None:
            found: dict[str, Any] = post(base, token, EXPORT, id=export_id)["export"]
            return found if found["status"] == "COMPLETED" else None

        done = await eventually(
            completed,
            within=WAIT_SECONDS,
            what="the worker to write the export",
            processes=(worker, api),
        )
        assert done["rows"] == 3 and done["expiresAt"] is not None
        url = f"{base}{done['downloadUrl']}"
        async with httpx.AsyncClient(timeout=30) as http:
            await download(http, url, token, other, ids)
        assert post(base, other, EXPORT, id=export_id)["export"] is None
    finally:
        await asyncio.to_thread(api.stop)


async def download(
    http: httpx.AsyncClient, url: str, token: str, other: str, ids: list[str]
) -> None:
    response = await http.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(response.text, newline=""))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    rows = list(reader)
    assert [r["id"] for r in rows] == ids
    assert [(r["email"], r["firstName"]) for r in rows] == [
        ("ann@x.io", "Ann"),
        ("bob@x.io", "Bob, Jr"),
        ("eve@x.io", "'=1+1"),  # neutralised for spreadsheets
    ]
    assert {r["marketingStatus"] for r in rows} == {"NON_MARKETING"}

    anonymous = await http.get(url)
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    foreign = await http.get(url, headers={"Authorization": f"Bearer {other}"})
    assert foreign.status_code == 404
    assert foreign.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"

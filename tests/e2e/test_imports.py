"""CSV imports end to end (I1-I5): a real `marketing-contacts serve` process takes the file as a
GraphQL multipart upload over HTTP, real `marketing-contacts worker` processes apply it; a
worker killed mid-import is resumed by another, every row applied once. Each test has its own
MongoDB database and Redis database (tests.support.workers.Place)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from marketing_contacts.dev.processes import ManagedProcess, free_port
from marketing_contacts.dev.servers import MongoServer, RedisServer
from marketing_contacts.domain.users import Role
from marketing_contacts.runtime import Runtime, open_runtime
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.users import UserDraft
from tests.support.api import environment, start_api
from tests.support.servers import unique_database_name
from tests.support.waiting import eventually, transaction_reaper, until_past
from tests.support.workers import Place, kill_hard, log_of

START = """mutation($file: Upload!, $key: String) {
  startImport(input: {file: $file, idempotencyKey: $key}) {
    import { id status fileName } userErrors { code field message } } }"""
IMPORT = """query($id: ID!) { import(id: $id) { status rows processed created updated unchanged
  failed progress errors(first: 10) { edges { node { row column code } } } } }"""
USAGE = "{ usage { totalContacts } }"
WAIT_SECONDS = 60.0
Row = dict[str, Any]


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


@asynccontextmanager
async def serving(place: Place, **env: str) -> AsyncIterator[tuple[str, str, Runtime]]:
    """An API process on the place (and a runtime beside it): its base URL and an admin's
    token."""
    api_env = {
        **environment(place.mongo_uri, place.redis_url, place.database, free_port()),
        **env,
    }
    async with open_runtime(place.settings()) as runtime:
        services = runtime.services
        account = await services.accounts.open(AccountOpening(name="Importer"))
        admin = await services.users.add(
            account.id, UserDraft(name="Ada", email=None, role=Role.ADMIN, marketing_access=True)
        )
        _, secret = await services.tokens.issue(admin, "e2e")
        api, base = await asyncio.to_thread(start_api, api_env, place.work_dir / "api.log")
        try:
            yield base, secret, runtime
        finally:
            api.stop()


def upload(
    base: str, token: str, body: bytes, *, key: str | None = None, files: bool = True
) -> httpx.Response:
    """startImport as Apollo's and urql's upload links send it (the multipart request spec)."""
    operations = {"query": START, "variables": {"file": None, "key": key}}
    return httpx.post(
        f"{base}/graphql",
        headers={"Authorization": f"Bearer {token}"},
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.file"]} if files else {}),
        },
        files={"0": ("contacts.csv", body, "text/csv")},
        timeout=60,
    )


def post(base: str, token: str, query: str, **variables: Any) -> Row:
    response = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    data: Row = response.json()["data"]
    return data


def started(base: str, token: str, body: bytes) -> str:
    response = upload(base, token, body)
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["startImport"]
    assert payload["userErrors"] == [], payload
    assert payload["import"]["status"] == "QUEUED"
    import_id: str = payload["import"]["id"]
    return import_id


async def finished(
    base: str, token: str, import_id: str, workers: tuple[ManagedProcess, ...], within: float
) -> Row:
    async def probe() -> Row | None:
        row: Row = (await asyncio.to_thread(post, base, token, IMPORT, id=import_id))["import"]
        return row if row["status"] in ("COMPLETED", "FAILED", "CANCELLED") else None

    return await eventually(probe, within=within, what="the import to end", processes=workers)


def counts(row: Row) -> Row:
    return {k: row[k] for k in ("status", "rows", "processed", "created", "updated", "failed")}


async def test_i1_a_multipart_upload_is_imported_by_a_worker(place: Place) -> None:
    rows = [f"p{n}@example.com,P{n}" for n in range(1, 1201)]
    rows[99] = "not-an-email,Bad"  # row 100
    body = ("\ufeffemail,First Name\r\n" + "\r\n".join(rows) + "\r\n").encode()
    async with serving(place) as (base, token, _):
        worker = await place.started_worker("worker-1")
        import_id = await asyncio.to_thread(started, base, token, body)
        done = await finished(base, token, import_id, (worker,), WAIT_SECONDS)
        assert counts(done) == {
            "status": "COMPLETED",
            "rows": 1200,
            "processed": 1200,
            "created": 1199,
            "updated": 0,
            "failed": 1,
        }, log_of(worker)[-3000:]
        assert [e["node"] for e in done["errors"]["edges"]] == [
            {"row": 100, "column": "email", "code": "INVALID"}
        ]
        usage = (await asyncio.to_thread(post, base, token, USAGE))["usage"]
        assert usage["totalContacts"] == 1199
        # I5 over HTTP: the same key and file answer with the same import
        first = await asyncio.to_thread(upload, base, token, b"email\nk@example.com\n", key="k")
        again = await asyncio.to_thread(upload, base, token, b"email\nk@example.com\n", key="k")
        ids = [r.json()["data"]["startImport"]["import"]["id"] for r in (first, again)]
        assert ids[0] == ids[1]


async def test_i1_uploads_are_bounded_and_other_bodies_keep_their_limits(place: Place) -> None:
    async with serving(place, IMPORT_MAX_BYTES="1000") as (base, token, _):
        over_the_file_bound = await asyncio.to_thread(upload, base, token, b"email\n" + b"x" * 2000)
        errors = over_the_file_bound.json()["data"]["startImport"]["userErrors"]
        assert [(e["code"], e["field"]) for e in errors] == [("INVALID", ["input", "file"])]
        huge = b"email\n" + b"x" * 1_100_000  # past the bound and the envelope: refused early
        assert (await asyncio.to_thread(upload, base, token, huge)).status_code == 413
        no_file = await asyncio.to_thread(upload, base, token, b"email\n", files=False)
        assert no_file.status_code == 400
        plain = await asyncio.to_thread(
            httpx.post,
            f"{base}/graphql",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
            content=b"{}",
        )
        assert plain.status_code == 415
        json_too_large = await asyncio.to_thread(
            httpx.post,
            f"{base}/graphql",
            headers={"Authorization": f"Bearer {token}"},
            json={"query": "{ usage { totalContacts } }", "pad": "x" * 1_100_000},
        )
        assert json_too_large.status_code == 413


async def test_i1_a_worker_killed_mid_import_is_resumed_by_another_exactly_once(
    place: Place,
) -> None:
    place.env_overrides.update(BULK_CHUNK_SIZE="20", BULK_LEASE_SECONDS="3")
    total = 3000
    body = "email,firstName\n" + "".join(f"k{n}@example.com,K{n}\n" for n in range(total))
    # the dead worker's transaction, if it died inside one, is aborted as mongod would
    async with serving(place) as (base, token, runtime), transaction_reaper(runtime.mongo):
        first = await place.started_worker("worker-1")
        import_id = await asyncio.to_thread(started, base, token, body.encode())

        async def midway() -> Row | None:
            row: Row = (await asyncio.to_thread(post, base, token, IMPORT, id=import_id))["import"]
            return row if row["status"] == "RUNNING" and 0 < row["rows"] < total else None

        await eventually(midway, within=WAIT_SECONDS, what="the first chunks", processes=(first,))
        kill_hard(first)
        at_kill = await runtime.services.ports.imports.load(import_id)
        assert at_kill is not None and at_kill.lease_until is not None
        assert 0 < at_kill.counts.rows < total
        await until_past(at_kill.lease_until)
        second = await place.started_worker("worker-2")
        done = await finished(base, token, import_id, (second,), WAIT_SECONDS + 90)
        assert counts(done) == {
            "status": "COMPLETED",
            "rows": total,
            "processed": total,
            "created": total,
            "updated": 0,
            "failed": 0,
        }, log_of(second)[-4000:]
        assert "was left past its lease" in log_of(second)
        usage = (await asyncio.to_thread(post, base, token, USAGE))["usage"]
        assert usage["totalContacts"] == total  # each row applied once

"""`marketing-contacts import FILE` end to end (I1-I4): the real command uploads a CSV file to a
real `marketing-contacts serve` process as startImport's multipart upload, a real worker applies
it, and the command follows it to its end and prints the counts (or, with --json, one JSON
object). A token the API refuses, or a file that is not there, ends it with exit 2 and one line,
never a traceback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from marketing_contacts.dev.processes import free_port
from marketing_contacts.dev.servers import MongoServer, RedisServer
from tests.support.api import environment, start_api
from tests.support.cli import run_cli
from tests.support.servers import unique_database_name
from tests.support.workers import Place, log_of


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
async def serving(place: Place) -> AsyncIterator[tuple[str, str]]:
    """An API process on the place: its base URL and the token of a new account's admin."""
    token = str(place.cli("accounts", "create", "--name", "Importer")["token"])
    api_env = environment(place.mongo_uri, place.redis_url, place.database, free_port())
    api, base = await asyncio.to_thread(start_api, api_env, place.work_dir / "api.log")
    try:
        yield base, token
    finally:
        api.stop()


def csv_file(place: Place, name: str, *rows: str) -> Path:
    path = place.work_dir / name
    path.write_text("email,First Name\n" + "".join(f"{row}\n" for row in rows))
    return path


async def test_i1_the_cli_imports_a_file_and_reports_its_final_counts(place: Place) -> None:
    async with serving(place) as (base, token):
        worker = await place.started_worker()
        first = csv_file(
            place, "first.csv", "ada@example.com,Ada", "bob@example.com,Bob", "not-an-email,Bad"
        )
        done = await asyncio.to_thread(
            run_cli, place.env(), "import", str(first), "--token", token, "--url", base, "--json"
        )
        assert done.returncode == 0, done.stderr + log_of(worker)[-2000:]
        final = json.loads(done.stdout.strip().splitlines()[-1])
        assert {k: final[k] for k in ("status", "fileName", "rows", "processed")} == {
            "status": "COMPLETED",
            "fileName": "first.csv",
            "rows": 3,
            "processed": 3,
        }
        assert (final["created"], final["updated"], final["unchanged"], final["failed"]) == (
            2,
            0,
            0,
            1,
        )
        assert [(e["row"], e["column"], e["code"]) for e in final["errors"]] == [
            (3, "email", "INVALID")
        ]

        # I2 without --json: matched by email (case aside), one changed, one as it was, one new
        second = csv_file(
            place,
            "second.csv",
            "ADA@example.com,Ada",
            "bob@example.com,Robert",
            "cy@example.com,Cy",
        )
        shown = await asyncio.to_thread(
            run_cli, place.env(), "import", str(second), "--token", token, "--url", base
        )
        assert shown.returncode == 0, shown.stderr
        assert "COMPLETED: 3 rows" in shown.stdout
        assert "created 1, updated 1, unchanged 1, failed 0" in shown.stdout
        assert "Traceback" not in shown.stdout + shown.stderr


async def test_i1_a_refused_token_or_a_missing_file_exits_2_with_one_line(place: Place) -> None:
    async with serving(place) as (base, _):
        file = csv_file(place, "contacts.csv", "ada@example.com,Ada")
        refused = await asyncio.to_thread(
            run_cli, place.env(), "import", str(file), "--token", "wrong", "--url", base
        )
        assert refused.returncode == 2
        assert "the token was refused (401)" in refused.stderr
        assert "Traceback" not in refused.stdout + refused.stderr

        missing = await asyncio.to_thread(
            run_cli,
            place.env(),
            "import",
            str(place.work_dir / "absent.csv"),
            "--token",
            "wrong",
            "--url",
            base,
        )
        assert missing.returncode == 2
        assert missing.stderr.strip() == f"error: {place.work_dir / 'absent.csv'}: no such file"
        assert "Traceback" not in missing.stdout + missing.stderr

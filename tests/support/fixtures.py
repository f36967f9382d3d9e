"""Fixtures for servers, clients and settings (a pytest plugin, loaded by tests/conftest.py).

Every test and async fixture runs on one session-wide event loop (pyproject.toml sets
asyncio_default_fixture_loop_scope and asyncio_default_test_loop_scope to "session"), so one
AsyncMongoClient serves the whole session. Servers start only when a test asks for them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from marketing_contacts.dev.processes import free_port
from marketing_contacts.dev.servers import MongoServer, RedisServer
from marketing_contacts.settings import Settings
from tests.support.api import environment
from tests.support.servers import start_test_mongo, start_test_redis, unique_database_name

Document = dict[str, Any]


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoServer]:
    """A SecantusDB server (in memory, free port) for the whole session."""
    server = start_test_mongo(tmp_path_factory.mktemp("mongo"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server (no persistence, free port) for the whole session."""
    server = start_test_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mongo_database_name(request: pytest.FixtureRequest) -> str:
    """A database name of this test module's own, different in every module."""
    return unique_database_name(request.module.__name__)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def mongo_client(mongo_server: MongoServer) -> AsyncIterator[AsyncMongoClient[Document]]:
    """The session's AsyncMongoClient (tz_aware), bound to the session's event loop."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongo_server.uri, tz_aware=True)
    yield client
    await client.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def mongo_database(
    mongo_client: AsyncMongoClient[Document], mongo_database_name: str
) -> AsyncIterator[AsyncDatabase[Document]]:
    """This module's database; dropped when the module's tests are done."""
    yield mongo_client[mongo_database_name]
    await mongo_client.drop_database(mongo_database_name)


@pytest.fixture(scope="module")
def settings_for_tests(
    mongo_server: MongoServer,
    redis_server: RedisServer,
    mongo_database_name: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    """Settings pointing to the session's servers and this module's database."""
    var_dir: Path = tmp_path_factory.mktemp("var")
    return Settings(
        mongodb_uri=mongo_server.uri,
        mongodb_database=mongo_database_name,
        redis_url=redis_server.url,
        environment="development",
        var_dir=var_dir,
    )


@pytest.fixture(scope="module")
def api_environment(
    mongo_server: MongoServer, redis_server: RedisServer, mongo_database_name: str
) -> dict[str, str]:
    """The environment of an API process in production mode on the session's servers and this
    module's database, listening on a free port (PORT)."""
    return environment(mongo_server.uri, redis_server.url, mongo_database_name, free_port())

"""Contract fixtures: every test of tests/contract runs twice, on the in-memory fakes of the unit
tests and on the adapters the service runs on (MongoDB on SecantusDB, Redis for the events and
the job queue), each time over stores of its own (a fresh database per test).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from pymongo import AsyncMongoClient

from marketing_contacts.dev.servers import RedisServer
from marketing_contacts.services.wiring import Ports
from tests.contract.implementations import ADAPTER, FAKE, REDIS_DATABASE, adapter_ports
from tests.support.fixtures import Document
from tests.support.servers import unique_database_name
from tests.support.workers import redis_url_with_database
from tests.unit.services.fakes import fake_world


@pytest.fixture(params=[FAKE, ADAPTER])
def implementation(request: pytest.FixtureRequest) -> str:
    """Which side of the port a test runs on: the fake, or the adapter the service runs on."""
    param: str = request.param
    return param


@pytest.fixture(scope="session")
def contract_redis_url(redis_server: RedisServer) -> str:
    return redis_url_with_database(redis_server.url, REDIS_DATABASE)


@pytest_asyncio.fixture
async def ports(
    implementation: str,
    mongo_client: AsyncMongoClient[Document],
    contract_redis_url: str,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Ports]:
    """Every port, as the fakes implement them or as the service wires its adapters."""
    if implementation == FAKE:
        yield fake_world().ports()
        return
    database = unique_database_name(request.node.name)
    async with adapter_ports(mongo_client, database, contract_redis_url) as wired:
        yield wired

"""The two sides of every port: the in-memory fakes of the unit tests, and the adapters the
service runs on (MongoDB, Redis), wired as the service wires them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from arq.connections import ArqRedis
from pymongo import AsyncMongoClient

from marketing_contacts.events.publisher import RedisEventPublisher
from marketing_contacts.runtime import SystemClock
from marketing_contacts.services.wiring import Ports
from marketing_contacts.storage.database import Mongo
from marketing_contacts.storage.wiring import mongo_ports, prepare
from marketing_contacts.workers.queue import ArqJobQueue
from tests.support.fixtures import Document

FAKE = "fake"
ADAPTER = "adapter"
#: the contract tests' own Redis database (arq's queue key is the same in every database)
REDIS_DATABASE = 15


@asynccontextmanager
async def adapter_ports(
    client: AsyncMongoClient[Document], database: str, redis_url: str
) -> AsyncIterator[Ports]:
    """The service's ports over a database of their own (its indexes made, dropped at the
    end) and the contract tests' Redis database (emptied at the end)."""
    mongo = Mongo(client, database)
    await prepare(mongo)
    redis = ArqRedis.from_url(redis_url)
    try:
        yield mongo_ports(mongo, RedisEventPublisher(redis), ArqJobQueue(redis), SystemClock())
    finally:
        await redis.flushdb()
        await redis.aclose()
        await client.drop_database(database)

"""The resources of one process: MongoDB and Redis clients and the services over them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import Redis

from marketing_contacts.clock import SystemClock
from marketing_contacts.events.publisher import RedisEventPublisher
from marketing_contacts.services.ports import Clock
from marketing_contacts.services.registry import Services
from marketing_contacts.settings import Settings
from marketing_contacts.storage.database import Mongo, connect
from marketing_contacts.storage.wiring import mongo_ports, prepare


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    mongo: Mongo
    redis: Redis
    services: Services


@asynccontextmanager
async def open_runtime(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Runtime]:
    """Connect, create the indexes, and close everything on the way out."""
    mongo = connect(settings.mongodb_uri, settings.mongodb_database)
    redis = Redis.from_url(settings.redis_url)
    try:
        await prepare(mongo)
        ports = mongo_ports(mongo, RedisEventPublisher(redis), clock or SystemClock())
        yield Runtime(settings, mongo, redis, Services.over(ports))
    finally:
        await redis.aclose()
        await mongo.client.close()

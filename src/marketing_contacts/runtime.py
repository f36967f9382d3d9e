"""The composition root: the resources of one process (MongoDB and Redis clients), the services
over them, the live-event feed, and the schema, wired from the adapters.

Entry points (http, cli, dev, the worker) build what they serve from here, and only here do the
adapters (storage, events, schema, the job queue) meet.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from arq.connections import ArqRedis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from marketing_contacts.domain.rate_limits import RateLimit
from marketing_contacts.events.hub import EventHub
from marketing_contacts.events.publisher import RedisEventPublisher
from marketing_contacts.limits.rates import RedisRateLimiter
from marketing_contacts.schema.build import Schema, build_schema
from marketing_contacts.services.bulk_runner import BulkRunnerSettings
from marketing_contacts.services.ports.clock import Clock
from marketing_contacts.services.ports.rate_limits import RateLimiter
from marketing_contacts.services.registry import Services
from marketing_contacts.settings import Environment, Server, Settings
from marketing_contacts.storage.database import Mongo, connect
from marketing_contacts.storage.errors import database_unavailable
from marketing_contacts.storage.wiring import mongo_ports, prepare
from marketing_contacts.workers.queue import ArqJobQueue

#: how long a check waits for Redis to answer a PING
REDIS_PING_TIMEOUT_SECONDS = 5.0


class SystemClock:
    """The real clock (tests pass their own)."""

    def now(self) -> datetime:
        """Now, to the millisecond: what MongoDB stores, so that what a mutation answers equals
        what a later read returns (a contact's statusChangedAt and its history entry's `at`)."""
        now = datetime.now(UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    mongo: Mongo
    redis: ArqRedis
    #: the job queue the services hand work to (the worker also asks it about its own jobs)
    jobs: ArqJobQueue
    services: Services
    #: P5: the rate limit of every token, shared with the other API processes on Redis
    rate_limiter: RateLimiter


#: the served GraphQL schema; a database that does not answer reaches its clients as UNAVAILABLE
SCHEMA = build_schema(database_unavailable)


@cache
def schema_for(environment: Environment) -> Schema:
    """The schema an API process serves: SCHEMA in development; in production one that refuses
    introspection and suggests no names (built on first use)."""
    if environment == "development":
        return SCHEMA
    return build_schema(database_unavailable, production=True)


@asynccontextmanager
async def event_feed(runtime: Runtime) -> AsyncIterator[EventHub]:
    """This process's feed of live events (one Redis subscription per account listened to)."""
    hub = EventHub(runtime.redis)
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()


@asynccontextmanager
async def open_runtime(
    settings: Settings, clock: Clock | None = None, **mongo_options: Any
) -> AsyncIterator[Runtime]:
    """Connect, create the indexes, and close everything on the way out. `mongo_options` go to
    the MongoDB client (benchmarks pass command listeners)."""
    mongo = connect(
        settings.mongodb_uri,
        settings.mongodb_database,
        **{**timeout_options(settings), **mongo_options},
    )
    redis = ArqRedis.from_url(settings.redis_url)
    try:
        await prepare(mongo)
        jobs = ArqJobQueue(redis)
        ports = mongo_ports(mongo, RedisEventPublisher(redis), jobs, clock or SystemClock())
        bulk = BulkRunnerSettings(
            chunk=settings.bulk_chunk_size,
            lease=timedelta(seconds=settings.bulk_lease_seconds),
            turn_pages=settings.bulk_turn_pages,
            turn_length=timedelta(seconds=settings.bulk_turn_seconds),
        )
        limit = RateLimit(settings.rate_limit_requests, settings.rate_limit_window_seconds)
        yield Runtime(
            settings,
            mongo,
            redis,
            jobs,
            Services.over(
                ports,
                bulk,
                settings.max_active_background_operations,
                settings.engagements_per_record_limit,
                settings.import_max_bytes,
            ),
            RedisRateLimiter(redis, limit),
        )
    finally:
        await redis.aclose()
        await mongo.client.close()


def timeout_options(settings: Settings) -> dict[str, int]:
    """MONGODB_TIMEOUT_SECONDS bounds finding a server (serverSelectionTimeoutMS) and every
    operation, a hung server's included (timeoutMS), unless the URI names its own."""
    query = urlsplit(settings.mongodb_uri).query
    named = {name.lower() for name, _ in parse_qsl(query, keep_blank_values=True)}
    milliseconds = int(settings.mongodb_timeout_seconds * 1000)
    return {
        option: milliseconds
        for option in ("serverSelectionTimeoutMS", "timeoutMS")
        if option.lower() not in named
    }


def server_away(error: BaseException) -> Server | None:
    """The server an error says did not answer; None when it says something else."""
    if database_unavailable(error):
        return "MongoDB"
    if isinstance(error, RedisConnectionError | RedisTimeoutError):
        return "Redis"
    return None


async def reach(settings: Settings, servers: Collection[Server]) -> None:
    """Ping each of `servers` (MongoDB within MONGODB_TIMEOUT_SECONDS): what an entry point
    checks before it starts. An error that server_away names is raised when one does not."""
    if "MongoDB" in servers:
        mongo = connect(
            settings.mongodb_uri, settings.mongodb_database, **timeout_options(settings)
        )
        try:
            await mongo.client.admin.command("ping")
        finally:
            await mongo.client.close()
    if "Redis" in servers:
        redis = ArqRedis.from_url(settings.redis_url)
        try:
            await asyncio.wait_for(redis.ping(), REDIS_PING_TIMEOUT_SECONDS)
        except TimeoutError as error:
            raise RedisTimeoutError("no answer to PING") from error
        finally:
            await redis.aclose()

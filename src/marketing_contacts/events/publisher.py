"""Publishing events to Redis."""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

from marketing_contacts.events.messages import channel_of, encode
from marketing_contacts.services.ports.events import Event


class RedisEventPublisher:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def publish(self, account_id: str, events: Sequence[Event]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.publish(channel_of(account_id, event), encode(event))
            await pipe.execute()

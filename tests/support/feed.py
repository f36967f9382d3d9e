"""The live-event feed as Redis sees it: whether an API process listens on an account."""

from __future__ import annotations

from redis.asyncio import Redis

from marketing_contacts.events.messages import channel
from tests.support.waiting import eventually


async def listeners(redis: Redis, account_id: str) -> int:
    """How many Redis connections are subscribed to the account's channel (PUBSUB NUMSUB)."""
    counts = await redis.pubsub_numsub(channel(account_id))
    return int(counts[0][1]) if counts else 0


async def listening(redis_url: str, account_id: str, at_least: int = 1) -> None:
    """Until Redis reports `at_least` subscribers of the account's channel: an API process
    listens from then on, so nothing published for the account afterwards is lost to it."""
    redis = Redis.from_url(redis_url)
    try:

        async def subscribed() -> bool | None:
            return True if await listeners(redis, account_id) >= at_least else None

        await eventually(subscribed, within=10, what=f"a listener on account {account_id}")
    finally:
        await redis.aclose()

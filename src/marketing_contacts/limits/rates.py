"""P5 on Redis: the rate limit of every token, shared by every API process.

One Lua script (EVALSHA, EVAL when Redis does not hold it yet) reads the token's `tat`, decides
and writes it back, atomically: concurrent requests of one token on any number of processes are
counted exactly, by one clock (Redis's own TIME, unless a test passes a clock). The arithmetic is
domain.rate_limits'. The key expires when the bucket is full again, so an idle token keeps
nothing.

While Redis does not answer (within REDIS_TIMEOUT_SECONDS), requests are admitted: the limit
fails open, and the log says so once when Redis goes away and once when it is back.
"""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from marketing_contacts.domain.rate_limits import Admission, RateLimit, microseconds, refused
from marketing_contacts.services.ports.clock import Clock

log = logging.getLogger(__name__)
KEY_PREFIX = "mc:rate:"
#: a request waits at most this long for Redis to decide; then it is admitted
REDIS_TIMEOUT_SECONDS = 1.0

#: KEYS[1] the token's key; ARGV: interval and tolerance (microseconds), now ("" for Redis TIME).
#: Returns {1, 0} admitted, or {0, microseconds to wait}. Lua numbers are doubles: whole numbers
#: up to 2^53 (285 years of microseconds) are exact, and %.0f writes them without an exponent.
SCRIPT = """
local now
if ARGV[3] == "" then
  local time = redis.call("TIME")
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
else
  now = tonumber(ARGV[3])
end
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local start = now
local tat = tonumber(redis.call("GET", KEYS[1]))
if tat ~= nil and tat > now then
  start = tat
end
if start - now > tolerance then
  return {0, start - now - tolerance}
end
local kept = start + interval
local ttl = math.ceil((kept - now) / 1000) + 1
redis.call("SET", KEYS[1], string.format("%.0f", kept), "PX", string.format("%.0f", ttl))
return {1, 0}
"""


class RedisRateLimiter:
    def __init__(self, redis: Redis, limit: RateLimit, clock: Clock | None = None) -> None:
        self.limit = limit
        self.clock = clock
        self.script = redis.register_script(SCRIPT)
        #: whether Redis was away at the last request (the log says so once an outage)
        self.away = False

    async def admit(self, key: str) -> Admission:
        now = "" if self.clock is None else str(microseconds(self.clock.now()))
        arguments: list[int | str] = [self.limit.interval, self.limit.tolerance, now]
        try:
            async with asyncio.timeout(REDIS_TIMEOUT_SECONDS):
                admitted, wait = await self.script(keys=[KEY_PREFIX + key], args=arguments)
        except (RedisError, OSError, TimeoutError) as error:
            if not self.away:
                log.warning(
                    "rate limits are off: Redis did not answer (%r); requests are served "
                    "unlimited until it is back",
                    error,
                )
                self.away = True
            return Admission(admitted=True)
        if self.away:
            log.warning("Redis answers again: rate limits apply")
            self.away = False
        return Admission(admitted=True) if admitted else refused(int(wait))

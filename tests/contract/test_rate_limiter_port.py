"""RateLimiter (P5): the fake and the Redis script decide alike, on a clock the test moves; on
Redis's own clock the limit holds for concurrent requests exactly, and keys are independent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio
from arq.connections import ArqRedis

from marketing_contacts.domain.rate_limits import Admission, RateLimit
from marketing_contacts.limits.rates import RedisRateLimiter
from marketing_contacts.services.ports.clock import Clock
from marketing_contacts.services.ports.rate_limits import RateLimiter
from tests.contract.implementations import ADAPTER, FAKE
from tests.unit.services.fake_rate_limits import FakeRateLimiter
from tests.unit.services.fakes import FakeClock

MakeLimiter = Callable[[RateLimit, Clock | None], RateLimiter]


@pytest_asyncio.fixture
async def redis(contract_redis_url: str) -> AsyncIterator[ArqRedis]:
    redis = ArqRedis.from_url(contract_redis_url)
    try:
        yield redis
    finally:
        await redis.flushdb()
        await redis.aclose()


@pytest.fixture(params=[FAKE, ADAPTER])
def make_limiter(request: pytest.FixtureRequest, redis: ArqRedis) -> MakeLimiter:
    def make(limit: RateLimit, clock: Clock | None) -> RateLimiter:
        if request.param == FAKE:
            return FakeRateLimiter(limit, clock or FakeClock())
        return RedisRateLimiter(redis, limit, clock)

    return make


async def admissions(limiter: RateLimiter, key: str, times: int) -> list[Admission]:
    return [await limiter.admit(key) for _ in range(times)]


async def test_p5_a_burst_then_a_refusal_with_retry_after_then_one_per_interval(
    make_limiter: MakeLimiter,
) -> None:
    clock = FakeClock()
    limiter = make_limiter(RateLimit(150, 10), clock)
    burst = await admissions(limiter, "token-1", 151)
    assert [a.admitted for a in burst] == [True] * 150 + [False]
    assert burst[-1].retry_after == 1
    clock.advance(milliseconds=66)  # less than one interval (66,666 µs)
    assert not (await limiter.admit("token-1")).admitted
    clock.advance(milliseconds=1)
    assert [a.admitted for a in await admissions(limiter, "token-1", 2)] == [True, False]
    clock.advance(seconds=10)
    assert sum(a.admitted for a in await admissions(limiter, "token-1", 200)) == 150


async def test_p5_retry_after_is_whole_seconds_until_a_request_passes(
    make_limiter: MakeLimiter,
) -> None:
    clock = FakeClock()
    limiter = make_limiter(RateLimit(2, 60), clock)
    await admissions(limiter, "token-1", 2)
    assert await limiter.admit("token-1") == Admission(admitted=False, retry_after=30)
    clock.advance(seconds=29, milliseconds=500)
    assert await limiter.admit("token-1") == Admission(admitted=False, retry_after=1)
    clock.advance(milliseconds=500)
    assert (await limiter.admit("token-1")).admitted


async def test_p5_each_key_has_its_own_limit(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter(RateLimit(3, 60), FakeClock())
    assert sum(a.admitted for a in await admissions(limiter, "token-1", 5)) == 3
    assert sum(a.admitted for a in await admissions(limiter, "token-2", 5)) == 3


@pytest.mark.parametrize("clocked", [True, False], ids=["test-clock", "own-clock"])
async def test_p5_concurrent_requests_are_counted_exactly(
    make_limiter: MakeLimiter, clocked: bool
) -> None:
    """Two limiters stand for two API processes sharing the store (on the adapter, Redis)."""
    clock = FakeClock() if clocked else None
    first = make_limiter(RateLimit(40, 3600), clock)
    second = (
        first if isinstance(first, FakeRateLimiter) else make_limiter(RateLimit(40, 3600), clock)
    )
    told = await asyncio.gather(*(limiter.admit("token-1") for limiter in [first, second] * 50))
    assert sum(a.admitted for a in told) == 40
    assert {a.retry_after for a in told if not a.admitted} == {90}

"""P5 on real servers: the in-process app answers a token past its rate limit with 429,
Retry-After and RATE_LIMITED before GraphQL runs, other tokens unaffected; the Redis limiter
fails open while its Redis is away, saying so once, and limits again once it is back."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from arq.connections import ArqRedis

from marketing_contacts.dev.processes import free_port
from marketing_contacts.dev.servers import RedisServer, start_redis
from marketing_contacts.domain.rate_limits import Admission, RateLimit
from marketing_contacts.domain.users import Role
from marketing_contacts.limits.rates import RedisRateLimiter
from marketing_contacts.services.users import UserDraft
from marketing_contacts.settings import Settings
from tests.support.app import ServedApp, served

LIMIT = 3
CREATE = """mutation($e: String) { createContact(input: {email: $e}) { contact { id } } }"""
COUNT = "{ usage { totalContacts } }"
Body = dict[str, Any]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def app(settings_for_tests: Settings) -> AsyncIterator[ServedApp]:
    limited = {"rate_limit_requests": LIMIT, "rate_limit_window_seconds": 3600}
    async with served(settings_for_tests.model_copy(update=limited)) as app:
        yield app


async def post(app: ServedApp, token: str, query: str, **variables: str) -> tuple[int, Body]:
    response = await app.http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.status_code, response.json() | {"headers": dict(response.headers)}


async def test_p5_past_the_limit_a_request_is_429_with_retry_after_and_runs_nothing(
    app: ServedApp,
) -> None:
    token, other = await app.new_token("Limited"), await app.new_token("Other")
    for n in range(LIMIT):
        status, body = await post(app, token, CREATE, e=f"c{n}@example.com")
        assert status == 200 and "errors" not in body, body

    status, body = await post(app, token, CREATE, e="refused@example.com")
    assert status == 429
    retry_after = body["headers"]["retry-after"]
    assert retry_after.isdigit() and 1 <= int(retry_after) <= 3600 // LIMIT
    assert body["headers"]["content-type"] == "application/json"
    [error] = body["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": int(retry_after)}
    assert f"more than {LIMIT} requests in 3600 s" in error["message"]

    # the refused mutation ran nothing: the account has the contacts of the admitted three
    # (read with another token of the same account, which has its own limit)
    caller = await app.runtime.services.tokens.authenticate(token)
    assert caller is not None
    services = app.runtime.services
    reader = await services.users.add(
        caller.account_id,
        UserDraft(name="Reader", email=None, role=Role.READ_ONLY, marketing_access=False),
    )
    _, issued = await services.tokens.issue(reader, "reader")
    status, body = await post(app, issued, COUNT)
    assert (status, body["data"]) == (200, {"usage": {"totalContacts": LIMIT}})
    # another account's token is not limited by this one
    assert (await post(app, other, COUNT))[0] == 200


async def test_p5_a_request_without_a_valid_token_is_401_not_counted(app: ServedApp) -> None:
    for _ in range(LIMIT + 2):
        status, body = await post(app, "mc_not-a-token", COUNT)
        assert status == 401
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_p5_while_redis_is_away_requests_are_admitted_and_the_log_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()

    def redis_up() -> RedisServer:
        return start_redis(port=port, data_dir=tmp_path / "redis", persistent=False)

    server = redis_up()
    redis = ArqRedis.from_url(server.url)
    limiter = RedisRateLimiter(redis, RateLimit(1, 3600))
    try:
        assert (await limiter.admit("token-1")).admitted
        assert not (await limiter.admit("token-1")).admitted
        server.stop()
        caplog.set_level(logging.WARNING, logger="marketing_contacts.limits.rates")
        assert [await limiter.admit("token-1") for _ in range(5)] == [Admission(True)] * 5
        away = [r for r in caplog.records if "rate limits are off" in r.getMessage()]
        assert len(away) == 1

        server = redis_up()  # a fresh Redis (no persistence): the token starts over
        assert (await limiter.admit("token-1")).admitted
        assert not (await limiter.admit("token-1")).admitted
        back = [r for r in caplog.records if "rate limits apply" in r.getMessage()]
        assert len(back) == 1
        assert len([r for r in caplog.records if "rate limits are off" in r.getMessage()]) == 1
    finally:
        await redis.aclose()
        server.stop()

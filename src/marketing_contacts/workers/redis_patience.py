"""How a worker waits out a Redis outage instead of ending.

Every Redis command of the worker retries with a backoff capped at 5 s, forever, and says so in
the log about once a minute. Only a stop (SIGTERM, SIGINT) ends the wait, so that a worker told
to stop during an outage stops at once. What the retries cannot cover (arq's job pick-up runs
in a watched transaction, which redis does not retry), workers.run handles by polling again.
"""

from __future__ import annotations

import logging

from arq.connections import RedisSettings
from redis.asyncio.retry import Retry as RedisRetry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

#: Redis away, as the worker meets it (OSError: a refused connection, before redis wraps it)
REDIS_AWAY: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError, OSError)


class PatientBackoff(ExponentialBackoff):
    """Backoff capped at 5 s, forever, saying so in the log about once a minute; once the
    worker is told to stop, it waits no more (its shutdown must not hang on Redis)."""

    def __init__(self) -> None:
        super().__init__(cap=5.0, base=0.1)
        self.waiting = True

    def stop_waiting(self) -> None:
        self.waiting = False

    def __deepcopy__(self, memo: dict[int, object]) -> PatientBackoff:
        """Every connection deep-copies its retry policy: they all share this one backoff, so
        that stopping the wait stops it everywhere."""
        return self

    def compute(self, failures: int) -> float:
        if not self.waiting:
            raise RedisConnectionError("Redis does not answer and the worker is stopping")
        if failures == 1 or failures % 12 == 0:
            log.warning("Redis does not answer (%d tries); the worker waits for it", failures)
        return float(super().compute(failures))


#: how the worker waits for Redis; `marketing-contacts worker` ends the wait on SIGTERM/SIGINT
REDIS_PATIENCE = PatientBackoff()


def redis_settings(url: str, patience: PatientBackoff = REDIS_PATIENCE) -> RedisSettings:
    """The worker outlives a Redis outage: each command it sends retries with backoff (capped
    at 5 s) until Redis answers again, instead of ending the worker, and so does a worker that
    starts while Redis is away."""
    settings = RedisSettings.from_dsn(url)
    settings.retry = RedisRetry(patience, retries=-1)
    settings.retry_on_error = list(REDIS_AWAY)
    return settings

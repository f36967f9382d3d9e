"""P5: the rate limit of a token, as arithmetic (GCRA, the generic cell rate algorithm: a token
bucket kept as one number).

A limit of `requests` per `window` lets a burst of `requests` through at once, then one request
every `interval` (window / requests). What is kept per token is its *theoretical arrival time*
(`tat`): when its bucket would be full again. A request at `now` is admitted when the bucket has
room, i.e. `tat` is at most `tolerance` ahead of `now`, and moves `tat` one interval on; a refused
request changes nothing. Times are whole microseconds, so that the Redis script that applies the
same steps atomically (limits.rates) computes exactly what this module does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MICROSECONDS = 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def microseconds(at: datetime) -> int:
    """`at` as whole microseconds since the epoch (exact, where a float timestamp is not)."""
    return (at - EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True)
class RateLimit:
    requests: int
    window_seconds: float

    def __post_init__(self) -> None:
        if self.requests < 1 or self.interval < 1:
            raise ValueError("a rate limit admits at least one request, at most one a microsecond")

    @property
    def interval(self) -> int:
        """Microseconds between two requests at the sustained rate (rounded down: never fewer
        than `requests` a window)."""
        return int(self.window_seconds * MICROSECONDS) // self.requests

    @property
    def tolerance(self) -> int:
        """How far ahead of now `tat` may be for a request to pass: a burst of `requests`."""
        return self.interval * (self.requests - 1)


@dataclass(frozen=True)
class Admission:
    admitted: bool
    #: refused: whole seconds until a request would pass (at least 1); admitted: 0
    retry_after: int = 0


@dataclass(frozen=True)
class Decision:
    """What one request decides: the admission, and the `tat` to keep (unchanged if refused)."""

    admission: Admission
    tat: int


def admit(limit: RateLimit, tat: int | None, now: int) -> Decision:
    """The request at `now` (microseconds) against the token's kept `tat` (None: none kept)."""
    start = now if tat is None else max(tat, now)
    ahead = start - now
    if ahead > limit.tolerance:
        return Decision(refused(ahead - limit.tolerance), start)
    return Decision(Admission(admitted=True), start + limit.interval)


def refused(wait: int) -> Admission:
    """A refusal `wait` microseconds before a request would pass: Retry-After in whole seconds,
    rounded up (a client that waits that long is admitted), at least 1."""
    return Admission(admitted=False, retry_after=max(1, -(-wait // MICROSECONDS)))

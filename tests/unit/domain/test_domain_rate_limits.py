"""P5: the arithmetic of a token's rate limit (GCRA), on a clock the test moves: a burst of the
limit at once, then one request an interval; a refused request counts nothing and says how many
whole seconds to wait."""

from __future__ import annotations

import pytest

from marketing_contacts.domain.rate_limits import (
    MICROSECONDS,
    Admission,
    RateLimit,
    admit,
    microseconds,
)
from tests.unit.services.fakes import DEFAULT_NOW

START = microseconds(DEFAULT_NOW)


def run(limit: RateLimit, at: list[int]) -> list[Admission]:
    """The admissions of requests at these times (microseconds after START), in order."""
    tat: int | None = None
    admissions = []
    for offset in at:
        decision = admit(limit, tat, START + offset)
        tat = decision.tat
        admissions.append(decision.admission)
    return admissions


def admitted(admissions: list[Admission]) -> int:
    return sum(admission.admitted for admission in admissions)


def test_p5_the_default_admits_a_burst_of_150_and_refuses_the_151st() -> None:
    limit = RateLimit(150, 10)
    admissions = run(limit, [0] * 151)
    assert admitted(admissions) == 150
    assert admissions[-1] == Admission(admitted=False, retry_after=1)


def test_p5_after_a_burst_one_request_passes_each_interval() -> None:
    limit = RateLimit(150, 10)
    interval = limit.interval
    assert interval == 66_666  # microseconds: never fewer than 150 in 10 s
    burst = [0] * 150
    after = [interval - 1, interval, interval, 2 * interval]
    admissions = run(limit, burst + after)[150:]
    assert [a.admitted for a in admissions] == [False, True, False, True]


def test_p5_a_refused_request_counts_nothing() -> None:
    limit = RateLimit(2, 10)
    refused_many = run(limit, [0, 0, *[1] * 100, 5 * MICROSECONDS])
    assert admitted(refused_many) == 3  # the two, and one once half the window passed


def test_p5_a_full_window_later_the_whole_burst_is_back() -> None:
    limit = RateLimit(3, 10)
    window = 10 * MICROSECONDS
    admissions = run(limit, [0, 0, 0, 0, window, window, window, window])
    assert [a.admitted for a in admissions] == [True] * 3 + [False] + [True] * 3 + [False]


@pytest.mark.parametrize(
    ("offset", "retry_after"),
    [(0, 10), (1, 10), (MICROSECONDS, 9), (9 * MICROSECONDS + 1, 1), (10 * MICROSECONDS - 1, 1)],
)
def test_p5_retry_after_is_the_wait_in_whole_seconds_rounded_up_and_at_least_one(
    offset: int, retry_after: int
) -> None:
    """One request per 10 s: after the first, the next may come 10 s later."""
    [_, refused] = run(RateLimit(1, 10), [0, offset])
    assert refused == Admission(admitted=False, retry_after=retry_after)


def test_p5_waiting_as_long_as_retry_after_says_is_admitted() -> None:
    limit = RateLimit(5, 3)
    at, tat = START, None
    for _ in range(5):
        tat = admit(limit, tat, at).tat
    refusal = admit(limit, tat, at)
    assert not refusal.admission.admitted
    later = admit(limit, tat, at + refusal.admission.retry_after * MICROSECONDS)
    assert later.admission.admitted


@pytest.mark.parametrize(("requests", "window"), [(0, 10), (10, 0.000001)])
def test_a_limit_admits_at_least_one_request_a_microsecond(requests: int, window: float) -> None:
    with pytest.raises(ValueError, match="at least one request"):
        RateLimit(requests, window)

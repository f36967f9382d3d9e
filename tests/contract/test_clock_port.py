"""Clock and IdGenerator: the clock tells UTC to the millisecond (what the stores keep, so what a
write answers is what a later read returns) and never goes back by itself; ids are fresh, and
sort in the order they were made.

The clocks are the fake's, the service's (SystemClock), and the movable clock the integration
tests run the service on.
"""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from marketing_contacts.runtime import SystemClock
from marketing_contacts.services.ports.clock import Clock
from marketing_contacts.services.ports.tokens import ApiToken
from marketing_contacts.services.wiring import Ports
from tests.contract.implementations import ADAPTER, FAKE
from tests.support.clock import MovableClock
from tests.unit.services.fakes import FakeClock

MOVABLE = "movable"


@pytest.fixture(params=[FAKE, ADAPTER, MOVABLE])
def clock(request: pytest.FixtureRequest) -> Clock:
    clocks: dict[str, Clock] = {FAKE: FakeClock(), ADAPTER: SystemClock(), MOVABLE: MovableClock()}
    return clocks[request.param]


def test_the_clock_tells_utc_to_the_millisecond(clock: Clock) -> None:
    for _ in range(100):
        at = clock.now()
        assert at.utcoffset() == timedelta(0)
        assert at.tzinfo == UTC
        assert at.microsecond % 1000 == 0


def test_the_clock_never_goes_back_by_itself(clock: Clock) -> None:
    told = [clock.now() for _ in range(1000)]
    assert told == sorted(told)


async def test_a_time_the_clock_tells_reads_back_from_the_stores_unchanged(
    ports: Ports, clock: Clock
) -> None:
    told = clock.now()
    token = ApiToken(ports.ids.new_id(), ports.ids.new_id(), "ci", True, "hash-1", told)
    await ports.tokens.insert(token)
    found = await ports.tokens.find_by_hash("hash-1")
    assert found is not None and found.created_at == told


async def test_ids_are_fresh_and_sort_in_the_order_they_were_made(ports: Ports) -> None:
    made = [ports.ids.new_id() for _ in range(2000)]
    assert len(set(made)) == len(made)
    assert made == sorted(made)


async def test_ids_made_at_later_times_sort_later_and_stay_fresh(ports: Ports) -> None:
    start = ports.clock.now()
    made = [ports.ids.new_id(at=start + timedelta(seconds=n // 3)) for n in range(30)]
    assert len(set(made)) == len(made)
    assert made == sorted(made)

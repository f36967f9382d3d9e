"""Integration fixtures: the real services over real SecantusDB and Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from marketing_contacts.runtime import Runtime, open_runtime
from marketing_contacts.settings import Settings
from tests.support.clock import MovableClock


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def module_runtime(
    settings_for_tests: Settings,
) -> AsyncIterator[tuple[Runtime, MovableClock]]:
    clock = MovableClock()
    async with open_runtime(settings_for_tests, clock=clock) as runtime:
        yield runtime, clock


@pytest.fixture
def runtime(module_runtime: tuple[Runtime, MovableClock]) -> Runtime:
    runtime, clock = module_runtime
    clock.at = None
    return runtime


@pytest.fixture
def test_clock(module_runtime: tuple[Runtime, MovableClock]) -> MovableClock:
    return module_runtime[1]

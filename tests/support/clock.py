"""A clock tests can hold still or move (a real part: the services only ask it for `now`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from marketing_contacts.runtime import SystemClock


class MovableClock:
    """The service's clock until a test sets it; then the set time, moved only by the test."""

    def __init__(self, at: datetime | None = None) -> None:
        self.at = at
        self.system = SystemClock()

    def now(self) -> datetime:
        return self.at or self.system.now()

    def set(self, at: datetime) -> None:
        self.at = at

    def advance(self, **delta: float) -> None:
        self.at = self.now() + timedelta(**delta)

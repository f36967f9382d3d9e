"""Time and identity: the clock, and new ids."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Now, in UTC, to the millisecond: what the stores keep, so a time told is read back
        unchanged."""
        ...


class IdGenerator(Protocol):
    def new_id(self, at: datetime | None = None) -> str:
        """A fresh id, unique across the database; ids sort in the order they were made, or,
        made `at` a time of the clock, in the order of those times (to the second), which
        they carry: a range of such times is a range of ids."""
        ...

"""A turn of an account's background work: what a worker may spend on it before it queues the
account again behind the others (services.bulk_runner)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass
class Budget:
    """What is left of a turn: pages, and time until `until`."""

    pages: int
    until: datetime

    @classmethod
    def unlimited(cls) -> Budget:
        return cls(sys.maxsize, datetime.max.replace(tzinfo=UTC))

    def spend(self) -> None:
        self.pages -= 1

    def spent(self, now: datetime) -> bool:
        return self.pages <= 0 or now >= self.until

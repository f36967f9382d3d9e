"""The real clock; tests pass their own."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        """Now, to the millisecond: what MongoDB stores, so that what a mutation answers equals
        what a later read returns (a contact's statusChangedAt and its history entry's `at`)."""
        now = datetime.now(UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

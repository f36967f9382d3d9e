"""P5: the rate limit every API process shares."""

from __future__ import annotations

from typing import Protocol

from marketing_contacts.domain.rate_limits import Admission


class RateLimiter(Protocol):
    async def admit(self, key: str) -> Admission:
        """Count one request of `key` (a token's id) against its limit, in one atomic step
        that every process sees: admitted, or refused with the seconds to wait. A refused
        request is not counted."""
        ...

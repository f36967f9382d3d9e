"""The in-memory rate limiter: domain.rate_limits over a dict, on the fake clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from marketing_contacts.domain.rate_limits import Admission, RateLimit, admit, microseconds
from marketing_contacts.services.ports.clock import Clock
from tests.support.waiting import let_others_run


@dataclass
class FakeRateLimiter:
    limit: RateLimit
    clock: Clock
    tats: dict[str, int] = field(default_factory=dict)

    async def admit(self, key: str) -> Admission:
        await let_others_run()
        decision = admit(self.limit, self.tats.get(key), microseconds(self.clock.now()))
        if decision.admission.admitted:
            self.tats[key] = decision.tat
        return decision.admission

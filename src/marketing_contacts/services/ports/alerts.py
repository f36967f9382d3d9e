"""Alerts awaiting delivery (A3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from marketing_contacts.domain.alerts import TierAlert
from marketing_contacts.services.paging import Stored


@dataclass(frozen=True)
class UndeliveredAlert:
    """An alert committed with its change but not yet handed to the event channel (A3)."""

    account_id: str
    alert: Stored[TierAlert]


class AlertOutbox(Protocol):
    """Alerts are stored with their change as awaiting delivery; publishing them clears that.
    What a crash or a broker outage left awaiting, a worker delivers later (at least once: a
    subscriber may hear an alert twice, with the same id, never zero times)."""

    async def delivered(self, alert_ids: Sequence[str]) -> None:
        """These alerts reached the event channel."""
        ...

    async def awaiting(self, raised_before: datetime, limit: int) -> list[UndeliveredAlert]:
        """Alerts still awaiting delivery that were raised before `raised_before`, oldest
        first."""
        ...

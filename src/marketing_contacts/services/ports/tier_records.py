"""Tier changes and alerts of an account, as stored."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from marketing_contacts.domain.alerts import TierAlert
from marketing_contacts.domain.tiers import TierChange
from marketing_contacts.services.paging import Page, Stored


class TierRecords(Protocol):
    async def tier_changes(
        self, account_id: str, first: int, after: str | None
    ) -> Page[Stored[TierChange]]: ...

    async def alerts(
        self, account_id: str, first: int, after: str | None
    ) -> Page[Stored[TierAlert]]: ...

    async def count_tier_changes(self, account_id: str) -> int:
        """How many tier changes the account has had."""
        ...

    async def count_alerts(self, account_id: str) -> int:
        """How many alerts the account has had."""
        ...

    async def alerts_since(
        self, account_id: str, since: datetime, limit: int
    ) -> list[Stored[TierAlert]]:
        """Up to `limit` alerts of the account raised at or after `since`, oldest first."""
        ...

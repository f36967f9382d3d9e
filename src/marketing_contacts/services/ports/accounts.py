"""Accounts: the tenants, their settings and counters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.bulk import BulkOperation


@dataclass(frozen=True)
class DueUpdateDate:
    """An account whose next update date has started (U3)."""

    account_id: str
    update_date: date


class AccountStore(Protocol):
    async def get(self, account_id: str) -> Account | None: ...

    async def insert(self, account: Account) -> None: ...

    async def replace_settings(
        self, before: Account, after: Account, audit: AuditEntry | None = None
    ) -> None:
        """Write `after`'s name, zone, policy, thresholds, creation defaults and revision (and
        nothing else of it), with the audit entry, if the revision is still `before`'s; else
        StaleWrite and nothing written."""
        ...

    async def enable_marketing_contacts(
        self, before: Account, after: Account, operation: BulkOperation, audit: AuditEntry
    ) -> None:
        """K1: write `after`'s marketing_contacts_enabled and revision, insert the operation
        and record the audit entry, in one transaction, if the revision is still `before`'s;
        else StaleWrite and nothing written."""
        ...

    async def due_for_update(self, now: datetime) -> list[DueUpdateDate]:
        """The accounts whose next update date has started by `now`, with that date."""
        ...

    async def all_ids(self) -> list[str]: ...

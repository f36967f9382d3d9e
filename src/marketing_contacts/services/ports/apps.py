"""Chatflows and connected apps (F2, F3): account-wide settings, read by any user of the account
(they have no owner, so no scope narrows them, P3)."""

from __future__ import annotations

from typing import Protocol

from marketing_contacts.domain.apps import App, AppKind
from marketing_contacts.domain.audit import AuditEntry


class AppStore(Protocol):
    """Each kind in its own collection; every write records its audit entry in its own
    transaction (P4)."""

    async def insert(self, app: App, limit: int, audit: AuditEntry | None = None) -> bool:
        """Store the channel; False, and nothing written, when the account holds `limit`
        channels of its kind already."""
        ...

    async def get(self, account_id: str, kind: AppKind, app_id: str) -> App | None:
        """The account's channel of this kind with this id (None for another account's)."""
        ...

    async def all(self, account_id: str, kind: AppKind) -> list[App]:
        """The account's channels of this kind, in the order they were created."""
        ...

    async def set_marketing(self, before: App, after: App, audit: AuditEntry | None = None) -> bool:
        """Write `after`'s setting (and marketingSince) if the stored channel still has
        `before`'s; False, and nothing written, when it is gone or its setting changed."""
        ...

"""The audit log (P4): entries are written by the stores, each in its write's transaction;
this port reads them."""

from __future__ import annotations

from typing import Protocol

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page


class AuditLog(Protocol):
    async def page(
        self, scope: Scope, record_id: str | None, first: int, after: str | None
    ) -> Page[AuditEntry]:
        """Newest first; with `record_id`, the entries that wrote that record. A scope of some
        owners reads the entries those users wrote (P3)."""
        ...

    async def count(self, scope: Scope, record_id: str | None) -> int:
        """How many entries `page` walks through, all pages together."""
        ...

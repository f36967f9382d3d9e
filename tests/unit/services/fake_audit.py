"""The audit log in memory: the fake stores add each write's entry with the write itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page
from tests.support.waiting import let_others_run
from tests.unit.services.fake_paging import keyset_page, object_id

if TYPE_CHECKING:
    from tests.unit.services.fakes import FakeData


def record(data: FakeData, entry: AuditEntry | None) -> None:
    """Add the entry of a write, as the write lands (nothing for a write without one)."""
    if entry is not None:
        data.audit.append(entry)


class FakeAuditLog:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def _entries(self, scope: Scope, record_id: str | None) -> list[AuditEntry]:
        return [
            entry
            for entry in self.data.audit
            if entry.account_id == scope.account_id
            and scope.sees(entry.actor.user_id)
            and (record_id is None or record_id in entry.record_ids)
        ]

    async def page(
        self, scope: Scope, record_id: str | None, first: int, after: str | None
    ) -> Page[AuditEntry]:
        await let_others_run()
        entries = self._entries(scope, record_id)
        return keyset_page(
            entries, lambda e: e.id, object_id, "audit", first, after, descending=True
        )

    async def count(self, scope: Scope, record_id: str | None) -> int:
        await let_others_run()
        return len(self._entries(scope, record_id))

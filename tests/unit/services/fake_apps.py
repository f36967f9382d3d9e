"""Chatflows and connected apps in memory, as the real store keeps them (F2, F3): per account
and kind, at most `limit` of a kind, a setting change conditional on the setting read."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from marketing_contacts.domain.apps import App, AppKind
from marketing_contacts.domain.audit import AuditEntry
from tests.support.waiting import let_others_run
from tests.unit.services.fake_audit import record

if TYPE_CHECKING:
    from tests.unit.services.fakes import FakeData


class FakeAppStore:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def _of(self, account_id: str, kind: AppKind) -> list[App]:
        return sorted(
            (a for a in self.data.apps.values() if a.account_id == account_id and a.kind is kind),
            key=lambda a: a.id,
        )

    async def insert(self, app: App, limit: int, audit: AuditEntry | None = None) -> bool:
        await let_others_run()
        if len(self._of(app.account_id, app.kind)) >= limit:
            return False
        self.data.apps[app.id] = app
        record(self.data, audit)
        return True

    async def get(self, account_id: str, kind: AppKind, app_id: str) -> App | None:
        await let_others_run()
        found = self.data.apps.get(app_id)
        if found is None or found.account_id != account_id or found.kind is not kind:
            return None
        return found

    async def all(self, account_id: str, kind: AppKind) -> list[App]:
        await let_others_run()
        return self._of(account_id, kind)

    async def set_marketing(self, before: App, after: App, audit: AuditEntry | None = None) -> bool:
        await let_others_run()
        stored = self.data.apps.get(after.id)
        if (
            stored is None
            or stored.account_id != after.account_id
            or stored.kind is not after.kind
            or stored.sets_marketing is not before.sets_marketing
        ):
            return False
        self.data.apps[after.id] = replace(
            stored,
            sets_marketing=after.sets_marketing,
            marketing_since=after.marketing_since,
            updated_at=after.updated_at,
        )
        record(self.data, audit)
        return True

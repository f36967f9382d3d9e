"""Reading the audit log (P4): admins only, newest first, all of it or one record's entries.

The entries are written by the stores with the writes they record (services pass each write
its entry, made by `Ports.audit_entry`); this service only reads them. An admin limited to
OWNED or TEAM records reads the entries its visible users wrote (P3).
"""

from __future__ import annotations

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.errors import check_id
from marketing_contacts.domain.users import check_admin
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.paging import Page, paged
from marketing_contacts.services.wiring import Ports


class AuditService:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports

    async def page(
        self, caller: Caller, record_id: str | None, first: int, after: str | None
    ) -> Page[AuditEntry]:
        check_admin(caller.role)
        check_id(record_id, "record_id")
        read = self.ports.audit.page(caller.scope, record_id, first, after)
        return await paged(first, after, read)

    async def count(self, caller: Caller, record_id: str | None) -> int:
        check_admin(caller.role)
        return await self.ports.audit.count(caller.scope, record_id)

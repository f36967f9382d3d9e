"""Engagements in memory (C6, C12), with the guarantees of the real store: the count of a
record's engagements and its activity dates move with the engagement, all at once (no await
between the check of the limit and the write, so runs started together never pass it).

A deleted record leaves its engagements as the real store leaves them: an engagement lists
only the records that still exist (read from the fakes' records, so the fakes of the record
stores need not know about engagements).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from marketing_contacts.domain.associations import RecordRef, RecordType
from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.engagements import ActivityDates, Engagement
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page
from tests.support.waiting import let_others_run
from tests.unit.services.fake_audit import record
from tests.unit.services.fake_paging import keyset_page, object_id

if TYPE_CHECKING:
    from tests.unit.services.fakes import FakeData


class FakeEngagementStore:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def _records(self, record_type: RecordType) -> dict[str, Any]:
        """The records of a type, by id (each with `account_id` and `owner_id`)."""
        stored: Mapping[RecordType, dict[str, Any]] = {
            RecordType.CONTACT: self.data.contacts,
            RecordType.COMPANY: self.data.companies,
            RecordType.DEAL: self.data.deals,
        }
        return stored[record_type]

    def _exists(self, record_id: str) -> bool:
        return any(record_id in self._records(record_type) for record_type in RecordType)

    def _as_read(self, engagement: Engagement) -> Engagement:
        kept = tuple(i for i in engagement.associated_ids if self._exists(i))
        return replace(engagement, associated_ids=kept)

    def _of(self, account_id: str, record_id: str) -> list[Engagement]:
        return [
            read
            for engagement in self.data.engagements
            if engagement.account_id == account_id
            and record_id in (read := self._as_read(engagement)).associated_ids
        ]

    async def seen(
        self, scope: Scope, record_type: RecordType, record_ids: Sequence[str]
    ) -> set[str]:
        await let_others_run()
        records = self._records(record_type)
        return {
            record_id
            for record_id in record_ids
            if (found := records.get(record_id)) is not None
            and found.account_id == scope.account_id
            and scope.sees(found.owner_id)
        }

    async def log(
        self,
        engagement: Engagement,
        records: Sequence[RecordRef],
        limit: int,
        audit: AuditEntry | None = None,
    ) -> Engagement:
        await let_others_run()
        associated: list[str] = []
        refused: list[str] = []
        for named in records:
            stored = self._records(named.type).get(named.id)
            if stored is None or stored.account_id != engagement.account_id:
                continue
            self._records(named.type)[named.id] = dated(stored, engagement)
            count = self.data.engagement_counts.get(named.id, 0)
            if count < limit:
                self.data.engagement_counts[named.id] = count + 1
                associated.append(named.id)
            else:
                refused.append(named.id)
        logged = replace(
            engagement, associated_ids=tuple(associated), not_associated_ids=tuple(refused)
        )
        self.data.engagements.append(logged)
        if audit is not None:
            written = {logged.id, *associated, *refused}
            audit = replace(audit, record_ids=tuple(i for i in audit.record_ids if i in written))
        record(self.data, audit)
        return logged

    async def page(
        self, account_id: str, record_id: str, first: int, after: str | None
    ) -> Page[Engagement]:
        await let_others_run()
        found = self._of(account_id, record_id)
        return keyset_page(
            found, lambda e: e.id, object_id, "engagement", first, after, descending=True
        )

    async def first_pages(
        self, account_id: str, record_ids: Sequence[str], first: int
    ) -> dict[str, Page[Engagement]]:
        return {
            record_id: await self.page(account_id, record_id, first, None)
            for record_id in record_ids
        }

    async def count(self, account_id: str, record_id: str) -> int:
        await let_others_run()
        return len(self._of(account_id, record_id))


def dated(stored: Any, engagement: Engagement) -> Any:
    """C12: the record with its activity dates moved by the engagement, as the real store's
    `$max` moves them (a record type whose domain object keeps no dates stays as it is)."""
    if not hasattr(stored, "last_activity_at"):
        return stored
    before = ActivityDates(stored.last_activity_at, stored.last_contacted_at)
    after = before.after(engagement.type, engagement.occurred_at)
    return replace(
        stored, last_activity_at=after.last_activity_at, last_contacted_at=after.last_contacted_at
    )

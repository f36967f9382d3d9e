"""Engagements (C6), and the activity dates they move on their records (C12)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from marketing_contacts.domain.associations import RecordRef, RecordType
from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.engagements import Engagement
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page


class EngagementStore(Protocol):
    async def seen(
        self, scope: Scope, record_type: RecordType, record_ids: Sequence[str]
    ) -> set[str]:
        """The ids among `record_ids` of the records of this type that the scope sees (P3)."""
        ...

    async def log(
        self,
        engagement: Engagement,
        records: Sequence[RecordRef],
        limit: int,
        audit: AuditEntry | None = None,
    ) -> Engagement:
        """Store the engagement, in one transaction with what it does to its records and the
        audit entry. Each record of the engagement's account gets its activity dates moved to
        `occurred_at` where that is later (C12: the last contact only for the types that move
        it), and is associated with it while it holds fewer than `limit` (C6: its count moves
        with the association, so no race passes the limit), else listed as not associated. A
        record gone since it was named is neither, and the entry no longer names it.

        The engagement as stored: its associated and not associated ids, in the order named."""
        ...

    async def page(
        self, account_id: str, record_id: str, first: int, after: str | None
    ) -> Page[Engagement]:
        """The engagements associated with the record, newest first (by when they happened)."""
        ...

    async def first_pages(
        self, account_id: str, record_ids: Sequence[str], first: int
    ) -> dict[str, Page[Engagement]]:
        """The first page of each record's engagements, read together (keyed by the ids as
        given)."""
        ...

    async def count(self, account_id: str, record_id: str) -> int: ...

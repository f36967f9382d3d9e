"""Engagements (C6, C12): logging one against the records the caller sees, and reading a
record's.

Everything a log names is checked before anything is written: the body, when it happened (not
later than now but for the clock skew), the owner (C1) and each record, which the caller must
see (P3: another account's, another owner's or a missing record is NOT_FOUND at its index).
Then one transaction stores the engagement, moves its records' activity dates (C12), associates
it with those under the cap (C6) and records the audit entry (P4). The entry names the
engagement and every record it wrote: the records past the cap too, whose dates it moved.

A record's engagements are read by whoever reads the record (its resolvers run on records the
caller sees), every one of them; the records an engagement lists are those the caller sees
(`seen`: P3, no id of a hidden record is shown).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from marketing_contacts.domain.associations import RecordRef, RecordType
from marketing_contacts.domain.engagements import (
    MAX_ENGAGEMENTS_PER_RECORD,
    Engagement,
    EngagementType,
    check_body,
    named_not_found,
    named_records,
)
from marketing_contacts.domain.occurrences import occurred_at
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.owners import check_owner
from marketing_contacts.services.paging import Page, check_first, paged

if TYPE_CHECKING:
    from marketing_contacts.services.wiring import Ports


@dataclass(frozen=True)
class EngagementDraft:
    type: EngagementType
    occurred_at: datetime
    body: str | None = None
    owner_id: str | None = None
    contact_ids: Sequence[str] = ()
    company_ids: Sequence[str] = ()
    deal_ids: Sequence[str] = ()

    @property
    def named(self) -> Mapping[RecordType, Sequence[str]]:
        """The ids of each type of record, as given."""
        return {
            RecordType.CONTACT: self.contact_ids,
            RecordType.COMPANY: self.company_ids,
            RecordType.DEAL: self.deal_ids,
        }


class EngagementService:
    def __init__(self, ports: Ports, limit: int = MAX_ENGAGEMENTS_PER_RECORD) -> None:
        self.ports = ports
        self.engagements = ports.engagements
        #: C6: how many engagements one record is associated with at most
        self.limit = limit

    async def log(self, caller: Caller, draft: EngagementDraft) -> Engagement:
        """C6: the engagement, always created once its input holds; the records already
        holding `limit` engagements are listed as not associated. C12: every record's dates
        move."""
        check_body(draft.body, "body")
        now = self.ports.clock.now()
        at = occurred_at(draft.occurred_at, now, "occurred_at")
        records = named_records(draft.named)
        await check_owner(self.ports, caller, draft.owner_id)
        await self._check_seen(caller, draft.named, records)
        engagement = Engagement(
            # the id carries the second it happened: a record's engagements newest first
            id=self.ports.ids.new_id(at=at),
            account_id=caller.account_id,
            type=draft.type,
            occurred_at=at,
            created_at=now,
            body=draft.body,
            owner_id=draft.owner_id,
        )
        written = [engagement.id, *(record.id for record in records)]
        audit = self.ports.audit_entry(caller.account_id, caller.actor, "logEngagement", written)
        return await self.engagements.log(engagement, records, self.limit, audit)

    async def _check_seen(
        self,
        caller: Caller,
        named: Mapping[RecordType, Sequence[str]],
        records: Sequence[RecordRef],
    ) -> None:
        """NOT_FOUND at each id named that is no record of its type the caller sees."""
        seen: set[RecordRef] = set()
        for record_type in RecordType:
            ids = [record.id for record in records if record.type is record_type]
            if ids:
                found = await self.engagements.seen(caller.scope, record_type, ids)
                seen.update(RecordRef(record_type, record_id) for record_id in found)
        missing = named_not_found(named, seen)
        if missing is not None:
            raise missing

    async def page(
        self, caller: Caller, record_id: str, first: int, after: str | None
    ) -> Page[Engagement]:
        read = self.engagements.page(caller.account_id, record_id, first, after)
        return await paged(first, after, read)

    async def first_pages(
        self, caller: Caller, record_ids: Sequence[str], first: int
    ) -> dict[str, Page[Engagement]]:
        """The first page of many records' engagements at once (one read for a page of
        records)."""
        check_first(first)
        return await self.engagements.first_pages(caller.account_id, record_ids, first)

    async def count(self, caller: Caller, record_id: str) -> int:
        return await self.engagements.count(caller.account_id, record_id)

    async def seen(self, caller: Caller, record_ids: Sequence[str]) -> set[str]:
        """P3: the ids among `record_ids` of the records of any type that the caller sees
        (a scope of the whole account sees every id an engagement of the account lists)."""
        if caller.scope.whole_account:
            return set(record_ids)
        found: set[str] = set()
        for record_type in RecordType:
            found |= await self.engagements.seen(caller.scope, record_type, record_ids)
        return found

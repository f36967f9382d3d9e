"""In-memory fakes of every port in services/ports/, with the guarantees of the real adapters
(tests/contract runs each port's promises on its fake and on its adapter).

They keep state in one `FakeData` and honour what storage/ promises: a ChangeBatch is written
all or nothing; the account write holds only at `account_before.revision` (a batch that leaves
the account as it is does not write it), each status update and each delete only at the
contact's `status_seq`; otherwise StaleWrite and nothing written.
Emails are unique per account, case-insensitive (DuplicateEmail, nothing written). Pages hand
out opaque cursors and refuse foreign ones with BadCursor. Every awaited call yields to the event
loop once, so runs started together with asyncio.gather really interleave.

`FakeChangeWriter.interfere` simulates another writer: the given coroutine runs inside the next
conditional write, after the service read its state and before the write's conditions are
checked, as a concurrent commit would land.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.alerts import TierAlert
from marketing_contacts.domain.apps import App
from marketing_contacts.domain.associations import RecordType
from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.bulk import (
    MAX_ACTIVE_OPERATIONS,
    BulkOperation,
    BulkOperationStatus,
    Selection,
)
from marketing_contacts.domain.channels import (
    AudienceCounts,
    Channel,
    counted_under,
    reachable_conditions,
)
from marketing_contacts.domain.companies import Company
from marketing_contacts.domain.conditions import Condition, all_hold
from marketing_contacts.domain.contacts import Contact, email_key
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.deals import Deal
from marketing_contacts.domain.email_events import EmailEvent
from marketing_contacts.domain.engagements import Engagement
from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.exports import Export
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.forms import Form, FormSubmission
from marketing_contacts.domain.imports import Import, RowError
from marketing_contacts.domain.statuses import HistoryEntry, MarketingState, MarketingStatus
from marketing_contacts.domain.tiers import TierChange
from marketing_contacts.domain.update_dates import update_instant
from marketing_contacts.domain.usage import UsageCounts
from marketing_contacts.domain.users import Role, Team, User
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.services.paging import Page, Stored, encode_cursor
from marketing_contacts.services.ports.accounts import DueUpdateDate
from marketing_contacts.services.ports.alerts import UndeliveredAlert
from marketing_contacts.services.ports.bulk import IdempotencyKey
from marketing_contacts.services.ports.changes import (
    ChangeBatch,
    Committed,
    ContactMerge,
    StaleWrite,
)
from marketing_contacts.services.ports.contacts import DuplicateEmail
from marketing_contacts.services.ports.events import AlertRaised, Event
from marketing_contacts.services.ports.imports import ImportKey
from marketing_contacts.services.ports.lists import (
    ContactList,
    ListDeletion,
    ListGone,
    ListRecount,
)
from marketing_contacts.services.ports.tokens import ApiToken
from marketing_contacts.services.registry import Services
from marketing_contacts.services.users import UserDraft
from marketing_contacts.services.wiring import Ports
from tests.support.waiting import let_others_run
from tests.unit.services.fake_apps import FakeAppStore
from tests.unit.services.fake_audit import FakeAuditLog, record
from tests.unit.services.fake_bulk import (
    FakeBulkOperations,
    FakeBulkPages,
    FakeIdempotencyKeys,
    FakeJobQueue,
    selected,
)
from tests.unit.services.fake_companies import FakeCompanyStore
from tests.unit.services.fake_deals import FakeDealStore, drop_from_deals
from tests.unit.services.fake_email_events import FakeEmailEvents
from tests.unit.services.fake_engagements import FakeEngagementStore
from tests.unit.services.fake_exports import FakeExportStore
from tests.unit.services.fake_forms import FakeFormStore, check_submission, write_submission
from tests.unit.services.fake_imports import FakeFileStore, FakeImportStore, advance_import
from tests.unit.services.fake_paging import ID_LENGTH, keyset_page, object_id, sequence
from tests.unit.services.fake_users import FakeTeamStore, FakeTokenStore, FakeUserStore

T = TypeVar("T")

DEFAULT_NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)

#: the fields a status write owns; `update_fields` leaves them alone
STATUS_FIELDS = frozenset(
    {"state", "status_source", "status_changed_at", "pending_since", "status_seq"}
)


# ---------------------------------------------------------------- state


@dataclass(frozen=True)
class AppliedDate:
    account_id: str
    update_date: date
    contacts_changed: int
    at: datetime


@dataclass
class FakeData:
    """Everything the fakes store; tests read it directly to check what was written."""

    accounts: dict[str, Account] = field(default_factory=dict)
    contacts: dict[str, Contact] = field(default_factory=dict)
    history: list[HistoryEntry] = field(default_factory=list)
    tier_changes: list[tuple[str, Stored[TierChange]]] = field(default_factory=list)
    alerts: list[tuple[str, Stored[TierAlert]]] = field(default_factory=list)
    #: ids of the stored alerts not yet published (the outbox)
    awaiting_delivery: set[str] = field(default_factory=set)
    tokens: dict[str, ApiToken] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    #: live lists
    lists: dict[str, ContactList] = field(default_factory=dict)
    #: deleted lists whose membership is still being taken out
    list_deletions: dict[str, ListDeletion] = field(default_factory=dict)
    applied_dates: dict[tuple[str, date], AppliedDate] = field(default_factory=dict)
    operations: dict[str, BulkOperation] = field(default_factory=dict)
    #: contacts still to do, per bulk operation
    #: the pages of each operation's resolved selection: contact ids, by resolution token
    pages: dict[str, dict[str, list[list[str]]]] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], IdempotencyKey] = field(default_factory=dict)
    #: P4: every write's entry, oldest first
    audit: list[AuditEntry] = field(default_factory=list)
    companies: dict[str, Company] = field(default_factory=dict)
    deals: dict[str, Deal] = field(default_factory=dict)
    #: F2, F3: chatflows and connected apps, by id
    apps: dict[str, App] = field(default_factory=dict)
    email_events: list[EmailEvent] = field(default_factory=list)
    engagements: list[Engagement] = field(default_factory=list)
    #: C6: how many engagements each record is associated with, by record id
    engagement_counts: dict[str, int] = field(default_factory=dict)
    forms: dict[str, Form] = field(default_factory=dict)
    form_submissions: dict[str, FormSubmission] = field(default_factory=dict)
    #: I6: exports by id, and the chunks of their files
    exports: dict[str, Export] = field(default_factory=dict)
    #: I1-I5: imports by id, their row errors, their keys, and uploaded files by id
    imports: dict[str, Import] = field(default_factory=dict)
    import_errors: dict[str, list[RowError]] = field(default_factory=dict)
    import_keys: dict[tuple[str, str], ImportKey] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    export_files: dict[str, list[bytes]] = field(default_factory=dict)
    next_number: int = 0

    def new_id(self) -> str:
        """24 hex digits like an ObjectId; ids sort in creation order."""
        self.next_number += 1
        return f"{self.next_number:0{ID_LENGTH}x}"


# ---------------------------------------------------------------- ports


@dataclass
class FakeClock:
    at: datetime = DEFAULT_NOW

    def now(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@dataclass
class FakeAccountStore:
    data: FakeData

    async def get(self, account_id: str) -> Account | None:
        await let_others_run()
        return self.data.accounts.get(account_id)

    async def insert(self, account: Account) -> None:
        await let_others_run()
        if account.id in self.data.accounts:
            raise ValueError(f"account {account.id} exists")
        self.data.accounts[account.id] = account

    async def replace_settings(
        self, before: Account, after: Account, audit: AuditEntry | None = None
    ) -> None:
        await let_others_run()
        stored = self.data.accounts.get(before.id)
        if stored is None or stored.revision != before.revision:
            raise StaleWrite(before.id)
        self.data.accounts[before.id] = replace(
            stored,
            name=after.name,
            timezone=after.timezone,
            upgrade_policy=after.upgrade_policy,
            alert_thresholds=after.alert_thresholds,
            creation_defaults=after.creation_defaults,
            lifecycle_defaults=after.lifecycle_defaults,
            revision=after.revision,
        )
        record(self.data, audit)

    async def enable_marketing_contacts(
        self, before: Account, after: Account, operation: BulkOperation, audit: AuditEntry
    ) -> None:
        await let_others_run()
        stored = self.data.accounts.get(before.id)
        if stored is None or stored.revision != before.revision:
            raise StaleWrite(before.id)
        self.data.accounts[before.id] = replace(
            stored,
            marketing_contacts_enabled=after.marketing_contacts_enabled,
            revision=after.revision,
        )
        self.data.operations[operation.id] = operation
        record(self.data, audit)

    async def due_for_update(self, now: datetime) -> list[DueUpdateDate]:
        await let_others_run()
        return [
            DueUpdateDate(a.id, a.next_update_date)
            for a in self.data.accounts.values()
            if update_instant(a.next_update_date, a.timezone) <= now
        ]

    async def all_ids(self) -> list[str]:
        await let_others_run()
        return list(self.data.accounts)


@dataclass
class FakeContactStore:
    data: FakeData

    def _of(self, account_id: str) -> list[Contact]:
        return sorted(
            (c for c in self.data.contacts.values() if c.account_id == account_id),
            key=lambda c: c.id,
        )

    def _seen(self, scope: Scope) -> list[Contact]:
        return [c for c in self._of(scope.account_id) if scope.sees(c.owner_id)]

    async def get(self, scope: Scope, contact_id: str) -> Contact | None:
        await let_others_run()
        contact = self.data.contacts.get(contact_id)
        if contact is None or contact.account_id != scope.account_id:
            return None
        return contact if scope.sees(contact.owner_id) else None

    async def by_email(self, scope: Scope, email: str) -> Contact | None:
        await let_others_run()
        key = email_key(email)
        return next((c for c in self._seen(scope) if email_key(c.email) == key), None)

    async def get_many(self, scope: Scope, contact_ids: Sequence[str]) -> list[Contact]:
        await let_others_run()
        wanted = set(contact_ids)
        return [c for c in self._seen(scope) if c.id in wanted]

    async def page(
        self, scope: Scope, where: ContactFilter, first: int, after: str | None
    ) -> Page[Contact]:
        await let_others_run()
        items = [c for c in self._seen(scope) if where.matches(c)]
        return keyset_page(items, _id, object_id, "contact", first, after)

    async def count(self, scope: Scope, where: ContactFilter) -> int:
        await let_others_run()
        return sum(1 for c in self._seen(scope) if where.matches(c))

    async def update_fields(
        self, before: Contact, after: Contact, audit: AuditEntry | None = None
    ) -> None:
        """The non-status fields that differ, onto the stored contact (no status condition)."""
        await let_others_run()
        stored = self.data.contacts.get(after.id)
        if stored is None or stored.account_id != after.account_id:
            return
        changed = {
            f.name: getattr(after, f.name)
            for f in fields(Contact)
            if f.name not in STATUS_FIELDS and getattr(before, f.name) != getattr(after, f.name)
        }
        edited = replace(stored, **changed)
        contacts = dict(self.data.contacts)
        contacts[edited.id] = edited
        check_unique_emails(contacts, [edited])
        self.data.contacts = contacts
        record(self.data, audit)

    async def pending_before(self, account_id: str, instant: datetime, limit: int) -> list[Contact]:
        await let_others_run()
        return [
            c
            for c in self._of(account_id)
            if c.state is MarketingState.MARKETING_UNTIL_NEXT_UPDATE
            and c.pending_since is not None
            and c.pending_since < instant
        ][:limit]

    async def count_by_state(
        self, scope: Scope, selection: Selection, created_until: datetime | None = None
    ) -> dict[MarketingState, int]:
        counts: dict[MarketingState, int] = {}
        for contact in selected(self.data, scope, selection, created_until):
            counts[contact.state] = counts.get(contact.state, 0) + 1
        return counts

    async def audience_counts(
        self, scope: Scope, selection: Selection, channel: Channel
    ) -> AudienceCounts:
        """Each count by the conditions the adapter's aggregation sums (counted_under)."""
        await let_others_run()
        contacts = selected(self.data, scope, selection, None)
        return AudienceCounts(
            matched=len(contacts),
            reachable=sum(all_hold(reachable_conditions(channel), c) for c in contacts),
            excluded={
                reason: sum(all_hold(conditions, c) for c in contacts)
                for reason, conditions in counted_under(channel).items()
            },
        )

    async def page_of_selection(
        self,
        scope: Scope,
        selection: Selection,
        conditions: Sequence[Condition],
        first: int,
        after: str | None,
    ) -> Page[Contact]:
        await let_others_run()
        items = [c for c in selected(self.data, scope, selection, None) if all_hold(conditions, c)]
        return keyset_page(items, _id, object_id, "contact", first, after)


@dataclass
class FakeIds:
    data: FakeData

    def new_id(self, at: datetime | None = None) -> str:
        """In the order they are made; made `at` a time, as an ObjectId is: its seconds
        first, so such ids sort by those times (to the second), then in the order made."""
        made = self.data.new_id()
        if at is None:
            return made
        return f"{int(at.timestamp()):08x}{made[8:]}"


def check_unique_emails(contacts: dict[str, Contact], written: Sequence[Contact]) -> None:
    """C8: DuplicateEmail if a written contact's address is another's in the same account."""
    for contact in written:
        key = email_key(contact.email)
        if key is None:
            continue
        for other in contacts.values():
            if (
                other.id != contact.id
                and other.account_id == contact.account_id
                and email_key(other.email) == key
            ):
                raise DuplicateEmail(contact.email)


Interference = Callable[[], Awaitable[object]]
#: C12: the dates only engagements move (by $max in storage), which a merge moves the same way
ACTIVITY_DATES = ("last_activity_at", "last_contacted_at")


def _memberships(contact: Contact) -> tuple[object, ...]:
    return (contact.list_ids, contact.company_ids, contact.primary_company_id)


def _in_place_of(ids: tuple[str, ...], old: str, new: str) -> tuple[str, ...]:
    """`new` named where `old` was, once (last, as `$addToSet` then `$pull` leave it)."""
    kept = tuple(i for i in ids if i != old)
    return kept if new in kept else (*kept, new)


@dataclass
class FakeChangeWriter:
    data: FakeData
    #: run one each before the next conditional writes (another writer landing in between)
    interferences: list[Interference] = field(default_factory=list)
    #: run before every conditional write while set
    always: Interference | None = None
    #: how many conditional writes found their condition broken (observed, not asserted on)
    stale_writes: int = 0
    _interfering: bool = False

    def interfere(self, *actions: Interference) -> None:
        self.interferences.extend(actions)

    async def _interfere(self) -> None:
        await let_others_run()
        if self._interfering:
            return
        action = self.interferences.pop(0) if self.interferences else self.always
        if action is None:
            return
        self._interfering = True
        try:
            await action()
        finally:
            self._interfering = False

    def _stale(self, reason: str) -> StaleWrite:
        self.stale_writes += 1
        return StaleWrite(reason)

    async def commit(self, batch: ChangeBatch) -> Committed:
        await self._interfere()
        data = self.data
        account_id = batch.account_before.id
        stored = data.accounts.get(account_id)
        writes_account = batch.account_after is not batch.account_before
        if writes_account and (stored is None or stored.revision != batch.account_before.revision):
            raise self._stale(f"account {account_id} moved past {batch.account_before.revision}")
        for update in batch.status_updates:
            current = data.contacts.get(update.before.id)
            if (
                current is None
                or current.account_id != update.before.account_id
                or current.status_seq != update.before.status_seq
            ):
                raise self._stale(f"contact {update.before.id} changed")
        if batch.bulk is not None:
            chunk = batch.bulk
            operation = data.operations.get(chunk.operation_id)
            if operation is None or operation.status is not BulkOperationStatus.RUNNING:
                raise self._stale(f"operation {chunk.operation_id} is not running")
            if operation.next_page != chunk.page:
                raise self._stale(f"page {chunk.page} was applied by another run")
            if operation.lease_owner != chunk.owner:
                raise self._stale(f"operation {chunk.operation_id} went to another run")
        if batch.imported is not None:
            advance_import(data, batch.imported, check_only=True)
        for gone in batch.deleted:
            current = data.contacts.get(gone.id)
            if (
                current is None
                or current.account_id != gone.account_id
                or current.status_seq != gone.status_seq
            ):
                raise self._stale(f"contact {gone.id} changed or went")
        if batch.merge is not None:
            self._check_merge(batch.merge)
        check_submission(data, batch.submission)
        contacts = dict(data.contacts)
        for created in batch.created:
            if created.id in contacts:
                raise ValueError(f"contact {created.id} exists")
            contacts[created.id] = created
        written = list(batch.created)
        for update in batch.status_updates:
            current = contacts[update.before.id]
            diff = {
                f.name: getattr(update.after, f.name)
                for f in fields(Contact)
                if getattr(update.before, f.name) != getattr(update.after, f.name)
            }
            contacts[current.id] = replace(current, **diff)
            written.append(contacts[current.id])
        left: Counter[str] = Counter()
        for gone in batch.deleted:
            left.update(contacts.pop(gone.id).list_ids)
        if batch.merge is not None:  # after the delete: the primary may take over its address
            merged = contacts[batch.merge.primary.id] = self._merged_primary(batch.merge, contacts)
            written.append(merged)
            left.subtract(batch.merge.merged.list_ids - batch.merge.primary.list_ids)
        check_unique_emails(contacts, written)
        # every condition holds: write it all
        if batch.merge is not None:
            self._take_over(batch.merge)
        data.contacts = contacts
        drop_from_deals(data, RecordType.CONTACT, {gone.id for gone in batch.deleted})
        for list_id, members in left.items():
            if list_id in data.lists:
                data.lists[list_id] = replace(
                    data.lists[list_id], size=data.lists[list_id].size - members
                )
        if writes_account:
            data.accounts[account_id] = batch.account_after
        data.history.extend(batch.history)
        write_submission(data, batch.submission)
        record(data, batch.audit)
        if batch.imported is not None:
            advance_import(data, batch.imported, check_only=False)
        if batch.bulk is not None:
            chunk = batch.bulk
            operation = data.operations[chunk.operation_id]
            data.operations[chunk.operation_id] = replace(
                operation,
                progress=operation.progress.plus(chunk.progress),
                lease_until=chunk.lease_until,
                next_page=chunk.page + 1,
            )
        tier_change = None
        if batch.tier_change is not None:
            tier_change = Stored(data.new_id(), batch.tier_change)
            data.tier_changes.append((account_id, tier_change))
        alerts = tuple(Stored(data.new_id(), alert) for alert in batch.alerts)
        data.alerts.extend((account_id, alert) for alert in alerts)
        data.awaiting_delivery.update(alert.id for alert in alerts)
        return Committed(tier_change=tier_change, alerts=alerts, at=datetime.now(UTC))

    def _check_merge(self, merge: ContactMerge) -> None:
        """C10: both contacts as they were read, their memberships included."""
        for read in (merge.primary, merge.secondary):
            current = self.data.contacts.get(read.id)
            if (
                current is None
                or current.account_id != read.account_id
                or current.status_seq != read.status_seq
                or _memberships(current) != _memberships(read)
            ):
                raise self._stale(f"contact {read.id} changed or went")

    def _merged_primary(self, merge: ContactMerge, contacts: dict[str, Contact]) -> Contact:
        """The stored primary with the fields that differ in `merged`, and the later of its
        and the secondary's activity dates (C12: as the engagements store moves them)."""
        current, secondary = contacts[merge.primary.id], self.data.contacts[merge.secondary.id]
        diff = {
            f.name: getattr(merge.merged, f.name)
            for f in fields(Contact)
            if f.name not in ACTIVITY_DATES
            and getattr(merge.primary, f.name) != getattr(merge.merged, f.name)
        }
        dates: dict[str, Any] = {
            name: max(
                (d for d in (getattr(current, name), getattr(secondary, name)) if d is not None),
                default=None,
            )
            for name in ACTIVITY_DATES
        }
        return replace(current, **diff, **dates)

    def _take_over(self, merge: ContactMerge) -> None:
        """C10: the secondary's history (numbered after the primary's), deals and engagements
        become the primary's; the primary counts the engagements that newly name it."""
        data, primary, secondary = self.data, merge.primary.id, merge.secondary.id
        data.history = [
            replace(e, contact_id=primary, seq=e.seq + merge.primary.status_seq)
            if e.contact_id == secondary
            else e
            for e in data.history
        ]
        for deal in list(data.deals.values()):
            if secondary in deal.contact_ids:
                contact_ids = _in_place_of(deal.contact_ids, secondary, primary)
                data.deals[deal.id] = replace(deal, contact_ids=contact_ids)
        engaged = 0
        engagements = []
        for engagement in data.engagements:
            if secondary in engagement.associated_ids:
                engaged += primary not in engagement.associated_ids
                ids = _in_place_of(engagement.associated_ids, secondary, primary)
                engagement = replace(engagement, associated_ids=ids)
            engagements.append(engagement)
        data.engagements = engagements
        data.engagement_counts.pop(secondary, None)
        if engaged:
            data.engagement_counts[primary] = data.engagement_counts.get(primary, 0) + engaged

    async def read_counts(self, account_id: str) -> tuple[Account, UsageCounts] | None:
        await let_others_run()
        account = self.data.accounts.get(account_id)
        if account is None:
            return None
        states = [c.state for c in self.data.contacts.values() if c.account_id == account_id]
        return account, UsageCounts.of(states)

    async def repair_counts(self, before: Account, actual: UsageCounts) -> None:
        await self._interfere()
        stored = self.data.accounts.get(before.id)
        if stored is None or stored.revision != before.revision:
            raise self._stale(before.id)
        self.data.accounts[before.id] = replace(stored, counts=actual, revision=before.revision + 1)

    async def record_update_date(
        self, before: Account, after: Account, applied: date, contacts_changed: int, at: datetime
    ) -> bool:
        await self._interfere()
        key = (before.id, applied)
        if key in self.data.applied_dates:
            return False
        stored = self.data.accounts.get(before.id)
        if stored is None or stored.revision != before.revision:
            raise self._stale(before.id)
        self.data.accounts[before.id] = after
        self.data.applied_dates[key] = AppliedDate(before.id, applied, contacts_changed, at)
        return True


@dataclass
class FakeHistoryStore:
    data: FakeData

    async def page(
        self, account_id: str, contact_id: str, first: int, after: str | None
    ) -> Page[HistoryEntry]:
        await let_others_run()
        items = self._of(account_id, contact_id)
        return keyset_page(items, _seq, sequence, "history", first, after, descending=True)

    async def first_pages(
        self, account_id: str, newest: Mapping[str, int], first: int
    ) -> dict[str, Page[HistoryEntry]]:
        """As of each newest entry: the entries before the sequence after it."""
        return {
            cid: await self.page(account_id, cid, first, encode_cursor("history", str(seq + 1)))
            for cid, seq in newest.items()
        }

    async def counts(self, account_id: str, contact_ids: Sequence[str]) -> dict[str, int]:
        await let_others_run()
        return {cid: len(self._of(account_id, cid)) for cid in contact_ids}

    def _of(self, account_id: str, contact_id: str) -> list[HistoryEntry]:
        return [
            e
            for e in self.data.history
            if e.account_id == account_id and e.contact_id == contact_id
        ]


@dataclass
class FakeTierRecords:
    data: FakeData

    async def tier_changes(
        self, account_id: str, first: int, after: str | None
    ) -> Page[Stored[TierChange]]:
        await let_others_run()
        return newest_first(self.data.tier_changes, "tier_change", account_id, first, after)

    async def alerts(
        self, account_id: str, first: int, after: str | None
    ) -> Page[Stored[TierAlert]]:
        await let_others_run()
        return newest_first(self.data.alerts, "alert", account_id, first, after)

    async def count_tier_changes(self, account_id: str) -> int:
        await let_others_run()
        return sum(owner == account_id for owner, _ in self.data.tier_changes)

    async def count_alerts(self, account_id: str) -> int:
        await let_others_run()
        return sum(owner == account_id for owner, _ in self.data.alerts)

    async def alerts_since(
        self, account_id: str, since: datetime, limit: int
    ) -> list[Stored[TierAlert]]:
        await let_others_run()
        found = [a for owner, a in self.data.alerts if owner == account_id and a.item.at >= since]
        return found[:limit]


@dataclass
class FakeAlertOutbox:
    data: FakeData

    async def delivered(self, alert_ids: Sequence[str]) -> None:
        await let_others_run()
        self.data.awaiting_delivery.difference_update(alert_ids)

    async def awaiting(self, raised_before: datetime, limit: int) -> list[UndeliveredAlert]:
        await let_others_run()
        found = [
            UndeliveredAlert(owner, alert)
            for owner, alert in self.data.alerts
            if alert.id in self.data.awaiting_delivery and alert.item.at <= raised_before
        ]
        return sorted(found, key=lambda one: one.alert.item.at)[:limit]


def newest_first(
    records: list[tuple[str, Stored[T]]], kind: str, account_id: str, first: int, after: str | None
) -> Page[Stored[T]]:
    mine = [stored for owner, stored in records if owner == account_id]
    return keyset_page(mine, _id, object_id, kind, first, after, descending=True)


def _id(item: Contact | ContactList | BulkOperation | Stored[T]) -> str:
    return item.id


def _seq(entry: HistoryEntry) -> int:
    return entry.seq


@dataclass
class FakeListStore:
    """Lists by id, sizes moved with membership; membership on the contacts' `list_ids`, as the
    real store keeps it. A deleted list leaves `lists` for `list_deletions`."""

    data: FakeData

    async def insert(
        self,
        contact_list: ContactList,
        member_ids: Sequence[str] = (),
        audit: AuditEntry | None = None,
    ) -> ContactList:
        await let_others_run()
        if contact_list.id in self.data.lists:
            raise ValueError(f"list {contact_list.id} exists")
        added = self._change(
            contact_list.account_id, set(member_ids), lambda ids: ids | {contact_list.id}
        )
        stored = replace(contact_list, size=added)
        self.data.lists[contact_list.id] = stored
        record(self.data, audit)
        return stored

    async def get(self, account_id: str, list_id: str) -> ContactList | None:
        await let_others_run()
        found = self.data.lists.get(list_id)
        return found if found is not None and found.account_id == account_id else None

    async def page(self, account_id: str, first: int, after: str | None) -> Page[ContactList]:
        await let_others_run()
        mine = [item for item in self.data.lists.values() if item.account_id == account_id]
        return keyset_page(mine, _id, object_id, "list", first, after, descending=True)

    async def count(self, account_id: str) -> int:
        await let_others_run()
        return sum(item.account_id == account_id for item in self.data.lists.values())

    async def add_members(
        self,
        account_id: str,
        list_id: str,
        contact_ids: Sequence[str],
        audit: AuditEntry | None = None,
    ) -> int:
        await let_others_run()
        added = self._counted(account_id, list_id, set(contact_ids), lambda ids: ids | {list_id})
        record(self.data, audit)
        return added

    async def remove_members(
        self,
        account_id: str,
        list_id: str,
        contact_ids: Sequence[str],
        audit: AuditEntry | None = None,
    ) -> int:
        await let_others_run()
        removed = self._counted(account_id, list_id, set(contact_ids), lambda ids: ids - {list_id})
        record(self.data, audit)
        return -removed

    async def mark_deleted(
        self, account_id: str, list_id: str, at: datetime, audit: AuditEntry | None = None
    ) -> bool:
        await let_others_run()
        if await self.get(account_id, list_id) is None:
            return False
        del self.data.lists[list_id]
        deleted_by = None if audit is None else audit.actor.user_id
        self.data.list_deletions[list_id] = ListDeletion(
            account_id, list_id, at, deleted_by=deleted_by
        )
        record(self.data, audit)
        return True

    async def deletions(self, account_id: str, first: int) -> list[ListDeletion]:
        await let_others_run()
        deletions = self.data.list_deletions.values()
        return [d for d in deletions if d.account_id == account_id][:first]

    async def stale_deletions(self, deleted_before: datetime, now: datetime) -> list[ListDeletion]:
        await let_others_run()
        deletions = self.data.list_deletions.values()
        return [d for d in deletions if d.stale(deleted_before, now)]

    async def claim_deletion(
        self, deletion: ListDeletion, owner: str, now: datetime, lease_until: datetime
    ) -> bool:
        await let_others_run()
        stored = self._deletion(deletion)
        if stored is None or not stored.claimable_by(owner, now):
            return False
        self._hold(stored, owner, lease_until)
        return True

    async def drop_members(
        self,
        deletion: ListDeletion,
        owner: str,
        limit: int,
        lease_until: datetime,
        audit: AuditEntry | None = None,
    ) -> int | None:
        await let_others_run()
        stored = self._deletion(deletion)
        if stored is None or stored.owner != owner:
            return None
        self._hold(stored, owner, lease_until)
        members = sorted(
            c.id
            for c in self.data.contacts.values()
            if c.account_id == deletion.account_id and deletion.list_id in c.list_ids
        )[:limit]
        self._change(deletion.account_id, set(members), lambda ids: ids - {deletion.list_id})
        if members and audit is not None:
            record(self.data, replace(audit, record_ids=(*audit.record_ids, *members)))
        return len(members)

    async def purge(self, deletion: ListDeletion, owner: str) -> bool:
        await let_others_run()
        stored = self._deletion(deletion)
        if stored is None or stored.owner != owner:
            return False
        del self.data.list_deletions[deletion.list_id]
        return True

    async def recount(self, account_id: str) -> list[ListRecount]:
        await let_others_run()
        repaired = []
        for contact_list in list(self.data.lists.values()):
            if contact_list.account_id != account_id:
                continue
            actual = sum(contact_list.id in c.list_ids for c in self.data.contacts.values())
            if actual != contact_list.size:
                repaired.append(ListRecount(contact_list.id, contact_list.size, actual))
                self.data.lists[contact_list.id] = replace(contact_list, size=actual)
        return repaired

    def _deletion(self, deletion: ListDeletion) -> ListDeletion | None:
        stored = self.data.list_deletions.get(deletion.list_id)
        return stored if stored is not None and stored.account_id == deletion.account_id else None

    def _hold(self, deletion: ListDeletion, owner: str, lease_until: datetime) -> None:
        self.data.list_deletions[deletion.list_id] = replace(
            deletion, owner=owner, lease_until=lease_until
        )

    def _counted(
        self,
        account_id: str,
        list_id: str,
        contact_ids: set[str],
        change: Callable[[frozenset[str]], frozenset[str]],
    ) -> int:
        """`change` of the members among `contact_ids`, and the list's size moved by it; how
        the size moved. ListGone (nothing written) if the list is not live."""
        contact_list = self.data.lists.get(list_id)
        if contact_list is None or contact_list.account_id != account_id:
            raise ListGone(list_id)
        before = sum(list_id in c.list_ids for c in self.data.contacts.values())
        self._change(account_id, contact_ids, change)
        moved = sum(list_id in c.list_ids for c in self.data.contacts.values()) - before
        self.data.lists[list_id] = replace(contact_list, size=contact_list.size + moved)
        return moved

    def _change(
        self,
        account_id: str,
        contact_ids: set[str],
        change: Callable[[frozenset[str]], frozenset[str]],
    ) -> int:
        """Write `change` of `list_ids` onto the account's contacts among `contact_ids`; only
        that field: a status written meanwhile stays as written. How many changed."""
        changed = 0
        contacts = dict(self.data.contacts)
        for contact in self.data.contacts.values():
            if contact.account_id != account_id or contact.id not in contact_ids:
                continue
            after = change(contact.list_ids)
            if after != contact.list_ids:
                contacts[contact.id] = replace(contact, list_ids=after)
                changed += 1
        self.data.contacts = contacts
        return changed


@dataclass(frozen=True)
class Published:
    """One publish call, with what was stored when it happened."""

    account_id: str
    events: list[Event]
    #: ids of the account's alerts stored at the moment of publishing
    stored_alert_ids: frozenset[str]


@dataclass
class FakePublisher:
    data: FakeData
    published: list[Published] = field(default_factory=list)
    #: when set, every publish raises it (a broker that is down)
    failure: Exception | None = None

    async def publish(self, account_id: str, events: Sequence[Event]) -> None:
        await let_others_run()
        if self.failure is not None:
            raise self.failure
        stored = frozenset(alert.id for owner, alert in self.data.alerts if owner == account_id)
        self.published.append(Published(account_id, list(events), stored))


# ---------------------------------------------------------------- the world


@dataclass
class FakeWorld:
    data: FakeData
    clock: FakeClock
    accounts: FakeAccountStore
    contacts: FakeContactStore
    writer: FakeChangeWriter
    history: FakeHistoryStore
    tier_records: FakeTierRecords
    alert_outbox: FakeAlertOutbox
    tokens: FakeTokenStore
    users: FakeUserStore
    teams: FakeTeamStore
    lists: FakeListStore
    companies: FakeCompanyStore
    deals: FakeDealStore
    apps: FakeAppStore
    email_events: FakeEmailEvents
    engagements: FakeEngagementStore
    forms: FakeFormStore
    exports: FakeExportStore
    imports: FakeImportStore
    files: FakeFileStore
    events: FakePublisher
    operations: FakeBulkOperations
    idempotency: FakeIdempotencyKeys
    bulk_pages: FakeBulkPages
    jobs: FakeJobQueue
    audit: FakeAuditLog
    ids: FakeIds

    def ports(self) -> Ports:
        return Ports(
            accounts=self.accounts,
            contacts=self.contacts,
            writer=self.writer,
            history=self.history,
            tier_records=self.tier_records,
            alert_outbox=self.alert_outbox,
            tokens=self.tokens,
            users=self.users,
            teams=self.teams,
            lists=self.lists,
            companies=self.companies,
            deals=self.deals,
            apps=self.apps,
            email_events=self.email_events,
            engagements=self.engagements,
            forms=self.forms,
            exports=self.exports,
            imports=self.imports,
            files=self.files,
            events=self.events,
            operations=self.operations,
            idempotency=self.idempotency,
            bulk_pages=self.bulk_pages,
            jobs=self.jobs,
            audit=self.audit,
            clock=self.clock,
            ids=self.ids,
        )

    def another_process(self) -> Services:
        """The services of another API or worker process over the same data: its own ports,
        so its own per-account locks; its writes race this process's through the guards."""
        return Services.over(self.ports())

    def account(self, account_id: str) -> Account:
        return self.data.accounts[account_id]

    def contact(self, contact_id: str) -> Contact:
        return self.data.contacts[contact_id]

    def contacts_of(self, account_id: str) -> list[Contact]:
        return sorted(
            (c for c in self.data.contacts.values() if c.account_id == account_id),
            key=lambda c: c.id,
        )

    def history_of(self, contact_id: str) -> list[HistoryEntry]:
        """Oldest first."""
        return sorted(
            (e for e in self.data.history if e.contact_id == contact_id), key=lambda e: e.seq
        )

    def alerts_of(self, account_id: str) -> list[TierAlert]:
        """Oldest first."""
        return [alert.item for owner, alert in self.data.alerts if owner == account_id]

    def tier_changes_of(self, account_id: str) -> list[TierChange]:
        return [change.item for owner, change in self.data.tier_changes if owner == account_id]

    def published_to(self, account_id: str) -> list[Published]:
        return [p for p in self.events.published if p.account_id == account_id]

    def raised_alerts(self, account_id: str) -> list[Stored[TierAlert]]:
        return [
            event.alert
            for p in self.published_to(account_id)
            for event in p.events
            if isinstance(event, AlertRaised)
        ]

    def recount(self, account_id: str) -> UsageCounts:
        return UsageCounts.of([c.state for c in self.contacts_of(account_id)])

    def tamper_counts(self, account_id: str, counts: UsageCounts) -> None:
        """Counters that drifted (a bug or a crash elsewhere), without a revision bump."""
        self.data.accounts[account_id] = replace(self.account(account_id), counts=counts)

    def snapshot(self) -> tuple[object, ...]:
        """Everything stored, to prove that a refused request wrote nothing."""
        data = self.data
        return (
            dict(data.accounts),
            dict(data.contacts),
            list(data.history),
            list(data.tier_changes),
            list(data.alerts),
            set(data.awaiting_delivery),
            dict(data.applied_dates),
            dict(data.lists),
            dict(data.operations),
            {operation_id: dict(pages) for operation_id, pages in data.pages.items()},
            dict(data.idempotency),
            dict(data.users),
            dict(data.teams),
            dict(data.tokens),
            list(data.engagements),
            dict(data.engagement_counts),
            dict(data.forms),
            dict(data.form_submissions),
            dict(data.apps),
            dict(data.exports),
            dict(data.imports),
            dict(data.files),
        )


def fake_world(now: datetime = DEFAULT_NOW) -> FakeWorld:
    data = FakeData()
    return FakeWorld(
        data=data,
        clock=FakeClock(now),
        accounts=FakeAccountStore(data),
        contacts=FakeContactStore(data),
        writer=FakeChangeWriter(data),
        history=FakeHistoryStore(data),
        tier_records=FakeTierRecords(data),
        alert_outbox=FakeAlertOutbox(data),
        tokens=FakeTokenStore(data),
        users=FakeUserStore(data),
        teams=FakeTeamStore(data),
        lists=FakeListStore(data),
        companies=FakeCompanyStore(data),
        deals=FakeDealStore(data),
        apps=FakeAppStore(data),
        email_events=FakeEmailEvents(data),
        engagements=FakeEngagementStore(data),
        forms=FakeFormStore(data),
        exports=FakeExportStore(data),
        imports=FakeImportStore(data),
        files=FakeFileStore(data),
        events=FakePublisher(data),
        operations=FakeBulkOperations(data),
        idempotency=FakeIdempotencyKeys(data),
        bulk_pages=FakeBulkPages(data),
        jobs=FakeJobQueue(),
        audit=FakeAuditLog(data),
        ids=FakeIds(data),
    )


def fake_services(
    now: datetime = DEFAULT_NOW, *, max_active_operations: int = MAX_ACTIVE_OPERATIONS
) -> tuple[Services, FakeWorld]:
    world = fake_world(now)
    return Services.over(world.ports(), max_active_operations=max_active_operations), world


async def open_account(
    services: Services, opening: AccountOpening | None = None, *, marketing_access: bool = True
) -> Caller:
    """Open an account and issue a token for it; the caller that token authenticates."""
    account = await services.accounts.open(opening or AccountOpening(name="Acme"))
    return await caller_for(services, account.id, marketing_access=marketing_access)


async def caller_for(services: Services, account_id: str, *, marketing_access: bool) -> Caller:
    user = await services.users.add(
        account_id,
        UserDraft(name="Tester", email=None, role=Role.ADMIN, marketing_access=marketing_access),
    )
    _, secret = await services.tokens.issue(user, "tests")
    caller = await services.tokens.authenticate(secret)
    assert caller is not None
    return caller


# ---------------------------------------------------------------- helpers for the tests


def never_transient(error: Exception) -> bool:
    """A bulk turn's view of failures: none is worth retrying (each ends its operation)."""
    return False


def codes_and_fields(error: BaseException) -> list[tuple[ErrorCode, tuple[str, ...]]]:
    """What a DomainError refused, as (code, field) pairs."""
    assert isinstance(error, DomainError), error
    return [(e.code, e.field) for e in error.errors]


async def make_contacts(
    services: Services,
    caller: Caller,
    count: int,
    status: MarketingStatus = MarketingStatus.NON_MARKETING,
    prefix: str = "person",
) -> list[Contact]:
    """`count` contacts created by the API in `status`, with emails prefix-<i>@example.com."""
    return [
        await services.contacts.create(
            caller,
            ContactDraft(
                created_via=CreationSource.API,
                marketing_status=status,
                email=f"{prefix}-{i}@example.com",
            ),
        )
        for i in range(count)
    ]

"""The ports a service needs, bundled once per process (API lifespan, worker startup, CLI)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.audit import Actor, AuditEntry, audit_entry
from marketing_contacts.domain.errors import ErrorCode, refuse
from marketing_contacts.services.ledger import PATIENCE_SECONDS, Ledger, retrying
from marketing_contacts.services.locks import AccountLocks
from marketing_contacts.services.ports.accounts import AccountStore
from marketing_contacts.services.ports.alerts import AlertOutbox
from marketing_contacts.services.ports.apps import AppStore
from marketing_contacts.services.ports.audit import AuditLog
from marketing_contacts.services.ports.bulk import BulkOperations, BulkPages, IdempotencyKeys
from marketing_contacts.services.ports.changes import ChangeWriter
from marketing_contacts.services.ports.clock import Clock, IdGenerator
from marketing_contacts.services.ports.companies import CompanyStore
from marketing_contacts.services.ports.contacts import ContactStore
from marketing_contacts.services.ports.deals import DealStore
from marketing_contacts.services.ports.email_events import EmailEvents
from marketing_contacts.services.ports.engagements import EngagementStore
from marketing_contacts.services.ports.events import EventPublisher
from marketing_contacts.services.ports.exports import ExportStore
from marketing_contacts.services.ports.forms import FormStore
from marketing_contacts.services.ports.history import HistoryStore
from marketing_contacts.services.ports.imports import FileStore, ImportStore
from marketing_contacts.services.ports.jobs import JobQueue
from marketing_contacts.services.ports.lists import ListStore
from marketing_contacts.services.ports.tier_records import TierRecords
from marketing_contacts.services.ports.tokens import TokenStore
from marketing_contacts.services.ports.users import TeamStore, UserStore

T = TypeVar("T")


@dataclass
class Ports:
    accounts: AccountStore
    contacts: ContactStore
    writer: ChangeWriter
    history: HistoryStore
    tier_records: TierRecords
    alert_outbox: AlertOutbox
    tokens: TokenStore
    users: UserStore
    teams: TeamStore
    lists: ListStore
    companies: CompanyStore
    deals: DealStore
    apps: AppStore
    email_events: EmailEvents
    engagements: EngagementStore
    forms: FormStore
    imports: ImportStore
    files: FileStore
    exports: ExportStore
    events: EventPublisher
    operations: BulkOperations
    idempotency: IdempotencyKeys
    bulk_pages: BulkPages
    jobs: JobQueue
    audit: AuditLog
    clock: Clock
    ids: IdGenerator
    #: writers of one account in this process queue instead of racing each other
    account_locks: AccountLocks = field(default_factory=AccountLocks)
    #: how long a write waits, in all, for an account other writers hold before CONFLICT
    patience: float = PATIENCE_SECONDS

    async def retrying_on(self, account_id: str, attempt: Callable[[], Awaitable[T]]) -> T:
        """`attempt` retried until its conditional writes hold, after this process's other
        writers of the account (services.ledger.retrying), CONFLICT past the patience."""
        lock = self.account_locks.holding(account_id, self.patience)
        return await retrying(attempt, lock=lock, patience=self.patience)

    def audit_entry(
        self, account_id: str, actor: Actor, action: str, record_ids: Iterable[str]
    ) -> AuditEntry:
        """P4: the entry a write of now records, in the write's own transaction."""
        return audit_entry(
            self.ids.new_id(), account_id, self.clock.now(), action, record_ids, actor
        )

    @property
    def ledger(self) -> Ledger:
        return Ledger(self.writer, self.events, self.alert_outbox)

    async def account(self, account_id: str) -> Account:
        account = await self.accounts.get(account_id)
        if account is None:
            raise refuse(ErrorCode.NOT_FOUND, f"account {account_id} does not exist")
        return account

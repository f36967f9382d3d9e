"""The ports a service needs, bundled once per process (API lifespan, worker startup, CLI)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.errors import ErrorCode, refuse
from marketing_contacts.services.ledger import PATIENCE_SECONDS, Ledger, retrying
from marketing_contacts.services.lists import ListStore
from marketing_contacts.services.ports import (
    AccountStore,
    AlertOutbox,
    BulkStore,
    ChangeWriter,
    Clock,
    ContactStore,
    EventPublisher,
    HistoryStore,
    JobQueue,
    TierRecords,
    TokenStore,
)

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
    lists: ListStore
    events: EventPublisher
    bulk: BulkStore
    jobs: JobQueue
    clock: Clock
    #: one lock per account in this process: writers here queue instead of racing each other
    #: through optimistic retries (writers in other processes still race, and retry)
    account_locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    #: how long a write waits, in all, for an account other writers hold before CONFLICT
    patience: float = PATIENCE_SECONDS

    def account_lock(self, account_id: str) -> asyncio.Lock:
        return self.account_locks.setdefault(account_id, asyncio.Lock())

    async def retrying_on(self, account_id: str, attempt: Callable[[], Awaitable[T]]) -> T:
        """`attempt` retried until its conditional writes hold, after this process's other
        writers of the account (services.ledger.retrying), CONFLICT past the patience."""
        return await retrying(attempt, lock=self.account_lock(account_id), patience=self.patience)

    @property
    def ledger(self) -> Ledger:
        return Ledger(self.writer, self.events, self.alert_outbox)

    async def account(self, account_id: str) -> Account:
        account = await self.accounts.get(account_id)
        if account is None:
            raise refuse(ErrorCode.NOT_FOUND, f"account {account_id} does not exist")
        return account

"""Committing decided batches, retrying stale decisions, and telling subscribers (A3)."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TypeVar

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.changes import UsageChange
from marketing_contacts.domain.contacts import StatusUpdate, history_of
from marketing_contacts.services.locks import account_busy
from marketing_contacts.services.ports.alerts import AlertOutbox
from marketing_contacts.services.ports.changes import (
    ChangeBatch,
    ChangeWriter,
    Committed,
    StaleWrite,
    StoreBusy,
)
from marketing_contacts.services.ports.events import (
    AlertRaised,
    Event,
    EventPublisher,
    UsageChanged,
)

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_ATTEMPTS = 40
#: how long a write waits, in all, for an account other writers hold (MONGODB_TIMEOUT_SECONDS)
PATIENCE_SECONDS = 10.0
#: an attempt needs this much of the patience left, or it would only meet the deadline midway
LAST_ATTEMPT_SECONDS = 0.25


async def retrying(
    attempt: Callable[[], Awaitable[T]],
    attempts: int = MAX_ATTEMPTS,
    lock: AbstractAsyncContextManager[None] | None = None,
    patience: float = PATIENCE_SECONDS,
) -> T:
    """Run `attempt` until its conditional writes hold; each try re-reads and decides again.

    Inside `lock` (the account's, in this process: AccountLocks.holding, which gives up with
    CONFLICT past the patience) the attempts of this process's writers run one at a time, so only
    writers in other processes make an attempt stale. However long the account stays held
    (writers elsewhere keep moving it, or a transaction a killed process left open holds it
    until the database ends it), the caller hears CONFLICT within `patience` seconds, waiting
    for the lock included, and nothing is applied."""
    deadline = time.monotonic() + patience
    if lock is None:
        return await _until_it_holds(attempt, attempts, deadline)
    async with lock:
        return await _until_it_holds(attempt, attempts, deadline)


async def _until_it_holds(attempt: Callable[[], Awaitable[T]], attempts: int, deadline: float) -> T:
    for number in range(attempts):
        if deadline - time.monotonic() < LAST_ATTEMPT_SECONDS:
            break  # the lock came too late to try: the account is as busy as if it had failed
        try:
            return await attempt()
        except StaleWrite:
            pause = random.uniform(0, min(0.002 * 2**number, 0.1))
            if time.monotonic() + pause >= deadline:
                break
            await asyncio.sleep(pause)
        except StoreBusy as error:
            raise account_busy() from error
    raise account_busy()


def batch_for(
    account: Account,
    change: UsageChange,
    updates: Sequence[StatusUpdate] = (),
    audit: AuditEntry | None = None,
) -> ChangeBatch:
    """The batch that writes a decided change: the account after it, the status updates with
    their history entries, the tier change, the alerts and the write's audit entry (P4)."""
    return ChangeBatch(
        account_before=account,
        account_after=change.account,
        status_updates=tuple(updates),
        history=history_of(updates),
        tier_change=change.tier_change,
        alerts=change.alerts,
        audit=audit,
    )


@dataclass
class Ledger:
    writer: ChangeWriter
    events: EventPublisher
    outbox: AlertOutbox

    async def commit(self, batch: ChangeBatch, *also: Event) -> Committed:
        """Write the batch, then tell subscribers what it did, with `also` in the same
        announcement (a bulk page's progress)."""
        committed = await self.writer.commit(batch)
        await self.announce(batch, committed, *also)
        return committed

    async def announce(self, batch: ChangeBatch, committed: Committed, *also: Event) -> None:
        """Publish after the commit; a publishing failure never undoes or fails the change:
        the alerts stay stored as awaiting delivery, and a worker delivers them (A3)."""
        events: list[Event] = [
            AlertRaised(alert, committed_at=committed.at) for alert in committed.alerts
        ]
        if batch.account_after.counts != batch.account_before.counts:
            events.append(UsageChanged(batch.account_after.usage))
        events += also
        if await self.tell(batch.account_after.id, *events) and committed.alerts:
            try:
                await self.outbox.delivered([alert.id for alert in committed.alerts])
            except Exception:
                log.exception(
                    "alerts were published but not marked delivered; a worker will "
                    "publish them once more"
                )

    async def tell(self, account_id: str, *events: Event) -> bool:
        """Publish `events`; False (logged) when the broker could not take them."""
        if not events:
            return True
        try:
            await self.events.publish(account_id, events)
        except Exception:
            log.exception("publishing %d events of account %s failed", len(events), account_id)
            return False
        return True

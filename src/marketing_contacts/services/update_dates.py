"""Applying update dates (U4): P becomes N, the next date comes due, the alerts reset.

Exactly once per account and date, also when two runs overlap: each chunk is a conditional
batch (a contact flips only while still in P with the same status_seq), and moving the account
past the date is one conditional write that also records the date as applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.audit import SYSTEM
from marketing_contacts.domain.changes import plan_usage_change, roll_over
from marketing_contacts.domain.contacts import apply_update_date_to, transitions_of
from marketing_contacts.domain.statuses import StatusSource, StatusSourceType
from marketing_contacts.domain.update_dates import due_update_dates, update_instant
from marketing_contacts.services.ledger import batch_for
from marketing_contacts.services.ports.accounts import DueUpdateDate
from marketing_contacts.services.wiring import Ports

CHUNK = 500


@dataclass(frozen=True)
class AppliedUpdateDate:
    account_id: str
    update_date: date
    #: contacts this run took from P to N
    contacts_changed: int
    #: False when another run had applied the date already
    applied_here: bool


class UpdateDateService:
    def __init__(self, ports: Ports, chunk: int = CHUNK) -> None:
        self.ports = ports
        self.chunk = chunk

    async def enqueue_due(self, now: datetime) -> list[DueUpdateDate]:
        """One job per account with an update date due at `now` (each account's job applies
        its dates, `apply_due_for`); the jobs enqueued. A job is named by its account and
        oldest due date, so a run that finds the job enqueued already adds none."""
        return [
            due
            for due in await self.ports.accounts.due_for_update(now)
            if await self.ports.jobs.enqueue_update_dates(due.account_id, due.update_date)
        ]

    async def apply_due(
        self, now: datetime, account_id: str | None = None
    ) -> list[AppliedUpdateDate]:
        """Every update date due at `now`, oldest first, for one account or all of them, one
        account after another (the command line's run; the workers run one job per account)."""
        ids = [account_id] if account_id else await self._due_accounts(now)
        applied: list[AppliedUpdateDate] = []
        for one in ids:
            applied += await self.apply_due_for(one, now)
        return applied

    async def _due_accounts(self, now: datetime) -> list[str]:
        return [due.account_id for due in await self.ports.accounts.due_for_update(now)]

    async def apply_due_for(self, account_id: str, now: datetime) -> list[AppliedUpdateDate]:
        """The account's update dates due at `now`, oldest first, each once."""
        applied: list[AppliedUpdateDate] = []
        account = await self.ports.account(account_id)
        while due := due_update_dates(
            account.next_update_date, account.schedule, account.timezone, now
        ):
            one, account = await self._apply(account, due[0])
            applied.append(one)
            if not one.applied_here:
                break
        return applied

    async def apply_update_date(self, account_id: str, update_date: date) -> AppliedUpdateDate:
        applied, _ = await self._apply(await self.ports.account(account_id), update_date)
        return applied

    async def _apply(
        self, account: Account, update_date: date
    ) -> tuple[AppliedUpdateDate, Account]:
        """One date: its chunks, then the account past it; what it did, and the account as
        its last write left it. Each write holds only on the account as the one before left
        it (its revision); one that finds it moved reads it again (StaleWrite, retried)."""
        starts = update_instant(update_date, account.timezone)
        source = StatusSource(StatusSourceType.UPDATE_DATE, update_date.isoformat())
        known: Account | None = account

        async def flip_chunk() -> int:
            nonlocal known
            pending = await self.ports.contacts.pending_before(account.id, starts, self.chunk)
            updates = [u for c in pending if (u := apply_update_date_to(c, starts, source))]
            if not updates:
                return 0
            before = known or await self.ports.account(account.id)
            change = plan_usage_change(before, transitions_of(updates), self.ports.clock.now())
            known = None  # until the commit holds
            ids = [u.after.id for u in updates]
            audit = self.ports.audit_entry(account.id, SYSTEM, "updateDate", ids)
            await self.ports.ledger.commit(batch_for(before, change, updates, audit))
            known = change.account
            return len(updates)

        changed = 0
        while flipped := await self.ports.retrying_on(account.id, flip_chunk):
            changed += flipped

        async def finish() -> tuple[bool, Account]:
            nonlocal known
            before = known or await self.ports.account(account.id)
            if before.next_update_date != update_date:
                return False, before
            after = roll_over(before, update_date)
            known = None  # until the write holds
            recorded = await self.ports.writer.record_update_date(
                before, after, update_date, changed, self.ports.clock.now()
            )
            return recorded, after if recorded else await self.ports.account(account.id)

        recorded, after = await self.ports.retrying_on(account.id, finish)
        return AppliedUpdateDate(account.id, update_date, changed, recorded), after

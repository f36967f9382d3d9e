"""Usage as clients see it, and the reconciliation that proves the counters exact (T1)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from marketing_contacts.domain.errors import ErrorCode, refuse
from marketing_contacts.domain.usage import Usage, UsageCounts
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.ports.lists import ListRecount
from marketing_contacts.services.wiring import Ports


@dataclass(frozen=True)
class Reconciliation:
    account_id: str
    stored: UsageCounts
    actual: UsageCounts
    #: the account's lists whose size had drifted from their members (repaired)
    lists: tuple[ListRecount, ...] = ()

    @property
    def drifted(self) -> bool:
        return self.stored != self.actual or bool(self.lists)


class UsageService:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports

    async def usage(self, caller: Caller) -> Usage:
        return (await self.ports.account(caller.account_id)).usage

    async def reconcile(self, account_id: str) -> Reconciliation:
        """Recount from the contacts; where the counters differ, set them to the recount.
        The sizes of the account's lists likewise, each list by itself."""

        async def attempt() -> Reconciliation:
            read = await self.ports.writer.read_counts(account_id)
            if read is None:
                raise refuse(ErrorCode.NOT_FOUND, f"account {account_id} does not exist")
            account, actual = read
            if actual != account.counts:
                await self.ports.writer.repair_counts(account, actual)
            return Reconciliation(account_id, account.counts, actual)

        counted = await self.ports.retrying_on(account_id, attempt)
        return replace(counted, lists=tuple(await self.ports.lists.recount(account_id)))

    async def reconcile_all(self) -> list[Reconciliation]:
        """Every account, one after another (the command line's run)."""
        return [await self.reconcile(one) for one in await self.ports.accounts.all_ids()]

    async def enqueue_all(self, day: date) -> list[str]:
        """One reconciliation job per account (the workers' daily run); the accounts whose
        job this enqueued: a job is named by its account and `day`, so a second run that
        day finds it enqueued already."""
        return [
            one
            for one in await self.ports.accounts.all_ids()
            if await self.ports.jobs.enqueue_reconciliation(one, day)
        ]

"""The job queue the background work is handed to (arq today, replaceable).

Bulk operations are queued per account, not per operation: an account has at most one job
waiting or running, which takes one bounded turn of the account's operations and is then
queued again behind the other accounts' jobs while the account has work left. Update dates and
the reconciliation run as one job per account, named so that enqueueing one twice is harmless.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol


class JobQueue(Protocol):
    async def enqueue_account_bulk(self, account_id: str) -> bool:
        """Make sure a job will take the account's next bulk turn: True if this enqueued it,
        False when the account's job already waits or runs."""
        ...

    async def replace_account_bulk(self, account_id: str) -> bool:
        """The account's running job let its lease run out (its worker died or stalled): a
        new job takes the account's work, and the old one, should it run again, does nothing.
        False (nothing enqueued) while the account's job still waits in the queue: that one
        resumes the work when its turn comes."""
        ...

    async def mark_list_deletions(self, account_id: str) -> None:
        """Note that the account has deleted lists whose membership its turns take out."""
        ...

    async def take_list_deletions_mark(self, account_id: str) -> bool:
        """Take the account's mark off; whether it was there (a turn that then finds
        deletions puts it back: a delete marking meanwhile is never lost)."""
        ...

    async def enqueue_update_dates(self, account_id: str, update_date: date) -> bool:
        """A job applying the account's due update dates, from `update_date` on; False if that
        job was enqueued already."""
        ...

    async def enqueue_reconciliation(self, account_id: str, day: date) -> bool:
        """A job reconciling the account's usage counters, once a `day`; False if that job was
        enqueued already."""
        ...

    async def enqueue_export(self, export_id: str) -> bool:
        """I6: a job writing the export's file; False while that job waits or runs."""
        ...

    async def enqueue_import(self, import_id: str, attempt: int = 0) -> bool:
        """I1: a job running the import (`attempt` > 0: one taking over from a worker whose
        lease ran out, under a new job id); False while that job waits or runs."""
        ...

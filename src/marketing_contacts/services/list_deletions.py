"""Taking a deleted list's membership out, the worker's side (deleteList returns at once).

A deleted list is no longer live: nothing reads it or joins it. Its members are then taken out
in pages within the account's bulk turns (services.bulk_runner), so that a list of a million
contacts costs its account turns, never a request, and waits its turn behind other accounts.
Each page is safe to repeat (it takes out members that are still in); the run holds a lease on
the deletion, renewed at each page, and the sweeper hands a deletion whose run died, or that no
turn took up, to a new job. After its last page the list is removed for good.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from marketing_contacts.domain.audit import Actor
from marketing_contacts.services.ports.lists import ListDeletion
from marketing_contacts.services.turns import Budget
from marketing_contacts.services.wiring import Ports

log = logging.getLogger(__name__)

#: the deletions of an account one turn looks at
DELETIONS_PER_TURN = 10


class ListDeletions:
    def __init__(self, ports: Ports, chunk: int, lease: timedelta) -> None:
        self.ports = ports
        self.chunk = chunk
        self.lease = lease

    async def take(self, account_id: str, owner: str, budget: Budget) -> list[str]:
        """Take members out of the account's deleted lists under `owner` while the budget
        lasts, each page one of its pages; the lists removed for good."""
        removed: list[str] = []
        for deletion in await self._marked_deletions(account_id):
            if budget.spent(self.ports.clock.now()):
                break
            if await self._drop(deletion, owner, budget):
                removed.append(deletion.list_id)
        return removed

    async def waiting(self, account_id: str, owner: str) -> bool:
        """A deletion of the account that `owner`'s next turn could take."""
        now = self.ports.clock.now()
        deletions = await self._marked_deletions(account_id)
        return any(d.claimable_by(owner, now) for d in deletions)

    async def _marked_deletions(self, account_id: str) -> list[ListDeletion]:
        """The account's deletions, looked for only while the account is marked as having
        some (a turn of an account without any sends no database command for them). The mark
        is taken off before looking and put back when some are found: a delete that marks
        the account meanwhile stays marked."""
        jobs = self.ports.jobs
        if not await jobs.take_list_deletions_mark(account_id):
            return []
        deletions = await self.ports.lists.deletions(account_id, DELETIONS_PER_TURN)
        if deletions:
            await jobs.mark_list_deletions(account_id)
        return deletions

    async def _drop(self, deletion: ListDeletion, owner: str, budget: Budget) -> bool:
        """Pages of the deletion's members while the budget lasts; True once it is removed."""
        lists, clock = self.ports.lists, self.ports.clock
        now = clock.now()
        if not await lists.claim_deletion(deletion, owner, now, now + self.lease):
            return False  # another run holds it
        # P4: each page names who deleted the list, the list and the contacts it takes out
        actor = Actor(deletion.deleted_by)
        while not budget.spent(clock.now()):
            audit = self.ports.audit_entry(
                deletion.account_id, actor, "deleteList", [deletion.list_id]
            )
            dropped = await lists.drop_members(
                deletion, owner, self.chunk, clock.now() + self.lease, audit
            )
            budget.spend()
            if dropped is None:
                log.warning(
                    "deleted list %s: run %s stalled past its lease; it stops",
                    deletion.list_id,
                    owner,
                )
                return False
            if dropped < self.chunk:
                return await lists.purge(deletion, owner)
        return False

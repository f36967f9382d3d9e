"""One lock per account, for the writers of this process, held only while it is needed.

Writers of one account in one process queue on its lock instead of racing each other through
optimistic retries (writers in other processes still race, and retry). A lock lives only while
a writer holds or awaits it, so the process keeps as many locks as it has accounts being written
at once, not one for every account it ever wrote.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from marketing_contacts.domain.errors import DomainError, ErrorCode, refuse


def account_busy() -> DomainError:
    return refuse(
        ErrorCode.CONFLICT,
        "the account is busy with other changes; nothing was applied: retry in a few seconds",
    )


@dataclass
class _Held:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: writers holding or awaiting the lock
    users: int = 0


class AccountLocks:
    def __init__(self) -> None:
        self._held: dict[str, _Held] = {}

    def __len__(self) -> int:
        """How many accounts have a writer holding or awaiting their lock."""
        return len(self._held)

    @asynccontextmanager
    async def holding(self, account_id: str, patience: float) -> AsyncIterator[None]:
        """The account's lock, awaited for at most `patience` seconds (CONFLICT past it)."""
        held = self._held.setdefault(account_id, _Held())
        held.users += 1
        try:
            try:
                async with asyncio.timeout(patience):
                    await held.lock.acquire()
            except TimeoutError as error:
                raise account_busy() from error
            try:
                yield
            finally:
                held.lock.release()
        finally:
            held.users -= 1
            if held.users == 0:
                del self._held[account_id]

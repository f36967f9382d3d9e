"""The job queue the background work is handed to (arq today, replaceable)."""

from __future__ import annotations

from typing import Protocol


class JobQueue(Protocol):
    async def enqueue_bulk_operation(self, operation_id: str, attempt: int) -> None: ...

    async def is_waiting(self, operation_id: str, attempt: int) -> bool:
        """The job of that hand-over still waits in the queue for a worker."""
        ...

"""Forms and their submissions (F1). A submission is written by the ChangeWriter, in the batch
that creates or changes its contact and moves the counts (ChangeBatch.submission); the form's
submission count moves in that same transaction."""

from __future__ import annotations

from typing import Protocol

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.forms import Form, FormSubmission
from marketing_contacts.services.paging import Page


class FormStore(Protocol):
    """Forms are the account's (no owner: every user of the account sees them); every write
    takes its audit entry (P4) and writes it in the same transaction."""

    async def insert(self, form: Form, audit: AuditEntry | None = None) -> None: ...

    async def get(self, account_id: str, form_id: str) -> Form | None:
        """The account's form (None for another account's, or an id that is no id)."""
        ...

    async def all(self, account_id: str) -> list[Form]:
        """Every form of the account, in the order they were created."""
        ...

    async def count(self, account_id: str) -> int: ...

    async def update_settings(
        self, before: Form, after: Form, audit: AuditEntry | None = None
    ) -> bool:
        """Write the name and settings that differ (the submission count stays as submissions
        move it); False, and nothing written, when the form is gone."""
        ...

    async def submissions(
        self, account_id: str, form_id: str, first: int, after: str | None
    ) -> Page[FormSubmission]:
        """The form's submissions, newest first."""
        ...

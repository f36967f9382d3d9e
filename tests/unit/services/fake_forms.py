"""Forms in memory, and the submission a ChangeBatch stores with its form's count moved, as
the real store and writer do (F1)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.forms import Form, FormSubmission
from marketing_contacts.services.paging import Page
from marketing_contacts.services.ports.changes import StaleWrite
from tests.support.waiting import let_others_run
from tests.unit.services.fake_audit import record
from tests.unit.services.fake_paging import keyset_page, object_id

if TYPE_CHECKING:
    from tests.unit.services.fakes import FakeData

KIND = "form_submission"


def check_submission(data: FakeData, submission: FormSubmission | None) -> None:
    """The batch's condition: its form is still there (StaleWrite, nothing written)."""
    if submission is None:
        return
    form = data.forms.get(submission.form_id)
    if form is None or form.account_id != submission.account_id:
        raise StaleWrite(f"form {submission.form_id} went")


def write_submission(data: FakeData, submission: FormSubmission | None) -> None:
    """After `check_submission` held: the submission stored, its form's count moved by one."""
    if submission is None:
        return
    form = data.forms[submission.form_id]
    data.forms[form.id] = replace(form, submission_count=form.submission_count + 1)
    data.form_submissions[submission.id] = submission


class FakeFormStore:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def _of(self, account_id: str) -> list[Form]:
        return sorted(
            (f for f in self.data.forms.values() if f.account_id == account_id),
            key=lambda f: f.id,
        )

    async def insert(self, form: Form, audit: AuditEntry | None = None) -> None:
        await let_others_run()
        if form.id in self.data.forms:
            raise ValueError(f"form {form.id} exists")
        self.data.forms[form.id] = form
        record(self.data, audit)

    async def get(self, account_id: str, form_id: str) -> Form | None:
        await let_others_run()
        form = self.data.forms.get(form_id)
        return form if form is not None and form.account_id == account_id else None

    async def all(self, account_id: str) -> list[Form]:
        await let_others_run()
        return self._of(account_id)

    async def count(self, account_id: str) -> int:
        await let_others_run()
        return len(self._of(account_id))

    async def update_settings(
        self, before: Form, after: Form, audit: AuditEntry | None = None
    ) -> bool:
        await let_others_run()
        stored = self.data.forms.get(after.id)
        if stored is None or stored.account_id != after.account_id:
            return False
        self.data.forms[after.id] = replace(
            after, submission_count=stored.submission_count, created_at=stored.created_at
        )
        record(self.data, audit)
        return True

    async def submissions(
        self, account_id: str, form_id: str, first: int, after: str | None
    ) -> Page[FormSubmission]:
        await let_others_run()
        items = [
            s
            for s in self.data.form_submissions.values()
            if s.account_id == account_id and s.form_id == form_id
        ]
        return keyset_page(items, lambda s: s.id, object_id, KIND, first, after, descending=True)

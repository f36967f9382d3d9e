"""FormStore and ChangeBatch.submission (F1): forms read back whole, only in their account, in
creation order; a settings write keeps the submission count, which only submissions move; a
batch with a submission stores it with its contact and the counts, and moves its form's count,
all in one commit, or nothing when the form is gone; submissions read newest first with keyset
cursors; each write records its audit entry."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.forms import Form, FormKind, FormSubmission, FormValue
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.ports.changes import ChangeBatch, StaleWrite
from marketing_contacts.services.wiring import Ports
from tests.contract.records import (
    all_pages,
    contacts_of,
    items_of,
    new_contact,
    now,
    stored_account,
)
from tests.contract.test_companies_port import entry


def new_form(ports: Ports, account: Account, **fields: Any) -> Form:
    at = now(ports)
    values: dict[str, Any] = {"name": "Demo", "kind": FormKind.NATIVE, **fields}
    return Form(
        id=ports.ids.new_id(at=at), account_id=account.id, created_at=at, updated_at=at, **values
    )


async def stored_form(ports: Ports, account: Account, **fields: Any) -> Form:
    form = new_form(ports, account, **fields)
    await ports.forms.insert(form)
    return form


def new_submission(ports: Ports, form: Form, **fields: Any) -> FormSubmission:
    at = now(ports)
    values: dict[str, Any] = {"values": (FormValue("email", "a@example.com"),), **fields}
    return FormSubmission(
        id=ports.ids.new_id(at=at), account_id=form.account_id, form_id=form.id, at=at, **values
    )


async def audited(ports: Ports, account: Account) -> list[str]:
    page = await ports.audit.page(Scope(account.id), None, 50, None)
    return [e.action for e in page.items]


async def test_f1_a_form_reads_back_whole_only_in_its_account(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    form = new_form(
        ports,
        account,
        kind=FormKind.EXTERNAL,
        set_contacts_as_marketing=False,
        create_without_email=True,
        lifecycle_stage=LifecycleStage.SUBSCRIBER,
    )
    await ports.forms.insert(form, entry(ports, account, "createForm", form.id))
    second = await stored_form(ports, account, name="Second")
    assert await ports.forms.get(account.id, form.id) == form
    assert await ports.forms.get(other.id, form.id) is None
    assert await ports.forms.get(account.id, "not-an-id") is None
    assert await ports.forms.all(account.id) == [form, second]
    assert await ports.forms.all(other.id) == []
    assert (await ports.forms.count(account.id), await ports.forms.count(other.id)) == (2, 0)
    assert await audited(ports, account) == ["createForm"]


async def test_f1_a_settings_write_keeps_the_count_and_misses_a_form_that_is_gone(
    ports: Ports,
) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    form = await stored_form(ports, account)
    await ports.writer.commit(ChangeBatch(account, account, submission=new_submission(ports, form)))
    read = await ports.forms.get(account.id, form.id)
    assert read is not None and read.submission_count == 1
    edited = replace(form, name="Renamed", set_contacts_as_marketing=False)
    assert await ports.forms.update_settings(form, edited, entry(ports, account, "updateForm"))
    assert await ports.forms.get(account.id, form.id) == replace(edited, submission_count=1)
    assert not await ports.forms.update_settings(
        replace(form, account_id=other.id), replace(edited, account_id=other.id, name="X")
    )
    assert await audited(ports, account) == ["updateForm"]


async def test_f1_a_submission_is_committed_with_its_contact_and_the_counts(ports: Ports) -> None:
    account = await stored_account(ports)
    form = await stored_form(ports, account)
    contact = new_contact(ports, account, email="ada@example.com")
    submission = new_submission(ports, form, contact_id=contact.id, created_contact=True)
    after = replace(account, revision=account.revision + 1)
    await ports.writer.commit(
        ChangeBatch(
            account,
            after,
            created=(contact,),
            submission=submission,
            audit=entry(ports, account, "submitForm", submission.id),
        )
    )
    assert [c.id for c in await contacts_of(ports, account.id)] == [contact.id]
    page = await ports.forms.submissions(account.id, form.id, 10, None)
    assert page.items == [submission]
    read = await ports.forms.get(account.id, form.id)
    assert read is not None and read.submission_count == 1
    assert await audited(ports, account) == ["submitForm"]


async def test_f1_a_batch_whose_form_is_gone_writes_nothing(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    form = await stored_form(ports, other)  # another account's: not this account's form
    contact = new_contact(ports, account, email="ada@example.com")
    submission = replace(new_submission(ports, form), account_id=account.id)
    with pytest.raises(StaleWrite):
        await ports.writer.commit(
            ChangeBatch(
                account,
                replace(account, revision=account.revision + 1),
                created=(contact,),
                submission=submission,
                audit=entry(ports, account, "submitForm"),
            )
        )
    assert await contacts_of(ports, account.id) == []
    assert (await ports.forms.submissions(account.id, form.id, 10, None)).items == []
    assert (await ports.accounts.get(account.id)) == account
    assert await audited(ports, account) == []
    read = await ports.forms.get(other.id, form.id)
    assert read is not None and read.submission_count == 0


async def test_f1_submissions_read_newest_first_only_their_forms(ports: Ports) -> None:
    account = await stored_account(ports)
    form, other_form = await stored_form(ports, account), await stored_form(ports, account)
    made = []
    for i in range(5):
        submission = new_submission(ports, form, values=(FormValue("n", str(i)),))
        await ports.writer.commit(ChangeBatch(account, account, submission=submission))
        made.append(submission)
    await ports.writer.commit(
        ChangeBatch(account, account, submission=new_submission(ports, other_form))
    )

    async def read(first: int, after: str | None) -> Any:
        return await ports.forms.submissions(account.id, form.id, first, after)

    pages = await all_pages(read, 2)
    assert items_of(pages) == made[::-1]
    assert [len(p.items) for p in pages] == [2, 2, 1]
    assert [p.has_previous_page for p in pages] == [False, True, True]
    read_form = await ports.forms.get(account.id, form.id)
    assert read_form is not None and read_form.submission_count == 5

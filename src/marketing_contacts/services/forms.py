"""Forms and their submissions (F1, F4, D3, C4, C8).

Forms are the account's: every user of the account sees them all (like lists). A submission is
one transaction (ChangeBatch.submission): the submission, the contact it creates or changes,
the counts (T1) and its form's submission count are committed together, or nothing is.

The submitter is matched by its address in the whole account (an address is the account's
once, C8), but a caller changes only contacts it sees (P3): a submitter outside the caller's
scope is linked to the submission and left as it is. Under the tier's BLOCK policy (T6) the
submitter is created or kept all the same, non-marketing: the submission says so
(blocked_by_tier) and the account raises UPGRADE_BLOCKED in the same commit (a form never
loses a lead).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from marketing_contacts.domain.accounts import LEGACY_SOURCE
from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.changes import plan_usage_change
from marketing_contacts.domain.contacts import (
    Contact,
    LifecycleStage,
    history_of,
    move_to,
    transitions_of,
)
from marketing_contacts.domain.errors import ErrorCode, check_id, record_not_found, refuse
from marketing_contacts.domain.forms import (
    MAX_FORMS,
    Form,
    FormKind,
    FormSubmission,
    FormValue,
    Intake,
    check_values,
    form_name,
    intake,
    submitted_email,
)
from marketing_contacts.domain.permissions import check_marketing_access
from marketing_contacts.domain.statuses import MarketingState, MarketingStatus
from marketing_contacts.domain.usage import Transition
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.paging import Page, paged
from marketing_contacts.services.ports.changes import ChangeBatch, StaleWrite
from marketing_contacts.services.ports.contacts import DuplicateEmail

if TYPE_CHECKING:
    from marketing_contacts.services.wiring import Ports

#: the fields updateForm may change (a form's kind is what it is)
EDITABLE_FIELDS = ("name", "set_contacts_as_marketing", "create_without_email", "lifecycle_stage")
_MARKETING = ("set_contacts_as_marketing",)


@dataclass(frozen=True)
class FormDraft:
    name: str
    kind: FormKind = FormKind.NATIVE
    set_contacts_as_marketing: bool = True
    create_without_email: bool = False
    lifecycle_stage: LifecycleStage = LifecycleStage.LEAD


def _check_marketing_setting(caller: Caller) -> None:
    """F4, P2: a form that makes contacts marketing is set up by a user with marketing
    access; its submissions then need none."""
    check_marketing_access(
        MarketingStatus.MARKETING,
        marketing_access=caller.marketing_access,
        field=_MARKETING,
        what="a form that sets contacts as marketing",
    )


def _transitions(taken: Intake) -> list[Transition]:
    """T1: how the submission moves the counters."""
    if taken.contact is None:
        return []
    if taken.created:
        return [Transition(taken.contact.id, None, taken.contact.state)]
    return transitions_of([taken.update] if taken.update is not None else [])


def _counted(taken: Intake, at: datetime) -> Intake:
    """K1: a submitter created in an account without marketing contacts is MARKETING (source
    LEGACY), whatever the form's setting: every contact counts."""
    contact = taken.contact
    if not taken.created or contact is None:
        return taken
    blank = contact if taken.update is None else taken.update.before
    update = move_to(blank, MarketingState.MARKETING, LEGACY_SOURCE, at)
    return Intake(update.after, created=True, update=update)


class FormService:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports
        self.forms = ports.forms

    async def get(self, caller: Caller, form_id: str) -> Form | None:
        check_id(form_id, "id")
        return await self.forms.get(caller.account_id, form_id)

    async def all(self, caller: Caller) -> list[Form]:
        return await self.forms.all(caller.account_id)

    async def submissions(
        self, caller: Caller, form_id: str, first: int, after: str | None
    ) -> Page[FormSubmission]:
        """Every submission of the form, newest first (a submission's contact is shown only
        to a caller who sees it: the schema's business)."""
        return await paged(
            first, after, self.forms.submissions(caller.account_id, form_id, first, after)
        )

    async def contacts_seen(self, caller: Caller, contact_ids: Sequence[str]) -> list[Contact]:
        """The submitters among `contact_ids` that the caller sees (P3), read at once."""
        return await self.ports.contacts.get_many(caller.scope, contact_ids)

    async def create(self, caller: Caller, draft: FormDraft) -> Form:
        name = form_name(draft.name, "name")
        if draft.set_contacts_as_marketing:
            _check_marketing_setting(caller)
        if await self.forms.count(caller.account_id) >= MAX_FORMS:
            raise refuse(ErrorCode.TOO_MANY, f"an account keeps at most {MAX_FORMS} forms")
        now = self.ports.clock.now()
        form = Form(
            id=self.ports.ids.new_id(at=now),
            account_id=caller.account_id,
            name=name,
            kind=draft.kind,
            created_at=now,
            updated_at=now,
            set_contacts_as_marketing=draft.set_contacts_as_marketing,
            create_without_email=draft.create_without_email,
            lifecycle_stage=draft.lifecycle_stage,
        )
        await self.forms.insert(form, self._audit(caller, "createForm", form.id))
        return form

    async def update(self, caller: Caller, form_id: str, changes: Mapping[str, Any]) -> Form:
        """The given settings changed; turning the marketing setting on needs marketing access
        (F4); nothing on an error."""
        check_id(form_id, "id")
        given = dict(changes)
        for name in EDITABLE_FIELDS:
            if name in given and given[name] is None:
                raise refuse(ErrorCode.INVALID, "a form keeps every setting: give a value", name)
        if "name" in given:
            given["name"] = form_name(given["name"], "name")
        form = await self.forms.get(caller.account_id, form_id)
        if form is None:
            raise record_not_found("form", form_id, "id")
        if given.get("set_contacts_as_marketing") and not form.set_contacts_as_marketing:
            _check_marketing_setting(caller)
        if all(getattr(form, name) == value for name, value in given.items()):
            return form
        edited = replace(form, **given, updated_at=self.ports.clock.now())
        if not await self.forms.update_settings(
            form, edited, self._audit(caller, "updateForm", form.id)
        ):
            raise record_not_found("form", form_id, "id")
        return edited

    async def submit(
        self, caller: Caller, form_id: str, values: Sequence[FormValue]
    ) -> FormSubmission:
        """F1: the submission stored, with what it does to its submitter, in one commit."""
        check_id(form_id, "form_id")
        checked = check_values(values, "values")
        email = submitted_email(checked)

        async def attempt() -> FormSubmission:
            form = await self.forms.get(caller.account_id, form_id)
            if form is None:
                raise record_not_found("form", form_id, "form_id")
            account = await self.ports.account(caller.account_id)
            now = self.ports.clock.now()
            found = None
            if email is not None:
                found = await self.ports.contacts.by_email(Scope(caller.account_id), email)
            new_id = self.ports.ids.new_id(at=now)
            if found is not None and not caller.scope.sees(found.owner_id):
                taken = Intake(found)  # P3: linked, left as it is
            else:
                taken = intake(form, checked, found, new_id, now)
            if not account.marketing_contacts_enabled:
                taken = _counted(taken, now)
            change = plan_usage_change(account, _transitions(taken), now)
            blocked, alerts = change.blocked, change.alerts
            if blocked and not account.marketing_contacts_enabled:
                # K1: every contact counts, so a full BLOCK tier creates no submitter; the
                # submission is stored all the same (F1: what was sent is never lost), blocked,
                # and the alert raised
                taken = Intake(None)
                change = plan_usage_change(change.account, [], now)
                alerts += change.alerts
            elif blocked:  # T6: kept non-marketing, the alert raised all the same
                taken = intake(form, checked, found, new_id, now, blocked=True)
                change = plan_usage_change(change.account, _transitions(taken), now)
                alerts += change.alerts
            contact = taken.contact
            submission = FormSubmission(
                id=self.ports.ids.new_id(at=now),
                account_id=caller.account_id,
                form_id=form.id,
                at=now,
                values=checked,
                contact_id=None if contact is None else contact.id,
                created_contact=taken.created,
                blocked_by_tier=blocked,
            )
            updates = () if taken.update is None else (taken.update,)
            record_ids = [form.id, submission.id, *([] if contact is None else [contact.id])]
            batch = ChangeBatch(
                account_before=account,
                account_after=change.account,
                created=(contact,) if taken.created and contact is not None else (),
                status_updates=() if taken.created else updates,
                history=history_of(updates),
                tier_change=change.tier_change,
                alerts=alerts,
                submission=submission,
                audit=self._audit(caller, "submitForm", *record_ids),
            )
            try:
                await self.ports.ledger.commit(batch)
            except DuplicateEmail as error:  # created meanwhile: match it on the next attempt
                raise StaleWrite(str(error)) from error
            return submission

        return await self.ports.retrying_on(caller.account_id, attempt)

    def _audit(self, caller: Caller, action: str, *record_ids: str) -> AuditEntry:
        return self.ports.audit_entry(caller.account_id, caller.actor, action, record_ids)

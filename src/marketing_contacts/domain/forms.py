"""Forms and their submissions (F1, D3, C4, C8).

A form is the account's (no owner): NATIVE (a form of this service) or EXTERNAL (one on another
site whose submissions are collected). Every submission is stored, whatever it holds. Only its
field named exactly `email` creates or matches a contact (C8: the standard email field, an
address valid as `normalize_email` says; a field that merely holds an address creates nothing,
and an `email` value that is no valid address creates nothing either: the submission keeps it).
Without an address a submission creates a contact only when the form allows contacts without
email. `intake` decides what a submission does to its submitter, as a pure function of the form,
the submitted values and the contact the address already belongs to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from marketing_contacts.domain.contacts import (
    MAX_TEXT_LENGTH,
    Contact,
    LifecycleStage,
    StatusUpdate,
    apply_form_submission,
    change_status,
    normalize_email,
)
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.errors import (
    DomainError,
    ErrorCode,
    UserError,
    check_length,
    check_no_controls,
    record_name,
    refuse,
)
from marketing_contacts.domain.statuses import (
    MarketingState,
    MarketingStatus,
    StatusSource,
    StatusSourceType,
)

#: how many values one submission holds at most, and how long their names and values are
MAX_VALUES = 100
MAX_VALUE_NAME_LENGTH = 100
MAX_VALUE_LENGTH = 10_000
#: how many forms an account keeps (the forms query reads them all)
MAX_FORMS = 500
#: C8: the one field a contact is created or matched from
EMAIL_FIELD = "email"
#: the standard fields a new contact takes its other values from, and where it keeps them
CONTACT_FIELDS = {
    "firstName": "first_name",
    "lastName": "last_name",
    "jobTitle": "job_title",
    "companyName": "company_name",
}


class FormKind(StrEnum):
    NATIVE = "NATIVE"
    EXTERNAL = "EXTERNAL"


@dataclass(frozen=True)
class Form:
    id: str
    account_id: str
    name: str
    kind: FormKind
    created_at: datetime
    updated_at: datetime
    #: D3: new submitters are marketing, existing non-marketing ones become marketing
    set_contacts_as_marketing: bool = True
    create_without_email: bool = False
    #: C4: the stage of the contacts the form creates
    lifecycle_stage: LifecycleStage = LifecycleStage.LEAD
    #: moved by each submission, in its transaction
    submission_count: int = 0


@dataclass(frozen=True)
class FormValue:
    name: str
    value: str


@dataclass(frozen=True)
class FormSubmission:
    id: str
    account_id: str
    form_id: str
    at: datetime
    values: tuple[FormValue, ...]
    #: the contact created or matched; None when the submission created none
    contact_id: str | None = None
    created_contact: bool = False
    #: F1: the tier's BLOCK policy kept the submitter non-marketing
    blocked_by_tier: bool = False


def form_name(raw: str, *field: str) -> str:
    return record_name("form", raw, *field)


def creation_source(kind: FormKind) -> CreationSource:
    """F1: a native form's contacts are created via FORM, an external one's via EXTERNAL_FORM."""
    return CreationSource.FORM if kind is FormKind.NATIVE else CreationSource.EXTERNAL_FORM


def check_values(values: Sequence[FormValue], *field: str) -> tuple[FormValue, ...]:
    """At most MAX_VALUES values; each name 1 to MAX_VALUE_NAME_LENGTH characters without a
    control character, given once; each value at most MAX_VALUE_LENGTH characters. Every
    value is refused at its own path (`values`, its index, `name` or `value`)."""
    if len(values) > MAX_VALUES:
        raise refuse(ErrorCode.TOO_MANY, f"a submission holds at most {MAX_VALUES} values", *field)
    errors: list[UserError] = []
    seen: set[str] = set()
    for index, value in enumerate(values):
        at = (*field, str(index))
        try:
            if not value.name.strip():
                raise refuse(ErrorCode.INVALID, "a value has a name", *at, "name")
            check_length(value.name, MAX_VALUE_NAME_LENGTH, *at, "name")
            check_no_controls(value.name, *at, "name")
            if value.name in seen:
                raise refuse(ErrorCode.INVALID, "a name is given once", *at, "name")
            check_length(value.value, MAX_VALUE_LENGTH, *at, "value")
        except DomainError as error:
            errors.extend(error.errors)
        seen.add(value.name)
    if errors:
        raise DomainError(*errors)
    return tuple(values)


def submitted_email(values: Sequence[FormValue]) -> str | None:
    """C8: the address of the field named `email`, in its normal form; None when there is no
    such field, it is blank, or it holds no valid address (the submission keeps what was sent;
    a form never refuses a lead for its address)."""
    raw = next((v.value for v in values if v.name == EMAIL_FIELD), None)
    try:
        return normalize_email(raw)
    except DomainError:
        return None


def contact_fields(values: Sequence[FormValue]) -> dict[str, str]:
    """A new contact's names from the standard fields (firstName, lastName, jobTitle,
    companyName), trimmed; a blank one, or one a contact cannot hold (longer than its text
    fields, or with a control character), is left out rather than refused."""
    found = {}
    for value in values:
        name = CONTACT_FIELDS.get(value.name)
        text = value.value.strip()
        if name and text and len(text) <= MAX_TEXT_LENGTH and _readable(text):
            found[name] = text
    return found


def _readable(text: str) -> bool:
    try:
        check_no_controls(text, "value")
    except DomainError:
        return False
    return True


@dataclass(frozen=True)
class Intake:
    """What a submission does to its submitter: the contact as it stands after it (created or
    matched; None: none), whether it is new, and its status change (with its history entry)."""

    contact: Contact | None
    created: bool = False
    update: StatusUpdate | None = None


def intake(
    form: Form,
    values: Sequence[FormValue],
    existing: Contact | None,
    new_id: str,
    at: datetime,
    *,
    blocked: bool = False,
) -> Intake:
    """F1, D3, C4, C8 for a submission whose address is `existing`'s (the contact the caller
    may change), or nobody's.

    An existing submitter becomes MARKETING when the form's setting is on (D3; source FORM, the
    form's id); its other fields stay as the account keeps them. Otherwise a contact is created
    when the submission has an address or the form allows none: created via FORM or
    EXTERNAL_FORM, MARKETING when the setting is on and NON_MARKETING when off, at the form's
    lifecycle stage (C4). `blocked` (the tier's BLOCK policy refused the marketing change): the
    submitter is created or kept all the same, as non-marketing (a form never loses a lead)."""
    sets_marketing = form.set_contacts_as_marketing and not blocked
    if existing is not None:
        update = apply_form_submission(existing, sets_marketing, form.id, at)
        return Intake(existing if update is None else update.after, update=update)
    email = submitted_email(values)
    if email is None and not form.create_without_email:
        return Intake(None)
    source = StatusSource(StatusSourceType.FORM, form.id)
    blank = Contact(
        id=new_id,
        account_id=form.account_id,
        created_via=creation_source(form.kind),
        created_at=at,
        updated_at=at,
        state=MarketingState.NON_MARKETING,
        status_source=source,
        status_changed_at=at,
        email=email,
        lifecycle_stage=form.lifecycle_stage,
        **contact_fields(values),  # type: ignore[arg-type]
    )
    if not sets_marketing:
        return Intake(blank, created=True)
    update = change_status(blank, MarketingStatus.MARKETING, source, at)
    return Intake(blank if update is None else update.after, created=True, update=update)

"""F1, D3, C4, C8: what a form submission does to its submitter (domain.forms.intake), and the
bounds of what a submission holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from marketing_contacts.domain.contacts import Contact, LifecycleStage
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.forms import (
    MAX_VALUE_LENGTH,
    MAX_VALUES,
    Form,
    FormKind,
    FormValue,
    check_values,
    intake,
    submitted_email,
)
from marketing_contacts.domain.statuses import MarketingState, StatusSource, StatusSourceType

AT = datetime(2026, 11, 25, 12, tzinfo=UTC)
N, M, P = (
    MarketingState.NON_MARKETING,
    MarketingState.MARKETING,
    MarketingState.MARKETING_UNTIL_NEXT_UPDATE,
)
FORM = Form(
    id="f1", account_id="a1", name="Demo", kind=FormKind.NATIVE, created_at=AT, updated_at=AT
)
FORM_SOURCE = StatusSource(StatusSourceType.FORM, "f1")


def values(**given: str) -> list[FormValue]:
    return [FormValue(name, value) for name, value in given.items()]


def existing(state: MarketingState) -> Contact:
    return Contact(
        id="c1",
        account_id="a1",
        created_via=CreationSource.API,
        created_at=AT,
        updated_at=AT,
        state=state,
        status_source=StatusSource(StatusSourceType.USER, "u1"),
        status_changed_at=AT,
        email="ada@example.com",
        first_name="Ada",
        pending_since=AT if state is P else None,
    )


@pytest.mark.parametrize(
    ("setting", "state", "after"),
    [
        (True, N, M),
        (True, P, M),
        (True, M, M),
        (False, N, N),
        (False, P, P),
        (False, M, M),
    ],
)
def test_d3_an_existing_submitter_becomes_marketing_only_with_the_setting_on(
    setting: bool, state: MarketingState, after: MarketingState
) -> None:
    form = replace(FORM, set_contacts_as_marketing=setting)
    taken = intake(form, values(email="ada@example.com", firstName="Eve"), existing(state), "n", AT)
    assert taken.contact is not None and not taken.created
    assert taken.contact.id == "c1"
    assert taken.contact.state is after
    assert taken.contact.first_name == "Ada"  # its other fields stay as the account keeps them
    if after is state:
        assert taken.update is None  # nothing to store but the submission
    else:
        assert taken.update is not None
        assert taken.contact.status_source == FORM_SOURCE
        assert taken.update.change.from_state is state


@pytest.mark.parametrize(
    ("kind", "setting", "created_via", "state"),
    [
        (FormKind.NATIVE, True, CreationSource.FORM, M),
        (FormKind.NATIVE, False, CreationSource.FORM, N),
        (FormKind.EXTERNAL, True, CreationSource.EXTERNAL_FORM, M),
        (FormKind.EXTERNAL, False, CreationSource.EXTERNAL_FORM, N),
    ],
)
def test_f1_a_new_submitter_is_created_via_the_forms_kind_in_the_forms_status(
    kind: FormKind, setting: bool, created_via: CreationSource, state: MarketingState
) -> None:
    form = replace(FORM, kind=kind, set_contacts_as_marketing=setting)
    sent = values(email=" Ada@Example.COM ", firstName=" Ada ", lastName="", jobTitle="CTO")
    taken = intake(form, sent, None, "new", AT)
    contact = taken.contact
    assert contact is not None and taken.created
    assert (contact.id, contact.created_via, contact.state) == ("new", created_via, state)
    assert contact.email == "Ada@example.com"  # C8: its normal form (the domain lower-cased)
    assert (contact.first_name, contact.last_name, contact.job_title) == ("Ada", None, "CTO")
    assert contact.status_source == FORM_SOURCE
    assert (taken.update is not None) is (state is M)  # a history entry for MARKETING


@pytest.mark.parametrize(
    "stage", [LifecycleStage.LEAD, LifecycleStage.SUBSCRIBER, LifecycleStage.OTHER]
)
def test_c4_a_new_submitter_has_the_forms_lifecycle_stage(stage: LifecycleStage) -> None:
    taken = intake(replace(FORM, lifecycle_stage=stage), values(email="a@b.io"), None, "n", AT)
    assert taken.contact is not None and taken.contact.lifecycle_stage is stage


@pytest.mark.parametrize(
    ("sent", "without_email", "creates", "email"),
    [
        ({"email": "ada@example.com"}, False, True, "ada@example.com"),
        ({"email": "ada@example.com"}, True, True, "ada@example.com"),
        ({}, False, False, None),
        ({}, True, True, None),
        ({"email": "  "}, False, False, None),
        ({"email": "not an address"}, False, False, None),
        ({"email": "not an address"}, True, True, None),
        ({"email": "ada@host.invalid"}, False, False, None),  # a special-use domain
        # C8: only the standard field: one that merely holds an address creates nothing
        ({"work_email": "ada@example.com"}, False, False, None),
        ({"Email": "ada@example.com"}, False, False, None),
        ({"work_email": "ada@example.com"}, True, True, None),
    ],
)
def test_c8_only_a_valid_address_in_the_email_field_creates_a_contact_unless_the_form_allows_none(
    sent: dict[str, str], without_email: bool, creates: bool, email: str | None
) -> None:
    form = replace(FORM, create_without_email=without_email)
    taken = intake(form, values(**sent), None, "n", AT)
    assert taken.created is creates
    assert (taken.contact is not None) is creates
    if taken.contact is not None:
        assert taken.contact.email == email


@pytest.mark.parametrize(
    ("submitter", "created"),
    [(None, True), (existing(N), False), (existing(P), False)],
)
def test_f1_under_block_the_lead_is_created_or_kept_non_marketing(
    submitter: Contact | None, created: bool
) -> None:
    taken = intake(FORM, values(email="ada@example.com"), submitter, "n", AT, blocked=True)
    assert taken.contact is not None and taken.created is created
    assert taken.update is None
    assert taken.contact.state is (N if submitter is None else submitter.state)


@pytest.mark.parametrize(
    ("sent", "email"),
    [
        ([FormValue("email", "ada@example.com")], "ada@example.com"),
        ([FormValue("name", "Ada"), FormValue("email", "ADA@EXAMPLE.COM")], "ADA@example.com"),
        ([FormValue("email", "nope")], None),
        ([FormValue("e-mail", "ada@example.com")], None),
        ([], None),
    ],
)
def test_c8_the_submitted_address_is_the_email_fields(
    sent: list[FormValue], email: str | None
) -> None:
    assert submitted_email(sent) == email


def refused(sent: list[FormValue]) -> list[tuple[ErrorCode, tuple[str, ...]]]:
    with pytest.raises(DomainError) as raised:
        check_values(sent, "values")
    return [(e.code, e.field) for e in raised.value.errors]


@pytest.mark.parametrize(
    ("sent", "errors"),
    [
        (
            [FormValue(f"f{i}", "x") for i in range(MAX_VALUES + 1)],
            [(ErrorCode.TOO_MANY, ("values",))],
        ),
        (
            [FormValue("a", "x"), FormValue("b", "y" * (MAX_VALUE_LENGTH + 1))],
            [(ErrorCode.INVALID, ("values", "1", "value"))],
        ),
        ([FormValue("n" * 101, "x")], [(ErrorCode.INVALID, ("values", "0", "name"))]),
        ([FormValue("a\nb", "x")], [(ErrorCode.INVALID, ("values", "0", "name"))]),
        ([FormValue(" ", "x")], [(ErrorCode.INVALID, ("values", "0", "name"))]),
        (
            [FormValue("email", "a@b.io"), FormValue("x", "1"), FormValue("email", "c@d.io")],
            [(ErrorCode.INVALID, ("values", "2", "name"))],
        ),
        (
            [FormValue("a\tb", "x"), FormValue("b", "y" * (MAX_VALUE_LENGTH + 1))],
            [
                (ErrorCode.INVALID, ("values", "0", "name")),
                (ErrorCode.INVALID, ("values", "1", "value")),
            ],
        ),
    ],
)
def test_f1_a_submission_holds_bounded_values_refused_at_their_paths(
    sent: list[FormValue], errors: list[tuple[ErrorCode, tuple[str, ...]]]
) -> None:
    assert refused(sent) == errors


def test_f1_values_within_the_bounds_are_kept_as_sent() -> None:
    sent = [FormValue(f"f{i}", "v\n" * 10) for i in range(MAX_VALUES - 1)]
    sent.append(FormValue("email", "x" * MAX_VALUE_LENGTH))
    assert check_values(sent, "values") == tuple(sent)

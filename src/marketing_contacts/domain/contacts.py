"""The contact record and the status changes it goes through (S2, S4, C3, C8)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from email_validator import EmailNotValidError, validate_email

from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.errors import (
    ErrorCode,
    check_length,
    check_no_controls,
    quoted,
    refuse,
)
from marketing_contacts.domain.search import search_keys
from marketing_contacts.domain.statuses import (
    HistoryEntry,
    MarketingState,
    MarketingStatus,
    StatusChange,
    StatusSource,
    StatusSourceType,
    decide_status_change,
    state_after_update_date,
)
from marketing_contacts.domain.usage import Transition

MAX_EMAIL_LENGTH = 254
#: free text of a contact (names, job title, company name) and its owner id
MAX_TEXT_LENGTH = 1_000
TEXT_FIELDS = ("first_name", "last_name", "job_title", "company_name", "owner_id")
#: the text fields a person reads, which hold no control characters
NAME_FIELDS = ("first_name", "last_name", "job_title", "company_name")


class LifecycleStage(StrEnum):
    SUBSCRIBER = "SUBSCRIBER"
    LEAD = "LEAD"
    MARKETING_QUALIFIED_LEAD = "MARKETING_QUALIFIED_LEAD"
    SALES_QUALIFIED_LEAD = "SALES_QUALIFIED_LEAD"
    OPPORTUNITY = "OPPORTUNITY"
    CUSTOMER = "CUSTOMER"
    EVANGELIST = "EVANGELIST"
    OTHER = "OTHER"


_STAGE_ORDER: list[LifecycleStage] = [
    stage for stage in LifecycleStage if stage is not LifecycleStage.OTHER
]


def stage_rank(stage: LifecycleStage) -> int:
    """C3: where a stage stands in the order (OTHER, outside it, has none: ValueError)."""
    return _STAGE_ORDER.index(stage)


def check_lifecycle_change(current: LifecycleStage | None, new: LifecycleStage | None) -> None:
    """C3: a stage moves backwards only by clearing it first; OTHER is outside the order."""
    if current is None or new is None or LifecycleStage.OTHER in (current, new):
        return
    if stage_rank(new) < stage_rank(current):
        raise refuse(
            ErrorCode.INVALID,
            f"lifecycle stage cannot move back from {current.value} to {new.value}; clear it first",
            "lifecycle_stage",
        )


def normalize_email(raw: str | None, *field: str) -> str | None:
    """C8: a valid address, trimmed and in its normal form; None or blank means no email.

    Valid is what the email-validator package accepts, strictly (a local part of at most 64
    characters) and without DNS look-ups: dot-atoms only (no quoted local part, display name or
    IP literal), no invisible characters. Special-use domains (.test, .local, .invalid, ...)
    are refused, since nobody is marketed to there; the example domains (example.com) are
    ordinary domains to the syntax and stay valid. The normal form is the package's: NFC, the
    domain lower-cased and in Unicode, the local part's case kept (but for RFC 2142's
    case-insensitive role names such as Postmaster); email_key lower-cases it whole."""
    if raw is None or not raw.strip():
        return None
    email = raw.strip()
    if len(email) > MAX_EMAIL_LENGTH:
        raise refuse(
            ErrorCode.INVALID, f"an email has at most {MAX_EMAIL_LENGTH} characters", *field
        )
    try:
        valid = validate_email(
            email, strict=True, check_deliverability=False, test_environment=False
        )
    except EmailNotValidError as error:
        # the reason may name characters or the domain: bounded, the address is short by now
        raise refuse(
            ErrorCode.INVALID, f"{quoted(email)} is not a valid email address: {error}", *field
        ) from error
    return valid.normalized


def check_text_fields(values: Mapping[str, object], *prefix: str) -> None:
    """Every free-text field given holds at most MAX_TEXT_LENGTH characters, and the names no
    control character."""
    for name in TEXT_FIELDS:
        value = values.get(name)
        if isinstance(value, str):
            check_length(value, MAX_TEXT_LENGTH, *prefix, name)
            if name in NAME_FIELDS:
                check_no_controls(value, *prefix, name)


def email_key(email: str | None) -> str | None:
    """C8: uniqueness is per account and case-insensitive."""
    return email.lower() if email is not None else None


def email_domain(email: str | None) -> str | None:
    return email.rsplit("@", 1)[1].lower() if email is not None else None


@dataclass(frozen=True)
class Contact:
    id: str
    account_id: str
    created_via: CreationSource
    created_at: datetime
    updated_at: datetime
    state: MarketingState
    status_source: StatusSource
    status_changed_at: datetime
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    job_title: str | None = None
    company_name: str | None = None
    owner_id: str | None = None
    lifecycle_stage: LifecycleStage | None = None
    email_hard_bounced: bool = False
    unsubscribed_from_all: bool = False
    #: when the contact became pending; the update date applies to those pending before it
    pending_since: datetime | None = None
    #: number of status changes so far; writes of the status are conditional on it
    status_seq: int = 0
    list_ids: frozenset[str] = frozenset()
    #: C2: the companies it is associated with, and the primary one among them
    company_ids: frozenset[str] = frozenset()
    primary_company_id: str | None = None
    #: C12: moved by the engagements logged against it (domain.engagements), only by them
    last_activity_at: datetime | None = None
    last_contacted_at: datetime | None = None
    #: C10: the contacts merged into this one, in the order they were (domain.merge)
    merged_ids: tuple[str, ...] = ()
    #: C10: the addresses (email keys) of the contacts merged into this one: its email
    #: activity shows their events too (C7: the activity belongs to the address)
    merged_emails: frozenset[str] = frozenset()

    @property
    def marketing_status(self) -> MarketingStatus:
        return self.state.status

    @property
    def marketing_until_next_update(self) -> bool:
        return self.state.marketing_until_next_update

    @property
    def unengaged(self) -> bool:
        """S6: hard-bounced or unsubscribed from all email."""
        return self.email_hard_bounced or self.unsubscribed_from_all

    @property
    def search_keys(self) -> frozenset[str]:
        """C11: what a search finds the contact by: its email, first name and last name."""
        return search_keys(self.email, self.first_name, self.last_name)


@dataclass(frozen=True)
class StatusUpdate:
    """A decided change of one contact's status: the contact after it and its history entry."""

    before: Contact
    after: Contact
    change: StatusChange


def move_to(
    contact: Contact, to_state: MarketingState, source: StatusSource, at: datetime
) -> StatusUpdate:
    """S4: the new state with its provenance and one history entry."""
    pending = to_state is MarketingState.MARKETING_UNTIL_NEXT_UPDATE
    after = replace(
        contact,
        state=to_state,
        status_source=source,
        status_changed_at=at,
        updated_at=at,
        pending_since=at if pending else None,
        status_seq=contact.status_seq + 1,
    )
    change = StatusChange(at=at, from_state=contact.state, to_state=to_state, source=source)
    return StatusUpdate(before=contact, after=after, change=change)


def change_status(
    contact: Contact, target: MarketingStatus, source: StatusSource, at: datetime
) -> StatusUpdate | None:
    """S2 for a caller's request; None for a no-op, which stores nothing (S4)."""
    to_state = decide_status_change(contact.state, target)
    return None if to_state is None else move_to(contact, to_state, source, at)


def apply_update_date_to(
    contact: Contact, update_date_starts: datetime, source: StatusSource
) -> StatusUpdate | None:
    """S2 at an update date: a contact pending since before the date becomes N at that instant.

    A contact that became pending after the date started belongs to the new period and waits
    for the next update date.
    """
    to_state = state_after_update_date(contact.state)
    if to_state is None or contact.pending_since is None:
        return None
    if contact.pending_since >= update_date_starts:
        return None
    return move_to(contact, to_state, source, update_date_starts)


def apply_form_submission(
    contact: Contact, form_sets_marketing: bool, form_id: str, at: datetime
) -> StatusUpdate | None:
    """D3: a form whose setting is on turns an existing non-marketing or pending submitter into
    MARKETING (source FORM), whatever created it; with the setting off the status stays."""
    if not form_sets_marketing:
        return None
    return change_status(
        contact, MarketingStatus.MARKETING, StatusSource(StatusSourceType.FORM, form_id), at
    )


def history_of(updates: Sequence[StatusUpdate]) -> tuple[HistoryEntry, ...]:
    """S4: the history entries of decided updates, each at the contact's new sequence."""
    return tuple(
        HistoryEntry(u.after.account_id, u.after.id, u.after.status_seq, u.change) for u in updates
    )


def transitions_of(updates: Sequence[StatusUpdate]) -> list[Transition]:
    """T1: how decided updates move the counters."""
    return [Transition(u.before.id, u.before.state, u.after.state) for u in updates]

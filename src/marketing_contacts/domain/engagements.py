"""Engagements (C6, C12): the tasks, calls, notes, emails and meetings logged against records.

An engagement is associated with the contacts, companies and deals named when it is logged,
each once. One record is associated with at most a limit of them (C6: 10,000, the setting
ENGAGEMENTS_PER_RECORD_LIMIT): past it, the engagement is still created, and the record is
listed in its `not_associated_ids` instead of its `associated_ids`.

Logging one moves the activity dates of each record it names (C12), at once and never
backwards: `last_activity_at` for every type, `last_contacted_at` for the types that reach the
person (a call, an email, a meeting). A record past the cap still gets its dates moved: the
activity happened, only the association is refused.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from marketing_contacts.domain.associations import RecordRef, RecordType
from marketing_contacts.domain.errors import (
    MAX_NAMED_IDS,
    DomainError,
    ErrorCode,
    UserError,
    check_ids,
    check_length,
    records_not_found,
    refuse,
)

#: C6: how many engagements one record is associated with at most (the setting's default)
MAX_ENGAGEMENTS_PER_RECORD = 10_000
#: an engagement's body is free text: a note, a call's summary, an email's text
MAX_BODY_LENGTH = 65_536
#: control characters (Unicode category Cc) but the tab and the line breaks, which text keeps
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class EngagementType(StrEnum):
    TASK = "TASK"
    CALL = "CALL"
    NOTE = "NOTE"
    EMAIL = "EMAIL"
    MEETING = "MEETING"


#: C12: the engagements that reach the person, which move `last_contacted_at` too
CONTACTING = frozenset({EngagementType.CALL, EngagementType.EMAIL, EngagementType.MEETING})

#: the field of the input that names the records of each type
RECORD_FIELDS: Mapping[RecordType, str] = {
    RecordType.CONTACT: "contact_ids",
    RecordType.COMPANY: "company_ids",
    RecordType.DEAL: "deal_ids",
}


@dataclass(frozen=True)
class Engagement:
    id: str
    account_id: str
    type: EngagementType
    occurred_at: datetime
    created_at: datetime
    body: str | None = None
    owner_id: str | None = None
    #: C6: the records it is associated with, in the order they were named
    associated_ids: tuple[str, ...] = ()
    #: C6: the records named that held the limit already: not associated
    not_associated_ids: tuple[str, ...] = ()


def moves_last_contacted(engagement_type: EngagementType) -> bool:
    """C12: a call, an email or a meeting reaches the person; a task or a note does not."""
    return engagement_type in CONTACTING


@dataclass(frozen=True)
class ActivityDates:
    """C12: a record's last activity and last contact (None: none logged yet)."""

    last_activity_at: datetime | None = None
    last_contacted_at: datetime | None = None

    def after(self, engagement_type: EngagementType, at: datetime) -> ActivityDates:
        """The dates once an engagement of this type that happened `at` is logged: each moved
        to `at` when it is later, never backwards."""
        contacted = self.last_contacted_at
        if moves_last_contacted(engagement_type):
            contacted = _later(contacted, at)
        return ActivityDates(_later(self.last_activity_at, at), contacted)


def _later(current: datetime | None, at: datetime) -> datetime:
    return at if current is None or at > current else current


def check_body(body: str | None, *field: str) -> None:
    """At most MAX_BODY_LENGTH characters of text: tabs and line breaks, no other control
    character."""
    check_length(body, MAX_BODY_LENGTH, *field)
    if body is not None and _CONTROL_BUT_LINES.search(body):
        raise refuse(
            ErrorCode.INVALID,
            "a body holds no control character but tabs and line breaks",
            *field,
        )


def named_records(named: Mapping[RecordType, Sequence[str]]) -> list[RecordRef]:
    """The records of each list, each once, in the order named (contacts, companies, deals);
    INVALID at the first too long id of a list, TOO_MANY at a list of more than MAX_NAMED_IDS
    distinct ids."""
    records: list[RecordRef] = []
    for record_type, field in RECORD_FIELDS.items():
        given = named.get(record_type, ())
        check_ids(given, field)
        ids = list(dict.fromkeys(given))
        if len(ids) > MAX_NAMED_IDS:
            raise refuse(
                ErrorCode.TOO_MANY,
                f"an engagement names at most {MAX_NAMED_IDS} records of a type",
                field,
            )
        records.extend(RecordRef(record_type, record_id) for record_id in ids)
    return records


def named_not_found(
    named: Mapping[RecordType, Sequence[str]], found: Collection[RecordRef]
) -> DomainError | None:
    """NOT_FOUND at the first index of each id named that is not `found` as a record of its
    type (a record missing, another account's, or one the caller does not see, alike)."""
    errors: list[UserError] = []
    for record_type, field in RECORD_FIELDS.items():
        ids = named.get(record_type, ())
        seen = {record.id for record in found if record.type is record_type}
        missing = records_not_found(record_type.value.lower(), ids, seen, field)
        if missing is not None:
            errors.extend(missing.errors)
    return DomainError(*errors) if errors else None

"""Expected failures, as data (design principle 6)."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    DUPLICATE = "DUPLICATE"
    FORBIDDEN = "FORBIDDEN"
    TIER_LIMIT_REACHED = "TIER_LIMIT_REACHED"
    TOO_MANY = "TOO_MANY"
    CONFLICT = "CONFLICT"
    CONFIRMATION_MISMATCH = "CONFIRMATION_MISMATCH"
    RATE_LIMITED = "RATE_LIMITED"


@dataclass(frozen=True)
class UserError:
    """One problem with a caller's input. `field` names what is at fault in the domain's own
    words (`("selection", "list_id")`, an index as a string); where that is in a request (its
    GraphQL argument and casing) is the schema's to say."""

    code: ErrorCode
    message: str
    field: tuple[str, ...] = ()


class DomainError(Exception):
    """A request the rules refuse; nothing has been changed when it is raised."""

    def __init__(self, *errors: UserError) -> None:
        super().__init__("; ".join(error.message for error in errors))
        self.errors: tuple[UserError, ...] = errors


def refuse(code: ErrorCode, message: str, *field: str) -> DomainError:
    """Build the error for a single refused field: `raise refuse(ErrorCode.INVALID, ...)`."""
    return DomainError(UserError(code=code, message=message, field=field))


#: ids a caller names (a contact's, a list's, an operation's, a form's, an idempotency key) are
#: short
MAX_ID_LENGTH = 200
#: how many characters of a client's value a message repeats
QUOTED_LENGTH = 40
#: ids a refusal names one by one; one more error counts the rest
MAX_NAMED_IDS = 100
#: Unicode category Cc, which is exactly C0, DEL and C1: NUL, tabs, line breaks, escapes
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def quoted(value: str) -> str:
    """A client's value as a message repeats it: the repr of its first QUOTED_LENGTH characters,
    with "…" when cut, so that no answer grows with what a request sent (thirty aliases echoing
    a megabyte each would make a 30 MB answer)."""
    if len(value) <= QUOTED_LENGTH:
        return repr(value)
    return repr(value[:QUOTED_LENGTH]) + "…"


def check_length(value: str | None, limit: int, *field: str) -> None:
    """Free text a client sends is bounded: past `limit` characters it is INVALID."""
    if value is not None and len(value) > limit:
        raise refuse(
            ErrorCode.INVALID, f"{_words(field[-1])} has at most {limit} characters", *field
        )


#: a company's or a deal's name
MAX_RECORD_NAME_LENGTH = 200


def record_name(kind: str, raw: str, *field: str) -> str:
    """A record's name, trimmed: 1 to MAX_RECORD_NAME_LENGTH characters, no control
    character."""
    name = raw.strip()
    if not 1 <= len(name) <= MAX_RECORD_NAME_LENGTH:
        raise refuse(
            ErrorCode.INVALID,
            f"a {kind} name has 1 to {MAX_RECORD_NAME_LENGTH} characters",
            *field,
        )
    check_no_controls(name, *field)
    return name


def _words(name: str) -> str:
    """A field's name as a message says it: `job_title` is "job title"."""
    return name.replace("_", " ")


def check_id(value: str | None, *field: str) -> None:
    """An id a client names is at most MAX_ID_LENGTH characters (no stored id is longer)."""
    check_length(value, MAX_ID_LENGTH, *field)


def check_ids(values: Sequence[str], *field: str) -> None:
    """Ids in a list are bounded like one id; the first too long one is INVALID at its index
    (one error, however many there are, so the answer does not grow with the list)."""
    for index, value in enumerate(values):
        if len(value) > MAX_ID_LENGTH:
            raise refuse(
                ErrorCode.INVALID,
                f"an id has at most {MAX_ID_LENGTH} characters",
                *field,
                str(index),
            )


def check_no_controls(value: str | None, *field: str) -> None:
    """Names are text a person reads: a control character (Unicode category Cc: NUL, tab, line
    break, escape) in one is INVALID."""
    if value is not None and _CONTROL.search(value):
        raise refuse(ErrorCode.INVALID, f"{_words(field[-1])} holds a control character", *field)


def record_not_found(kind: str, record_id: str, *field: str) -> DomainError:
    return refuse(ErrorCode.NOT_FOUND, f"{kind} {quoted(record_id)} does not exist", *field)


def contacts_not_found(
    contact_ids: Sequence[str], found: Collection[str], *field: str
) -> DomainError | None:
    """NOT_FOUND at the first index of each contact id given that is not `found`."""
    return records_not_found("contact", contact_ids, found, *field)


def records_not_found(
    kind: str, record_ids: Sequence[str], found: Collection[str], *field: str
) -> DomainError | None:
    """NOT_FOUND at the first index of each id given that is not `found`, for the first
    MAX_NAMED_IDS of them, and one more error at the list that counts the rest: 10,000 unknown
    ids in a variable that thirty aliases share would otherwise answer 300,000 errors."""
    first_index: dict[str, int] = {}
    for index, record_id in enumerate(record_ids):
        first_index.setdefault(record_id, index)
    missing = [record_id for record_id in first_index if record_id not in found]
    if not missing:
        return None
    errors = [
        UserError(
            ErrorCode.NOT_FOUND,
            f"{kind} {quoted(record_id)} does not exist",
            (*field, str(first_index[record_id])),
        )
        for record_id in missing[:MAX_NAMED_IDS]
    ]
    if len(missing) > MAX_NAMED_IDS:
        more = len(missing) - MAX_NAMED_IDS
        errors.append(UserError(ErrorCode.NOT_FOUND, f"{more} more {kind}s do not exist", field))
    return DomainError(*errors)

"""Scalars whose input is checked where it enters: a DateTime is an RFC 3339 date and time (the
contract's "ISO-8601 date and time with offset", in the one profile of ISO 8601 that says what
every part is) and lies in the range every zone can represent."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import strawberry
from graphql import GraphQLError
from strawberry.types.scalar import ScalarDefinition

from marketing_contacts.domain.errors import ErrorCode, quoted

_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TIME = r"[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
_OFFSET = r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
#: RFC 3339 section 5.6 date-time: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), T and Z in
#: either case; no space for the T, no basic (20261125T100000Z) or week (2026-W48) forms
RFC_3339 = re.compile(_DATE + _TIME + _OFFSET)
#: a date, or a date and time, that only lacks its offset: told so, not just refused
_WITHOUT_OFFSET = re.compile(f"{_DATE}(?:{_TIME})?")
EXAMPLE = "2026-11-25T10:00:00Z"


def invalid(message: str) -> GraphQLError:
    """The request's own fault, with the code every client error carries."""
    return GraphQLError(message, extensions={"code": ErrorCode.INVALID.value})


def parse_datetime(value: object) -> datetime:
    """An RFC 3339 date and time, as the same instant in UTC; a GraphQLError with code INVALID
    otherwise, for variables and literals alike."""
    if not isinstance(value, str):
        raise invalid(f"a DateTime is an RFC 3339 string, e.g. {EXAMPLE}")
    if not RFC_3339.fullmatch(value):
        if _WITHOUT_OFFSET.fullmatch(value):
            raise invalid(f"{quoted(value)} has no offset: add one, e.g. {EXAMPLE}")
        raise invalid(f"{quoted(value)} is not an RFC 3339 date and time, e.g. {EXAMPLE}")
    try:
        parsed = datetime.fromisoformat(value.upper())
    except ValueError as error:  # the shape is right, a part is not (month 13, second 60)
        raise invalid(f"{quoted(value)} is not a date and time that exists") from error
    try:
        return parsed.astimezone(UTC)
    except OverflowError as error:
        raise invalid(f"{quoted(value)} is out of range") from error


DateTime = strawberry.scalar(
    name="DateTime",
    description="RFC 3339 date and time with offset, e.g. 2026-11-25T10:00:00Z.",
    serialize=datetime.isoformat,
    parse_value=parse_datetime,
)

SCALARS: dict[object, ScalarDefinition] = {datetime: DateTime}

"""The scalars beyond GraphQL's own, and their formats.

- DateTime is written one way, UTC to the millisecond with a `Z` (2026-11-25T10:00:00.000Z), so
  that clients compare and sort the strings they get; it is read as any RFC 3339 date and time
  (the profile of ISO 8601 that says what every part is), in the range every zone can represent.
  Input is checked where it enters: a value without its offset is told so, not guessed.
- Date is a calendar day, YYYY-MM-DD.
- Decimal is a money amount, a string with two decimal places (never a float).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

import strawberry
from graphql import GraphQLError
from strawberry.file_uploads import Upload
from strawberry.file_uploads.scalars import UploadDefinition
from strawberry.schema.types.base_scalars import DateDefinition, DecimalDefinition
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
CENT = Decimal("0.01")
#: an amount as a person writes it: digits, at most two places, no exponent
_MONEY = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,2})?")


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


def serialize_datetime(value: datetime) -> str:
    """The instant in UTC, to the millisecond (truncated), with a Z: 2026-11-25T10:00:00.000Z.
    A time without a zone is read as UTC (what the database hands back)."""
    instant = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return instant.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def serialize_decimal(value: Decimal) -> str:
    """Two decimal places, always: 12.5 is "12.50" (amounts are rounded to cents already)."""
    return str(value.quantize(CENT, rounding=ROUND_HALF_EVEN))


def parse_money(value: object) -> Decimal:
    """A finite amount in cents at most: "12", "12.5" and "12.50" are read, "1.234", "NaN",
    "1e3" and a number sent as a float (which may already have lost a cent) are not."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise invalid('an amount is a decimal string, e.g. "123.45"')
    text = str(value).strip()
    if not _MONEY.fullmatch(text):
        raise invalid(
            f'an amount is a decimal string with at most two places, e.g. "123.45", '
            f"not {quoted(text)}"
        )
    return Decimal(text)


DateTime = strawberry.scalar(
    name="DateTime",
    description="An instant. Written in UTC to the millisecond with a Z, e.g. "
    "2026-11-25T10:00:00.000Z. Read as an RFC 3339 date and time with its offset (Z or "
    "+HH:MM/-HH:MM), e.g. 2026-11-25T10:00:00Z or 2026-11-25T11:00:00.5+01:00; a value "
    "without an offset is an error, not a guess.",
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)

Date = replace(
    DateDefinition,
    description="A calendar day, YYYY-MM-DD (ISO 8601), e.g. 2026-12-01; with no time and no "
    "zone: where a day starts matters, it starts at 00:00 in the account's time zone.",
)

Money = replace(
    DecimalDefinition,
    description='A money amount as a decimal string with exactly two places, e.g. "123.45" '
    "(a string, so no cent is lost to floating point).",
    serialize=serialize_decimal,
    parse_value=parse_money,
)

#: I1: startImport's file (strawberry's Upload, described as the API describes it)
UploadFile = replace(
    UploadDefinition,
    description="A file sent as a part of a multipart request (the GraphQL multipart request "
    "spec).",
)

SCALARS: dict[object, ScalarDefinition] = {
    datetime: DateTime,
    date: Date,
    Decimal: Money,
    Upload: UploadFile,
}

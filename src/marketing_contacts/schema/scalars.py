"""Scalars whose input is checked where it enters: a DateTime carries its offset (the contract's
"ISO-8601 date and time with offset") and lies in the range every zone can represent."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from graphql import GraphQLError
from strawberry.types.scalar import ScalarDefinition

from marketing_contacts.domain.errors import quoted


def parse_datetime(value: object) -> datetime:
    """An ISO-8601 date and time with an offset, as the same instant in UTC (GraphQLError: the
    request's own fault, for variables and literals alike)."""
    if not isinstance(value, str):
        raise GraphQLError("a DateTime is an ISO-8601 string, e.g. 2026-11-25T10:00:00Z")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise GraphQLError(f"{quoted(value)} is not an ISO-8601 date and time") from error
    if parsed.tzinfo is None:
        raise GraphQLError(f"{quoted(value)} has no offset: add one, e.g. 2026-11-25T10:00:00Z")
    try:
        return parsed.astimezone(UTC)
    except OverflowError as error:
        raise GraphQLError(f"{quoted(value)} is out of range") from error


DateTime = strawberry.scalar(
    name="DateTime",
    description="ISO-8601 date and time with offset, e.g. 2026-11-25T10:00:00Z.",
    serialize=datetime.isoformat,
    parse_value=parse_datetime,
)

SCALARS: dict[object, ScalarDefinition] = {datetime: DateTime}

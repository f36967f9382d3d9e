"""How the schema writes its scalars: a DateTime one way, UTC to the millisecond with a Z."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from marketing_contacts.schema.scalars import serialize_datetime, serialize_decimal
from marketing_contacts.services.callers import Caller
from tests.support.graphql import Client
from tests.unit.services.fakes import fake_services, open_account

PLUS_ONE = timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    ("instant", "written"),
    [
        (datetime(2026, 11, 25, 10, 0, tzinfo=UTC), "2026-11-25T10:00:00.000Z"),
        (datetime(2026, 11, 25, 10, 0, 0, 5_000, tzinfo=UTC), "2026-11-25T10:00:00.005Z"),
        # below the millisecond is cut, never rounded up into the next millisecond
        (datetime(2026, 11, 25, 10, 0, 0, 999_999, tzinfo=UTC), "2026-11-25T10:00:00.999Z"),
        # another offset is the same instant in UTC
        (datetime(2026, 11, 25, 11, 0, tzinfo=PLUS_ONE), "2026-11-25T10:00:00.000Z"),
        (datetime(2026, 1, 1, 0, 30, tzinfo=PLUS_ONE), "2025-12-31T23:30:00.000Z"),
        # a time without a zone is read as UTC, not as the machine's local time
        (datetime(2026, 11, 25, 10, 0, 0, 250_000), "2026-11-25T10:00:00.250Z"),
        # years keep their four digits
        (datetime(987, 6, 5, 4, 3, 2, tzinfo=UTC), "0987-06-05T04:03:02.000Z"),
    ],
)
def test_a_datetime_is_written_in_utc_to_the_millisecond_with_z(
    instant: datetime, written: str
) -> None:
    assert serialize_datetime(instant) == written


@pytest.mark.parametrize(
    ("amount", "written"),
    [(Decimal("123.45"), "123.45"), (Decimal("12.5"), "12.50"), (Decimal("0"), "0.00")],
)
def test_a_decimal_is_written_with_two_places(amount: Decimal, written: str) -> None:
    assert serialize_decimal(amount) == written


async def test_the_served_schema_writes_datetimes_in_that_form() -> None:
    services, _ = fake_services(datetime(2026, 11, 25, 11, 0, 0, 123_456, tzinfo=PLUS_ONE))
    caller: Caller = await open_account(services)
    data = await Client(services, caller).execute(
        """mutation { createContact(input: {email: "ada@example.com", marketingStatus: MARKETING})
             { contact { createdAt updatedAt statusChangedAt
                         statusHistory { edges { node { at } } } } } }"""
    )
    contact = data["createContact"]["contact"]
    history = [edge["node"]["at"] for edge in contact["statusHistory"]["edges"]]
    written = "2026-11-25T10:00:00.123Z"
    assert [contact["createdAt"], contact["updatedAt"], contact["statusChangedAt"], *history] == [
        written
    ] * 4

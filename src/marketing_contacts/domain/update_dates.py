"""Update dates and periods (U1-U3).

A period runs from one update date (included) to the next (excluded). Dates are calendar dates
in the account's time zone; an update date starts at 00:00 there.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from marketing_contacts.domain.errors import ErrorCode, check_length, quoted, refuse

#: no IANA zone name is longer (the longest has 32 characters)
MAX_ZONE_NAME_LENGTH = 64


class CommitmentTerm(StrEnum):
    MONTHLY = "MONTHLY"
    ANNUAL = "ANNUAL"


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def days_left(self, today: date) -> int:
        """Days until the period's end, `today` included."""
        return (self.end - today).days


@dataclass(frozen=True)
class UpdateSchedule:
    """U1: MONTHLY on the renewal day (clamped to short months); U2: ANNUAL on every 1st."""

    term: CommitmentTerm
    anchor_day: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.anchor_day <= 31:
            raise ValueError(f"anchor day {self.anchor_day} is not a day of a month")

    @classmethod
    def for_renewal(cls, term: CommitmentTerm, renewal_date: date) -> UpdateSchedule:
        return cls(term=term, anchor_day=renewal_date.day if term is CommitmentTerm.MONTHLY else 1)

    def update_date_in(self, year: int, month: int) -> date:
        day = self.anchor_day if self.term is CommitmentTerm.MONTHLY else 1
        return date(year, month, min(day, calendar.monthrange(year, month)[1]))

    def next_after(self, day: date) -> date:
        """The first update date strictly after `day`."""
        candidate = self.update_date_in(day.year, day.month)
        if candidate > day:
            return candidate
        year, month = _add_months(day.year, day.month, 1)
        return self.update_date_in(year, month)

    def on_or_before(self, day: date) -> date:
        """The last update date on or before `day`: the start of the period holding it."""
        candidate = self.update_date_in(day.year, day.month)
        if candidate <= day:
            return candidate
        year, month = _add_months(day.year, day.month, -1)
        return self.update_date_in(year, month)

    def period_containing(self, day: date) -> Period:
        return Period(start=self.on_or_before(day), end=self.next_after(day))

    def period_ending(self, update_date: date) -> Period:
        """The period whose end is `update_date`."""
        return Period(start=self.on_or_before(update_date - timedelta(days=1)), end=update_date)


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def zone(name: str) -> ZoneInfo:
    """The IANA zone named `name`, or an INVALID error on the `timezone` field (a name past
    MAX_ZONE_NAME_LENGTH is none: the longest is about half of it)."""
    check_length(name, MAX_ZONE_NAME_LENGTH, "timezone")
    if name not in _known_zones():
        raise refuse(ErrorCode.INVALID, f"unknown time zone {quoted(name)}", "timezone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise refuse(ErrorCode.INVALID, f"unknown time zone {quoted(name)}", "timezone") from error


#: names tzdata ships that are no place's zone: the server's own, a placeholder, POSIX rules
_NOT_A_PLACE = frozenset({"localtime", "Factory", "posixrules"})


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(
        name
        for name in available_timezones()
        if name not in _NOT_A_PLACE and not name.startswith(("posix/", "right/"))
    )


def update_instant(update_date: date, timezone: str) -> datetime:
    """U3: the UTC instant at which `update_date` starts (00:00 in the account's zone)."""
    return datetime.combine(update_date, time(0), tzinfo=zone(timezone)).astimezone(UTC)


def local_date(instant: datetime, timezone: str) -> date:
    """The calendar date of `instant` in the account's zone."""
    return instant.astimezone(zone(timezone)).date()


def due_update_dates(
    next_update_date: date, schedule: UpdateSchedule, timezone: str, now: datetime
) -> list[date]:
    """U4: every update date that has started by `now`, oldest first."""
    due: list[date] = []
    current = next_update_date
    while update_instant(current, timezone) <= now:
        due.append(current)
        current = schedule.next_after(current)
    return due

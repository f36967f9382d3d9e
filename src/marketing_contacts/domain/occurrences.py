"""Things a caller reports once they happened (email events C7, engagements C6): when they may
say it happened.

A caller's clock may run a little ahead of ours: up to CLOCK_SKEW in the future is taken as now,
later is INVALID. An id made at the time something happened carries its second (an ObjectId's
first four bytes, from 1970 on), so nothing is dated before that.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from marketing_contacts.domain.errors import ErrorCode, refuse

#: something happened before it is recorded; this much of clock skew is allowed
CLOCK_SKEW = timedelta(minutes=5)
#: the earliest time an id can carry
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


def occurred_at(at: datetime, now: datetime, *field: str) -> datetime:
    """When it happened, to the millisecond (what the database keeps, so what a write answers
    equals what a later read returns); INVALID past now and its skew, or before EARLIEST."""
    if at > now + CLOCK_SKEW:
        raise refuse(ErrorCode.INVALID, "something is logged once it happened", *field)
    if at < EARLIEST:
        raise refuse(ErrorCode.INVALID, "nothing is dated before 1970", *field)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)

"""Ids: ObjectIds inside, hex strings outside."""

from __future__ import annotations

import struct
from datetime import datetime, timedelta

from bson import ObjectId
from bson.errors import InvalidId


class MongoIds:
    """ObjectIds: unique across processes, and they sort in the order they were made (to the
    second, then by a counter per process). An ObjectId's first four bytes are its second; made
    `at` a time, they are that time's (the other eight, a process's own random part and counter,
    keep it unique)."""

    def new_id(self, at: datetime | None = None) -> str:
        made = ObjectId()
        if at is None:
            return str(made)
        return str(ObjectId(struct.pack(">I", int(at.timestamp())) + made.binary[4:]))


def first_id_at(at: datetime) -> ObjectId:
    """The least id made at `at` (or later)."""
    return ObjectId.from_datetime(at)


def first_id_after(at: datetime) -> ObjectId:
    """The least id made after the second of `at`: every id made at `at` or before is lower."""
    return ObjectId.from_datetime(at + timedelta(seconds=1))


def oid(value: str) -> ObjectId | None:
    """The ObjectId a string names, or None when it names none (reads as not found)."""
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        return None

"""Ids: ObjectIds inside, hex strings outside."""

from __future__ import annotations

from bson import ObjectId
from bson.errors import InvalidId


def new_id() -> str:
    return str(ObjectId())


class MongoIds:
    """ObjectIds: unique across processes, and they sort in the order they were made (to the
    second, then by a counter per process)."""

    def new_id(self) -> str:
        return new_id()


def oid(value: str) -> ObjectId | None:
    """The ObjectId a string names, or None when it names none (reads as not found)."""
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        return None

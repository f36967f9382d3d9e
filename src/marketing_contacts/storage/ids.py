"""Ids and cursors: ObjectIds inside, hex strings and opaque cursors outside."""

from __future__ import annotations

from bson import ObjectId
from bson.errors import InvalidId

from marketing_contacts.services.paging import BadCursor, decode_cursor, encode_cursor


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


def decode_id_cursor(kind: str, cursor: str | None) -> ObjectId | None:
    if cursor is None:
        return None
    value = oid(decode_cursor(kind, cursor))
    if value is None:
        raise BadCursor(cursor)
    return value


__all__ = ["MongoIds", "decode_cursor", "decode_id_cursor", "encode_cursor", "new_id", "oid"]

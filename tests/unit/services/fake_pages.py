"""Pages of the fakes: opaque cursors as the adapters make them (services.paging), and foreign
or forged ones refused with BadCursor."""

from __future__ import annotations

import string
from typing import TypeVar

from marketing_contacts.services.paging import BadCursor, Page, decode_cursor, encode_cursor

T = TypeVar("T")

#: the length of an id (24 hex digits, as an ObjectId's)
ID_LENGTH = 24


def decode_id_cursor(kind: str, cursor: str | None) -> str | None:
    """The id a cursor of `kind` holds (an id as the fakes and ObjectIds make them)."""
    if cursor is None:
        return None
    value = decode_cursor(kind, cursor)
    if len(value) != ID_LENGTH or any(digit not in string.hexdigits for digit in value):
        raise BadCursor(cursor)
    return value.lower()


def page_of(items: list[T], keys: list[str], kind: str, first: int) -> Page[T]:
    return Page(
        items[:first], [encode_cursor(kind, key) for key in keys[:first]], len(items) > first
    )

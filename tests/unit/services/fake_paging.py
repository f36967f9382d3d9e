"""Keyset pages of the fakes, as storage.paging reads them: the items beyond the `after`
cursor's key in the connection's order, whether more lie beyond the page, and whether any lie
at or before the cursor."""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable
from typing import TypeVar

from marketing_contacts.services.paging import BadCursor, Page, decode_cursor, encode_cursor

T = TypeVar("T")
K = TypeVar("K", str, int)


#: the fakes' ids have the form of an ObjectId's hex string
ID_LENGTH = 24


def object_id(key: str) -> str:
    """An id cursor's key, refused like the adapter refuses what is no ObjectId."""
    if len(key) != ID_LENGTH or any(digit not in string.hexdigits for digit in key):
        raise BadCursor(key)
    return key


def sequence(key: str) -> int:
    if not key.isdigit():
        raise BadCursor(key)
    return int(key)


def keyset_page(
    items: Iterable[T],
    key: Callable[[T], K],
    parse: Callable[[str], K],
    kind: str,
    first: int,
    after: str | None,
    *,
    descending: bool = False,
) -> Page[T]:
    """The page of `items` (the whole connection, in any order) after the cursor `after`."""
    ordered = sorted(items, key=key, reverse=descending)
    bound = None if after is None else parse(decode_cursor(kind, after))

    def beyond(item: T) -> bool:
        if bound is None:
            return True
        return key(item) < bound if descending else key(item) > bound

    rest = [item for item in ordered if beyond(item)]
    shown = rest[:first]
    return Page(
        shown,
        [encode_cursor(kind, str(key(item))) for item in shown],
        has_next_page=len(rest) > first,
        has_previous_page=len(rest) < len(ordered),
    )

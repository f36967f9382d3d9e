"""Pages of a connection: the records a store hands out, their cursors, and the arguments
(`first` from 1 to 200, `after` a cursor the store handed out).

Pages run forward only, by a key the store orders on (keyset paging): `after` names the last
item a client has seen, the page holds the items beyond it. A cursor is opaque to clients: the
kind of connection and the item's key, base64 encoded, so a cursor of one connection is refused
by another.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from marketing_contacts.domain.errors import DomainError, ErrorCode, refuse

T = TypeVar("T")
MAX_PAGE = 200


@dataclass(frozen=True)
class Stored(Generic[T]):
    """A record as stored, with the id the store gave it."""

    id: str
    item: T


class BadCursor(Exception):
    """An `after` cursor this store did not hand out."""


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a connection; `cursors[i]` is the opaque cursor of `items[i]`.

    `has_next_page`: items lie beyond the page. `has_previous_page`: the page was asked for
    `after` a cursor and items of the connection lie at or before that cursor (a first page has
    none).
    """

    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool = False


def encode_cursor(kind: str, key: str) -> str:
    """The cursor of the item with this key, in connections of this kind."""
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode()


def decode_cursor(kind: str, cursor: str) -> str:
    """The key a cursor of this kind names; BadCursor when it is no such cursor."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise BadCursor(cursor) from error
    prefix, _, key = text.partition(":")
    if prefix != kind or not key:
        raise BadCursor(cursor)
    return key


#: no cursor the stores hand out is longer (they are a few dozen characters)
MAX_CURSOR_LENGTH = 200


def check_first(first: int) -> None:
    if not 1 <= first <= MAX_PAGE:
        raise refuse(ErrorCode.INVALID, f"first must be from 1 to {MAX_PAGE}", "first")


async def paged(first: int, after: str | None, read: Coroutine[Any, Any, Page[T]]) -> Page[T]:
    """The page `read` reads, once `first` and `after` are known to be fit for it (`read` is
    not run otherwise)."""
    try:
        check_first(first)
        if after is not None and len(after) > MAX_CURSOR_LENGTH:
            raise not_a_cursor()
    except DomainError:
        read.close()
        raise
    try:
        return await read
    except BadCursor as error:
        raise not_a_cursor() from error


def not_a_cursor() -> DomainError:
    return refuse(ErrorCode.INVALID, "after is not a cursor of this connection", "after")


async def page_in_order(
    items: Sequence[T], key: Callable[[T], str], kind: str, first: int, after: str | None
) -> Page[T]:
    """A page of a connection read whole (a contact's companies, held on the contact), in its
    own order; `after` names the key of the item the page follows, INVALID when no item of
    the connection has it any more."""

    async def read() -> Page[T]:
        keys = [key(item) for item in items]
        start = 0
        if after is not None:
            named = decode_cursor(kind, after)
            if named not in keys:
                raise BadCursor(after)
            start = keys.index(named) + 1
        shown = list(items[start : start + first])
        return Page(
            shown,
            [encode_cursor(kind, key(item)) for item in shown],
            has_next_page=start + first < len(items),
            has_previous_page=start > 0,
        )

    return await paged(first, after, read())

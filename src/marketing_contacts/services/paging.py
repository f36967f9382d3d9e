"""Pages of a connection: the records a store hands out, and the arguments (`first` from 1 to
200, `after` a cursor the store handed out)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Coroutine
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


def encode_cursor(kind: str, value: str) -> str:
    """An opaque cursor: a connection's `kind` and a position in it."""
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(kind: str, cursor: str) -> str:
    """The position a cursor of `kind` holds; BadCursor for any other string."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise BadCursor(cursor) from error
    prefix, _, value = text.partition(":")
    if prefix != kind or not value:
        raise BadCursor(cursor)
    return value


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a connection; `cursors[i]` is the opaque cursor of `items[i]`."""

    items: list[T]
    cursors: list[str]
    has_next_page: bool


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

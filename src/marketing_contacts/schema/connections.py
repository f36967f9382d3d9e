"""Connections: every list the API pages is a `Connection[T]` of `Edge[T]`s (Relay style).

Strawberry names a generic type after its argument: `Connection[Contact]` is served as
`ContactConnection`, its edges as `ContactEdge`. Pages run forward only (`first` and `after`),
in an order each connection states; `totalCount` is exact and read only when a client asks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from marketing_contacts.services.paging import MAX_PAGE, Page

T = TypeVar("T")
S = TypeVar("S")

#: counts the whole connection, when a client asks for totalCount
Count = Callable[[], Awaitable[int]]

First = Annotated[
    int | None,
    strawberry.argument(
        description=f"How many edges the page holds at most, 1 to {MAX_PAGE}; null means the "
        "default."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Start after the edge with this cursor (the previous page's endCursor); "
        "omitted or null: from the start. A cursor of another connection is INVALID."
    ),
]


def first_or(first: int | None, default: int) -> int:
    """`first: Int = N`: an explicit null means the default."""
    return default if first is None else first


@strawberry.type(
    description="Where a page lies in its connection. Pages run forward only: the next one "
    "is asked for with after: endCursor while hasNextPage is true."
)
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="True when edges follow this page in the connection."
    )
    has_previous_page: bool = strawberry.field(
        description="True when the page was asked for after a cursor and the connection holds "
        "edges at or before that cursor: a later page, not the first. Always false on a page "
        "read from the start; pages cannot be read backwards."
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of the page's first edge; null when the page is empty."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the page's last edge, to pass as after for the next page; "
        "null when the page is empty."
    )

    @classmethod
    def of(cls, page: Page[Any]) -> PageInfo:
        return cls(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        )


@strawberry.type(description="One item of a page, with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(
        description="Opaque; pass it as after to read the items that follow this one."
    )
    node: T = strawberry.field(description="The item.")


@strawberry.type(
    description="One page of a connection: its edges, where the page lies, and how many items "
    "the whole connection holds."
)
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(
        description="The page's items with their cursors, in the connection's order."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether more pages follow or precede, and the cursors to go on from."
    )
    count: strawberry.Private[Count]

    @strawberry.field(
        description="How many items the whole connection holds, all pages together: exact, "
        "and counted only when asked for."
    )
    async def total_count(self) -> int:
        return await self.count()


def connection(page: Page[S], node: Callable[[S], T], count: Count) -> Connection[T]:
    """The page as a connection of `node(item)`s, counted by `count` when a client asks."""
    edges = [
        Edge(cursor=cursor, node=node(item))
        for item, cursor in zip(page.items, page.cursors, strict=True)
    ]
    return Connection(edges=edges, page_info=PageInfo.of(page), count=count)

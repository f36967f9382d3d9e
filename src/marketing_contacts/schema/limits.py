"""What one request may ask of the server: bounded documents, and subscriptions on WebSocket only.

A frontend's largest query (a page of contacts with their status history) is a few hundred
tokens, at most six levels deep, with a handful of aliases; the bounds leave room for that and
refuse documents built to make the server work (thousands of aliases, deep nesting).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.types.graphql import OperationType

MAX_TOKENS = 5_000
MAX_ALIASES = 30
MAX_DEPTH = 10


class SubscriptionsOverWebSocket(SchemaExtension):
    """A subscription sent as a plain HTTP request gets a clear error, not an internal one."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        over_websocket = getattr(context.context, "hub", None) is not None
        if context.operation_type is OperationType.SUBSCRIPTION and not over_websocket:
            context.result = ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        "subscriptions are served over WebSocket (graphql-transport-ws) at "
                        "/graphql",
                        extensions={"code": "INVALID", "field": []},
                    )
                ],
            )
        yield


def request_limits() -> list[Callable[[], SchemaExtension]]:
    """Factories: each request gets its own extension instances."""
    return [
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        partial(MaxAliasesLimiter, max_alias_count=MAX_ALIASES),
        partial(QueryDepthLimiter, max_depth=MAX_DEPTH),
        SubscriptionsOverWebSocket,
    ]

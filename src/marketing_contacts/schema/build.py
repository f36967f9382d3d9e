"""The Schema: its roots, its limits, and how errors reach clients."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from marketing_contacts.schema.errors import Unavailable, client_error, without_suggestions
from marketing_contacts.schema.limits import production_limits, request_limits
from marketing_contacts.schema.mutation import Mutation
from marketing_contacts.schema.query import Query
from marketing_contacts.schema.scalars import SCALARS
from marketing_contacts.schema.subscription import Subscription


class Schema(strawberry.Schema):
    def __init__(
        self, *args: Any, unavailable: Unavailable, production: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.unavailable = unavailable
        self.production = production

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Every error a client gets passes here, for queries, mutations and each result of a
        subscription alike: it is made what the client may see, in place (expected errors keep
        their code, unexpected ones are masked and logged with a request id; in production, no
        message suggests names of the schema)."""
        shown = [client_error(error, self.unavailable) for error in errors]
        errors[:] = [without_suggestions(error) for error in shown] if self.production else shown


def build_schema(unavailable: Unavailable, *, production: bool = False) -> Schema:
    """The served schema; `unavailable` tells which exceptions mean the database did not
    answer (they reach clients as UNAVAILABLE). In production it answers no introspection and
    suggests no names ("Did you mean ...") to whoever holds a token."""
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=request_limits() + (production_limits() if production else []),
        config=StrawberryConfig(scalar_map=SCALARS),
        unavailable=unavailable,
        production=production,
    )

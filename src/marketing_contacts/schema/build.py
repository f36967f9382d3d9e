"""The Schema: its roots, its limits, and how errors reach clients."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from marketing_contacts.schema.errors import Unavailable, client_error
from marketing_contacts.schema.limits import request_limits
from marketing_contacts.schema.mutation import Mutation
from marketing_contacts.schema.query import Query
from marketing_contacts.schema.scalars import SCALARS
from marketing_contacts.schema.subscription import Subscription


class Schema(strawberry.Schema):
    def __init__(self, *args: Any, unavailable: Unavailable, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unavailable = unavailable

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Every error a client gets passes here, for queries, mutations and each result of a
        subscription alike: it is made what the client may see, in place (expected errors keep
        their code, unexpected ones are masked and logged with a request id)."""
        errors[:] = [client_error(error, self.unavailable) for error in errors]


def build_schema(unavailable: Unavailable) -> Schema:
    """The served schema; `unavailable` tells which exceptions mean the database did not
    answer (they reach clients as UNAVAILABLE)."""
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=request_limits(),
        config=StrawberryConfig(scalar_map=SCALARS),
        unavailable=unavailable,
    )

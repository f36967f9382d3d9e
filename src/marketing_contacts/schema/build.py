"""The Schema object."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from marketing_contacts.schema.bulk import BulkMutations, BulkQueries
from marketing_contacts.schema.errors import client_error
from marketing_contacts.schema.limits import request_limits
from marketing_contacts.schema.lists import ListMutations, ListQueries
from marketing_contacts.schema.mutation import Mutation
from marketing_contacts.schema.query import Query
from marketing_contacts.schema.scalars import SCALARS
from marketing_contacts.schema.subscription import Subscription


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Every error a client gets passes here, for queries, mutations and each result of a
        subscription alike: it is made what the client may see, in place (expected errors keep
        their code, unexpected ones are masked and logged with a request id)."""
        errors[:] = [client_error(error) for error in errors]


def build_schema() -> strawberry.Schema:
    return Schema(
        query=merge_types("Query", (Query, ListQueries, BulkQueries)),
        mutation=merge_types("Mutation", (Mutation, ListMutations, BulkMutations)),
        subscription=Subscription,
        extensions=request_limits(),
        config=StrawberryConfig(scalar_map=SCALARS),
    )


schema = build_schema()

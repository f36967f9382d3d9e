"""The Schema object."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from marketing_contacts.schema.bulk import BulkMutations, BulkQueries
from marketing_contacts.schema.errors import ClientErrors, client_error
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
        """Expected errors are the client's business, not the log's. The errors are made what
        the client may see here, in place, because subscriptions deliver each result's errors
        past the ClientErrors extension (which does the same for queries and mutations; the
        conversion is idempotent)."""
        errors[:] = [client_error(error) for error in errors]


def build_schema() -> strawberry.Schema:
    return Schema(
        query=merge_types("Query", (Query, ListQueries, BulkQueries)),
        mutation=merge_types("Mutation", (Mutation, ListMutations, BulkMutations)),
        subscription=Subscription,
        extensions=[*request_limits(), ClientErrors],
        config=StrawberryConfig(scalar_map=SCALARS),
    )


schema = build_schema()

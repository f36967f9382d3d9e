"""What one request may ask of the server: bounded documents, and subscriptions on WebSocket only.

A document is refused before it is validated or run when it passes one of the limits below;
the error says which (`extensions: {"code": "TOO_COMPLEX", "limit": ..., "max": ...}`).

- tokens: graphql-core stops parsing past MAX_TOKENS, so no later step sees a huge document;
- depth, aliases and cost: measured in one pass by `document_cost` (each fragment once).

The cost counts each field once per item of the pages above it, and a field that reads a
selection of contacts once per contact it may read. A frontend's page of 100 contacts with every
field and 20 history entries each costs about 27,000. MAX_COST admits the largest single reads:
a page of 200 contacts with every field and 200 history entries of four fields each (244,201;
asking every field of those 40,000 entries passes the limit: page the history instead), or a
preview of 10,000 contacts with every field (100,001). It refuses such reads repeated under
aliases: 30 of those pages (about 7,300,000), or 30 previews of 10,000 ids even of one field
(300,030), which took the API 37 seconds while other accounts waited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any, Literal

from graphql import (
    ExecutionResult,
    FieldNode,
    GraphQLError,
    Undefined,
    ValidationRule,
    get_named_type,
    is_introspection_type,
)
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension
from strawberry.types.graphql import OperationType

from marketing_contacts.domain.bulk import MAX_SELECTED_IDS
from marketing_contacts.domain.errors import DomainError
from marketing_contacts.domain.users import check_may_write
from marketing_contacts.schema.document_cost import Measure, Weight, measure_operation
from marketing_contacts.services.paging import MAX_PAGE

MAX_TOKENS = 5_000
MAX_ALIASES = 30
MAX_DEPTH = 10
MAX_COST = 250_000

Limit = Literal["tokens", "depth", "aliases", "cost"]

_PASSED: dict[Limit, str] = {
    "tokens": "more than {max} tokens",
    "depth": "more than {max} levels of fields",
    "aliases": "more than {max} aliases",
    "cost": (
        "a cost over {max} (each field counts once per item of every page above it, and a "
        "field that reads a selection of contacts once per contact it may read)"
    ),
}


def too_complex(limit: Limit, maximum: int) -> GraphQLError:
    """The error of a document past one of the limits: which limit, and its value."""
    return GraphQLError(
        f"the document is too complex for the {limit} limit: it has "
        + _PASSED[limit].format(max=f"{maximum:,}"),
        extensions={"code": "TOO_COMPLEX", "limit": limit, "max": maximum},
    )


def _argument(arguments: Mapping[str, Any], *path: str) -> Any:
    """The value at `path` inside a field's arguments, or None."""
    value: Any = arguments
    for name in path:
        value = value.get(name) if isinstance(value, Mapping) else None
    return value


def _ids(value: Any) -> int:
    """How many ids a list argument holds (a single id is a list of one, as GraphQL coerces)."""
    if isinstance(value, list):
        return len(value)
    return 0 if value is None or value is Undefined else 1


def _selected(selection: Any) -> int:
    """A ContactSelection reads its ids; a filter, list or `unengaged` up to the whole account,
    which B1 bounds as it bounds ids."""
    ids = _argument(selection, "ids")
    return MAX_SELECTED_IDS if ids is None or ids is Undefined else _ids(ids)


WEIGHTS: dict[str, Weight] = {
    "Query.previewStatusChange": lambda a: _selected(_argument(a, "selection")),
    "Mutation.startBulkStatusChange": lambda a: _selected(_argument(a, "input", "selection")),
    "Mutation.setMarketingStatus": lambda a: _ids(_argument(a, "input", "contactIds")),
    "Mutation.createList": lambda a: _ids(_argument(a, "contactIds")),
    "Mutation.addContactsToList": lambda a: _ids(_argument(a, "contactIds")),
    "Mutation.removeContactsFromList": lambda a: _ids(_argument(a, "contactIds")),
}
"""Fields that read more than one item, keyed by `Type.field`: their multiplier from their
arguments. Connections need no entry: their `first` is their multiplier."""


def passed_limit(measure: Measure) -> GraphQLError | None:
    """The error for the first limit the measure goes past, if any."""
    limits: tuple[tuple[Limit, int, int], ...] = (
        ("depth", measure.depth, MAX_DEPTH),
        ("aliases", measure.aliases, MAX_ALIASES),
        ("cost", measure.cost, MAX_COST),
    )
    return next((too_complex(name, most) for name, value, most in limits if value > most), None)


class DocumentLimits(SchemaExtension):
    """Depth, aliases and cost, checked before validation: a document past a limit is refused
    without being validated or run, for queries, mutations and subscriptions alike."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        assert document is not None  # parsed: validation follows parsing
        error = passed_limit(
            measure_operation(
                document,
                context.schema._schema,
                operation_name=context.operation_name,
                variables=context.variables,
                weights=WEIGHTS,
                max_page=MAX_PAGE,
            )
        )
        if error is not None:
            context.pre_execution_errors = [error]  # strawberry then skips validation
        yield


class ReadOnlyCallers(SchemaExtension):
    """P1: a READ_ONLY user's mutation is FORBIDDEN whole, before any field of it runs (one
    check for every mutation, those to come included)."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        caller = getattr(context.context, "authenticated", None)
        if context.operation_type is OperationType.MUTATION and caller is not None:
            try:
                check_may_write(caller.role)
            except DomainError as error:
                context.result = ExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(str(error), extensions={"code": "FORBIDDEN", "field": []})
                    ],
                )
        yield


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
        DocumentLimits,
        SubscriptionsOverWebSocket,
        ReadOnlyCallers,
    ]


INTROSPECTION_DISABLED = "introspection is disabled in production"


class NoIntrospection(ValidationRule):
    """graphql-core's NoSchemaIntrospectionCustomRule with our code and one error a document:
    its first field of an introspection type (`__schema`, `__type`; `__typename` is a plain
    String) is FORBIDDEN, and the fields inside it go unreported."""

    reported = False

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        named = get_named_type(self.context.get_type())
        if self.reported or named is None or not is_introspection_type(named):
            return
        self.reported = True
        self.report_error(
            GraphQLError(
                f"{INTROSPECTION_DISABLED}: {node.name.value!r} reads the schema",
                node,
                extensions={"code": "FORBIDDEN"},
            )
        )


def production_limits() -> list[Callable[[], SchemaExtension]]:
    """What production adds to request_limits: no introspection."""
    return [partial(AddValidationRules, [NoIntrospection])]

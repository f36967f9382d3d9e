"""What an operation asks of the server, measured on its document before it is validated or run.

The measure is that of the operation as it would be written with every fragment inlined: a
spread counts each time it appears (graphql-core's execution would merge repeated fields, but a
limit that relied on that would depend on every resolver being cheap to run twice). It is
computed in one pass that measures each fragment once: a document of ten spreads per fragment,
seven levels deep, stands for 10**7 fields, and walking it inlined took the API minutes of CPU.

- depth: levels of fields (`{ usage { tierLimit } }` is 2); introspection fields (`__schema`,
  `__type`, `__typename`) add none, as they read the schema, not the data, and GraphiQL's own
  introspection query nests `ofType` deeper than a data query ever does;
- aliases: how many fields carry one;
- cost: fields counted once per item of the pages above them,
  cost(field) = 1 + multiplier(field) * cost(its selection set), where the multiplier is what
  the field reads: a weight from the caller's table, else its `first` page size, else 1.

This runs before validation, so the document may be invalid: unknown fields, types and
fragments measure as best they can and fragment cycles are cut where they close; validation
then reports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    get_named_type,
    get_operation_ast,
    value_from_ast_untyped,
)

Weight = Callable[[Mapping[str, Any]], int]
"""A field's multiplier from its arguments (schema defaults filled in, variables resolved)."""


@dataclass(frozen=True)
class Measure:
    depth: int = 0
    aliases: int = 0
    cost: int = 0

    def beside(self, other: Measure) -> Measure:
        """Two selections of one selection set: the deeper one, and both counts."""
        return Measure(
            depth=max(self.depth, other.depth),
            aliases=self.aliases + other.aliases,
            cost=self.cost + other.cost,
        )


NOTHING = Measure()


def measure_operation(
    document: DocumentNode,
    schema: GraphQLSchema,
    *,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    weights: Mapping[str, Weight],
    max_page: int,
) -> Measure:
    """The measure of the operation the request runs (NOTHING when there is none to run: the
    execution reports that). `weights` is keyed by `Type.field`; `max_page` is the multiplier
    of a `first` whose value is not known, and the most any `first` reads (a field refuses a
    larger one before it reads anything)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return NOTHING
    walk = _Walk(schema, _with_defaults(operation, variables), weights, max_page)
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    for name in _spread_first(fragments):
        fragment = fragments[name]
        walk.fragments[name] = walk.selections(
            fragment.selection_set, walk.named_type(fragment.type_condition)
        )
    return walk.selections(operation.selection_set, schema.get_root_type(operation.operation))


def _with_defaults(
    operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The variables as given, and the operation's defaults for those not given."""
    defaults = {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
    return {**defaults, **(variables or {})}


def _spread_first(fragments: Mapping[str, FragmentDefinitionNode]) -> list[str]:
    """The fragments, each after those it spreads, so that each is measured once and from
    measures already taken. Depth-first with an explicit stack: a chain of hundreds of
    fragments fits in 5,000 tokens, and would not fit in Python's recursion limit. A spread
    that closes a cycle is left out (it measures as NOTHING)."""
    order: list[str] = []
    seen: set[str] = set()
    for start in fragments:
        if start in seen:
            continue
        seen.add(start)
        stack = [(start, _spreads(fragments[start].selection_set))]
        while stack:
            name, pending = stack[-1]
            following = next((s for s in pending if s in fragments and s not in seen), None)
            if following is None:
                stack.pop()
                order.append(name)
            else:
                seen.add(following)
                stack.append((following, _spreads(fragments[following].selection_set)))
    return order


def _spreads(selection_set: SelectionSetNode | None) -> Iterator[str]:
    """Names of the fragments spread anywhere in a selection set, nested ones included."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FragmentSpreadNode):
            yield selection.name.value
        elif isinstance(selection, FieldNode | InlineFragmentNode):
            yield from _spreads(selection.selection_set)


class _Walk:
    """One walk over an operation's document; `fragments` holds the measures taken so far."""

    def __init__(
        self,
        schema: GraphQLSchema,
        variables: dict[str, Any],
        weights: Mapping[str, Weight],
        max_page: int,
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.weights = weights
        self.max_page = max_page
        self.fragments: dict[str, Measure] = {}

    def named_type(self, node: NamedTypeNode | None) -> GraphQLNamedType | None:
        return None if node is None else self.schema.get_type(node.name.value)

    def selections(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None
    ) -> Measure:
        total = NOTHING
        for selection in () if selection_set is None else selection_set.selections:
            if isinstance(selection, FieldNode):
                part = self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                inner = self.named_type(selection.type_condition) or parent
                part = self.selections(selection.selection_set, inner)
            else:  # a fragment spread: unknown, or closing a cycle, it measures as nothing
                assert isinstance(selection, FragmentSpreadNode)
                part = self.fragments.get(selection.name.value, NOTHING)
            total = total.beside(part)
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Measure:
        definition = _definition(parent, node.name.value)
        inner = self.selections(
            node.selection_set, None if definition is None else get_named_type(definition.type)
        )
        return Measure(
            depth=0 if node.name.value.startswith("__") else 1 + inner.depth,
            aliases=inner.aliases + (node.alias is not None),
            cost=1 + self.multiplier(node, parent, definition) * inner.cost,
        )

    def multiplier(
        self, node: FieldNode, parent: GraphQLNamedType | None, definition: GraphQLField | None
    ) -> int:
        defaults = {} if definition is None else _defaults(definition)
        arguments = defaults | {
            argument.name.value: value_from_ast_untyped(argument.value, self.variables)
            for argument in node.arguments or ()
        }
        weight = None if parent is None else self.weights.get(f"{parent.name}.{node.name.value}")
        if weight is not None:
            return weight(arguments)
        if "first" in arguments:
            return self.page_size(arguments["first"], defaults.get("first"))
        return 1

    def page_size(self, given: Any, default: Any) -> int:
        """`first` as given, else its default (an explicit null means the default), else the
        largest page; never more than the largest page (a field refuses more before reading)."""
        for value in (given, default):
            if isinstance(value, int) and not isinstance(value, bool):
                return min(max(value, 0), self.max_page)
        return self.max_page


def _definition(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return None
    field: GraphQLField | None = parent.fields.get(name)
    return field


def _defaults(definition: GraphQLField) -> dict[str, Any]:
    return {
        name: argument.default_value
        for name, argument in definition.args.items()
        if argument.default_value is not Undefined
    }

"""The API guide cannot drift from the served schema.

Every ```graphql block of docs/api.md is one named operation that validates against the served
schema; the ```json variables block under it (if any) holds variables that operation accepts;
and every root field of Query, Mutation and Subscription has at least one example.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    FieldNode,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    get_variable_values,
    parse,
    validate,
)

from marketing_contacts.runtime import SCHEMA

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
#: a fenced block: its info string (```graphql, ```json variables) and its body
FENCE = re.compile(r"^```(?P<info>[^`\n]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
GRAPHQL = "graphql"
VARIABLES = "json variables"


@dataclass(frozen=True)
class Block:
    """A fenced block of the guide, and the line its fence opens on."""

    info: str
    body: str
    line: int


@dataclass(frozen=True)
class Example:
    """A ```graphql block and the variables under it."""

    block: Block
    variables: dict[str, Any]

    @property
    def document(self) -> str:
        return self.block.body


def blocks(text: str) -> list[Block]:
    return [
        Block(found["info"].strip(), found["body"], text.count("\n", 0, found.start()) + 1)
        for found in FENCE.finditer(text)
    ]


def examples(text: str) -> list[Example]:
    """Each graphql block, with the json variables block right after it or no variables."""
    found = blocks(text)
    pairs = zip(found, [*found[1:], None], strict=True)
    return [
        Example(
            block, json.loads(after.body) if after is not None and after.info == VARIABLES else {}
        )
        for block, after in pairs
        if block.info == GRAPHQL
    ]


def served() -> GraphQLSchema:
    return SCHEMA._schema


def problems(example: Example, schema: GraphQLSchema) -> list[str]:
    """What is wrong with the example: its document, its operation, or its variables."""
    document = parse(example.document)
    errors = [error.message for error in validate(schema, document)]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].name is None:
        errors.append("an example is exactly one named operation")
    for operation in operations:
        coerced = get_variable_values(
            schema, operation.variable_definitions or (), example.variables
        )
        if isinstance(coerced, list):
            errors += [error.message for error in coerced]
    return errors


def root_fields(schema: GraphQLSchema) -> set[str]:
    roots = (schema.query_type, schema.mutation_type, schema.subscription_type)
    return {f"{root.name}.{name}" for root in roots if root is not None for name in root.fields}


def fields_shown(shown: list[Example], schema: GraphQLSchema) -> set[str]:
    """The root fields the examples' operations select, as `Type.field`."""
    roots = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }
    names: set[str] = set()
    for example in shown:
        for definition in parse(example.document).definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            root = roots[definition.operation]
            for selection in definition.selection_set.selections:
                if root is not None and isinstance(selection, FieldNode):
                    names.add(f"{root.name}.{selection.name.value}")
    return names


GUIDE_TEXT = GUIDE.read_text(encoding="utf-8")
EXAMPLES = examples(GUIDE_TEXT)


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"api.md:{e.block.line}" for e in EXAMPLES])
def test_each_example_runs_against_the_served_schema(example: Example) -> None:
    assert problems(example, served()) == []


def test_every_root_field_has_an_example() -> None:
    schema = served()
    assert sorted(root_fields(schema) - fields_shown(EXAMPLES, schema)) == []


def test_every_variables_block_belongs_to_an_example() -> None:
    found = blocks(GUIDE_TEXT)
    strays = [
        block.line
        for block, before in zip(found, [None, *found[:-1]], strict=True)
        if block.info == VARIABLES and (before is None or before.info != GRAPHQL)
    ]
    assert strays == []


def test_the_checks_see_a_guide_that_drifted() -> None:
    schema = served()
    usage = next(e for e in EXAMPLES if "query Usage" in e.document)
    renamed_field = usage.document.replace("bannerVisible", "bannerShown")
    renamed = Example(Block(GRAPHQL, renamed_field, usage.block.line), {})
    contact = next(e for e in EXAMPLES if "query Contact(" in e.document)
    unfit = Example(contact.block, {"id": ["not", "an", "id"]})
    without_usage = [e for e in EXAMPLES if e is not usage]

    assert problems(renamed, schema) == ["Cannot query field 'bannerShown' on type 'Usage'."]
    assert len(problems(unfit, schema)) == 1
    assert problems(Example(contact.block, {}), schema) != []
    assert root_fields(schema) - fields_shown(without_usage, schema) == {"Query.usage"}

"""The served schema documents itself: every type, field, argument, input field and enum value
carries a description (GraphiQL's documentation and any client's introspection show them)."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
)

from marketing_contacts.runtime import SCHEMA

#: GraphQL's own scalars, described by the GraphQL specification
STANDARD_SCALARS = frozenset({"String", "Int", "Boolean", "ID", "Float"})


def described_parts(schema: GraphQLSchema) -> Iterator[tuple[str, str | None]]:
    """Every part of the schema a client can read a description of, by its coordinate
    (`Type`, `Type.field`, `Type.field(argument:)`, `Enum.VALUE`), with its description."""
    for name, named in schema.type_map.items():
        if name.startswith("__") or name in STANDARD_SCALARS:
            continue
        yield name, named.description
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named.fields.items():
                yield f"{name}.{field_name}", field.description
                for arg_name, arg in field.args.items():
                    yield f"{name}.{field_name}({arg_name}:)", arg.description
        elif isinstance(named, GraphQLInputObjectType):
            for field_name, input_field in named.fields.items():
                yield f"{name}.{field_name}", input_field.description
        elif isinstance(named, GraphQLEnumType):
            for value_name, value in named.values.items():
                yield f"{name}.{value_name}", value.description


def undescribed(schema: GraphQLSchema) -> list[str]:
    return [where for where, text in described_parts(schema) if not (text and text.strip())]


def test_every_part_of_the_served_schema_has_a_description() -> None:
    assert undescribed(SCHEMA._schema) == []


def test_the_check_names_every_undescribed_part() -> None:
    schema = build_schema(
        '''
        """Described."""
        type Query {
          """Described."""
          ok: Int
          bare(first: Int): Int
        }
        input Where { field: Int }
        """Described."""
        enum Kind { """Described.""" ONE TWO }
        scalar Instant
        '''
    )
    assert undescribed(schema) == [
        "Query.bare",
        "Query.bare(first:)",
        "Where",
        "Where.field",
        "Kind.TWO",
        "Instant",
    ]


def test_descriptions_speak_for_themselves() -> None:
    """A reader of the schema has only the schema: no description sends them to a file."""
    pointing = [
        where
        for where, text in described_parts(SCHEMA._schema)
        if text and any(mark in text for mark in ("spec/", ".md", ".graphql"))
    ]
    assert pointing == []


def test_the_scalars_state_their_formats() -> None:
    types = SCHEMA._schema.type_map
    assert "2026-11-25T10:00:00.000Z" in (types["DateTime"].description or "")
    assert "YYYY-MM-DD" in (types["Date"].description or "")
    assert '"123.45"' in (types["Decimal"].description or "")

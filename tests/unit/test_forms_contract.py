"""F1: the served schema serves the forms SDL of the intake issue exactly (tests/schema/
forms.graphql): no breaking change and, for its own types, no field or argument it does not
name either (a public contract: names, types, nullability and defaults as given)."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLObjectType,
    build_schema,
    find_breaking_changes,
    print_type,
)

from marketing_contacts.runtime import SCHEMA as schema

FORMS = Path(__file__).resolve().parents[1] / "schema" / "forms.graphql"
OWN_TYPES = [
    "FormKind",
    "Form",
    "FormValue",
    "FormSubmission",
    "FormSubmissionEdge",
    "FormSubmissionConnection",
    "FormPayload",
    "FormSubmissionPayload",
    "CreateFormInput",
    "UpdateFormInput",
    "FormValueInput",
    "SubmitFormInput",
]


def contract_with_served_base() -> str:
    """The forms SDL over the served schema's other types (Contact, PageInfo, ...)."""
    served = build_schema(schema.as_str())
    roots = ("Query", "Mutation", "Subscription")
    others = "\n".join(
        print_type(t)
        for name, t in served.type_map.items()
        if not name.startswith("__") and name not in (*OWN_TYPES, *roots)
    )
    placeholders = "type Query { _: Boolean }\ntype Mutation { _: Boolean }\n"
    return f"{others}\n{placeholders}{FORMS.read_text()}"


def test_f1_the_served_schema_keeps_the_forms_contract() -> None:
    contract = build_schema(contract_with_served_base())
    served = build_schema(schema.as_str())
    changes = [
        f"{c.type.name}: {c.description}"
        for c in find_breaking_changes(contract, served)
        if "Query._ " not in c.description and "Mutation._ " not in c.description
    ]
    assert changes == []


def test_f1_the_forms_types_hold_only_what_the_contract_names() -> None:
    contract = build_schema(contract_with_served_base())
    served = build_schema(schema.as_str())
    for name in OWN_TYPES:
        given, serves = contract.type_map[name], served.type_map[name]
        if isinstance(given, GraphQLEnumType):
            assert isinstance(serves, GraphQLEnumType)
            assert set(serves.values) == set(given.values), name
            continue
        assert isinstance(given, GraphQLObjectType | GraphQLInputObjectType)
        assert isinstance(serves, GraphQLObjectType | GraphQLInputObjectType)
        assert set(serves.fields) == set(given.fields), name
        for field_name, field in given.fields.items():
            assert str(serves.fields[field_name].type) == str(field.type), (name, field_name)
            if isinstance(field, GraphQLInputField):
                served_field = serves.fields[field_name]
                assert isinstance(served_field, GraphQLInputField)
                assert served_field.default_value == field.default_value, (name, field_name)
    for root, fields in (("Query", ("forms", "form")), ("Mutation", OWN_MUTATIONS)):
        served_root = served.type_map[root]
        given_root = contract.type_map[root]
        assert isinstance(served_root, GraphQLObjectType)
        assert isinstance(given_root, GraphQLObjectType)
        for field_name in fields:
            got, want = served_root.fields[field_name], given_root.fields[field_name]
            assert str(got.type) == str(want.type), field_name
            assert {a: str(arg.type) for a, arg in got.args.items()} == {
                a: str(arg.type) for a, arg in want.args.items()
            }, field_name


OWN_MUTATIONS = ("createForm", "updateForm", "submitForm")

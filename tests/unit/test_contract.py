"""The served schema keeps every type, field and argument of the public contract.

`tests/schema/contract.graphql` is the contract as the project was given it (its types, fields,
arguments and values verbatim; its comments point at this repository's docs): the served schema
may add to it, never remove or change what it holds. `tests/schema/access.graphql` extends it
for users and access (P1-P5), `tests/schema/records.graphql` for the CRM records (C1-C12): they
concatenate into one document the served schema keeps.
"""

from __future__ import annotations

from pathlib import Path

from graphql import build_schema, find_breaking_changes

from marketing_contacts.runtime import SCHEMA as schema


def contract_path() -> Path:
    return Path(__file__).resolve().parents[1] / "schema" / "contract.graphql"


CONTRACT = contract_path()
#: the resolved issues' extensions of the contract
EXTENSIONS = [CONTRACT.with_name("access.graphql"), CONTRACT.with_name("records.graphql")]


def test_served_schema_has_no_breaking_change_against_the_contract() -> None:
    contract = build_schema(CONTRACT.read_text())
    served = build_schema(schema.as_str())
    assert [
        f"{c.type.name}: {c.description}" for c in find_breaking_changes(contract, served)
    ] == []


def test_served_schema_has_no_breaking_change_against_the_contract_and_its_extensions() -> None:
    document = "\n".join(path.read_text() for path in [CONTRACT, *EXTENSIONS])
    extended = build_schema(document)
    served = build_schema(schema.as_str())
    assert [
        f"{c.type.name}: {c.description}" for c in find_breaking_changes(extended, served)
    ] == []


def test_the_contract_check_sees_a_removed_field() -> None:
    contract = build_schema(CONTRACT.read_text())
    served = schema.as_str()
    without = served.replace(
        '  """True from 98% of the tier on."""\n  bannerVisible: Boolean!\n', "", 1
    )
    assert without != served
    trimmed = build_schema(without)
    changes = find_breaking_changes(contract, trimmed)
    assert [c.description for c in changes] == ["Field Usage.bannerVisible was removed."]

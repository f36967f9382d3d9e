"""The served schema keeps every type, field and argument of spec/contract.graphql."""

from __future__ import annotations

import os
from pathlib import Path

from graphql import build_schema, find_breaking_changes

from marketing_contacts.schema.build import schema

REPO = Path(__file__).resolve().parents[2]


def contract_path() -> Path:
    """spec/contract.graphql of the shared/ folder beside the repository (where CI puts it),
    or the file CONTRACT_GRAPHQL names."""
    named = os.environ.get("CONTRACT_GRAPHQL")
    path = Path(named) if named else REPO.parent / "shared" / "spec" / "contract.graphql"
    assert path.is_file(), f"the contract is not at {path}: put shared/ beside the repository"
    return path


CONTRACT = contract_path()


def test_served_schema_has_no_breaking_change_against_the_contract() -> None:
    contract = build_schema(CONTRACT.read_text())
    served = build_schema(schema.as_str())
    assert [
        f"{c.type.name}: {c.description}" for c in find_breaking_changes(contract, served)
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

"""S5, P2: marketing access is checked in one place (domain.permissions.check_marketing_access),
which every path that can make a contact marketing calls; no other code decides on it.

Read from the source: a test, `if`, `while`, boolean operation or comparison that reads a
`marketing_access` anywhere but in that function fails here, so a new path cannot grow a check
of its own."""

from __future__ import annotations

import ast
from pathlib import Path

import marketing_contacts

SOURCE = Path(marketing_contacts.__file__).parent
THE_CHECK = ("domain/permissions.py", "check_marketing_access")
DECIDING = (ast.If, ast.IfExp, ast.While, ast.BoolOp, ast.UnaryOp, ast.Compare, ast.Assert)


def reads_marketing_access(node: ast.AST) -> bool:
    return any(
        (isinstance(n, ast.Name) and n.id == "marketing_access")
        or (isinstance(n, ast.Attribute) and n.attr == "marketing_access")
        for n in ast.walk(node)
    )


def decisions_on_marketing_access() -> list[str]:
    """Where code decides on a marketing_access, as `file:function:line`."""
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                test = node.test if isinstance(node, ast.If | ast.IfExp | ast.While) else node
                if isinstance(node, DECIDING) and reads_marketing_access(test):
                    where = (path.relative_to(SOURCE).as_posix(), function.name)
                    found.append(f"{where[0]}:{where[1]}:{node.lineno}")
    return sorted(set(found))


def test_marketing_access_is_decided_in_one_place() -> None:
    decisions = decisions_on_marketing_access()
    assert decisions, "the check itself is found"
    assert {d.rsplit(":", 1)[0] for d in decisions} == {":".join(THE_CHECK)}, decisions

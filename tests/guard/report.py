"""The guard's judgement of a record of query shapes, and the table of it.

`python -m tests.guard.report` prints every recorded shape with the index serving it, or why it
is allowed without one (after `make pytest`, or the integration and e2e suites).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from marketing_contacts.storage.wiring import all_indexes
from tests.guard.bounded import BOUNDED, RESIDUALS
from tests.support.index_rule import Index, declared_indexes, serving_indexes
from tests.support.query_shapes import Shape, read_recorded
from tests.support.shape_recording import (
    SHAPES_DIR,
    recorded_test_files,
    recording_test_files,
)


@dataclass(frozen=True)
class Judged:
    shape: Shape
    where: frozenset[str]
    #: the index serving each way the shape matches (one per $or clause), None for none
    indexes: tuple[Index | None, ...]
    #: why it stays small without one, when tests/guard/bounded.py lists it
    bounded: str | None

    @property
    def served(self) -> bool:
        return None not in self.indexes


@dataclass(frozen=True)
class Judgement:
    shapes: list[Judged]
    #: listed as bounded, but not recorded or served by an index after all
    stale_bounded: list[str]
    #: declared, used by no recorded shape, and enforcing nothing
    unused_indexes: list[Index]


def record_coverage(directory: Path) -> tuple[set[str], int]:
    """The recording test files the record was made without, and how many shapes it holds."""
    missing = recording_test_files() - recorded_test_files(directory)
    return missing, len({r.shape for r in read_recorded(directory)})


def judge(directory: Path) -> Judgement:
    where: defaultdict[Shape, set[str]] = defaultdict(set)
    for recorded in read_recorded(directory):
        where[recorded.shape].add(recorded.where)
    indexes = declared_indexes(all_indexes(), {shape.collection for shape in where})
    judged = []
    for shape in sorted(where):
        serving = serving_indexes(shape, indexes, RESIDUALS)
        judged.append(
            Judged(shape, frozenset(where[shape]), tuple(serving), BOUNDED.get(shape.describe()))
        )
    unserved = {j.shape.describe() for j in judged if not j.served}
    used = {index for j in judged for index in j.indexes if index is not None}
    return Judgement(
        judged,
        sorted(set(BOUNDED) - unserved),
        [i for i in indexes if i not in used and not i.constraint and i.keys != (("_id", 1),)],
    )


def table(judgement: Judgement) -> str:
    rows = ["| query shape | sent by | served by |", "|---|---|---|"]
    for j in judgement.shapes:
        served = " / ".join(
            dict.fromkeys("no index" if i is None else i.describe() for i in j.indexes)
        )
        if not j.served:
            served += f"; bounded: {j.bounded}" if j.bounded else " **UNSERVED**"
        where = ", ".join(sorted(j.where))
        rows.append(f"| `{j.shape.describe()}` | {where} | {served} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table(judge(SHAPES_DIR)))

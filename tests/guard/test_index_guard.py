"""The index guard: every query the service sent while the integration and end-to-end tests ran
meets an index that serves it by the equality-sort-range rule (tests/support/index_rule), or is
known to stay small (tests/guard/bounded.py says why).

It reads the record those suites leave (tests/support/shape_recording) and the indexes the
storage adapters declare (storage.wiring.all_indexes, what the service creates at start), so a
new query, or an index taken away, is judged at the next run. `make pytest` runs it as a session
of its own, after the suites that record; `python -m tests.guard.report` prints the table.
"""

from __future__ import annotations

import pytest

from tests.guard.report import Judged, judge, record_coverage
from tests.support.shape_recording import SHAPES_DIR


def _fail_listing(heading: str, lines: list[str], advice: str) -> None:
    if lines:
        pytest.fail(f"{heading}\n  " + "\n  ".join(lines) + f"\n{advice}", pytrace=False)


def _described(judged: list[Judged]) -> list[str]:
    return [f"{j.shape.describe()}\n      sent by {', '.join(sorted(j.where))}" for j in judged]


def test_the_record_holds_the_queries_of_every_test_that_records_them() -> None:
    missing, shapes = record_coverage(SHAPES_DIR)
    _fail_listing(
        f"the record in {SHAPES_DIR} was made without these test files:",
        sorted(missing),
        "Run the integration and e2e suites first, as `make pytest` does.",
    )
    assert shapes, f"no query shape recorded in {SHAPES_DIR}"


def test_every_query_shape_meets_an_index_or_is_known_to_be_bounded() -> None:
    unserved = [j for j in judge(SHAPES_DIR).shapes if not j.served and j.bounded is None]
    _fail_listing(
        f"{len(unserved)} query shape(s) meet no index by the equality-sort-range rule:",
        _described(unserved),
        "Declare an index that serves each (the INDEXES of its storage module), or list it in "
        "tests/guard/bounded.py with why it stays small.",
    )


def test_every_shape_known_as_bounded_is_still_sent_and_still_unserved() -> None:
    _fail_listing(
        "listed as bounded in tests/guard/bounded.py, but not sent or served by an index:",
        judge(SHAPES_DIR).stale_bounded,
        "Take them off the list.",
    )


def test_every_declared_index_serves_a_query_or_enforces_a_constraint() -> None:
    _fail_listing(
        "declared indexes that no recorded query uses and that enforce nothing:",
        [index.describe() for index in judge(SHAPES_DIR).unused_indexes],
        "Each costs every write of its collection: drop it, or test the query that needs it.",
    )

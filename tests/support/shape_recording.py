"""Recording the query shapes of a test session (a pytest plugin, loaded by tests/conftest.py).

A session that runs every integration and end-to-end test file (as `make pytest` does) starts
from an empty record in `SHAPES_DIR`, registers a recorder in its own process (the service runs
in-process in the integration tests), and puts `shape_site` first on the PYTHONPATH of every
process it starts, whose sitecustomize registers one there (the e2e tests' API, worker and CLI
processes). A session of some of them records nothing and leaves the last record alone. The
index guard (tests/guard) reads the record; run in the same session, it runs last.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.support.query_shapes import SHAPES_DIR_VARIABLE, ShapeRecorder, register_from_environment

_TESTS = Path(__file__).resolve().parents[1]
SHAPES_DIR = _TESTS.parent / "var" / "query-shapes"
SITE = Path(__file__).parent / "shape_site"
RECORDING_SUITES = ("integration", "e2e")
_GUARD = "guard"
_RECORDER = pytest.StashKey[ShapeRecorder]()


def _folder(item: pytest.Item) -> str | None:
    try:
        return item.path.relative_to(_TESTS).parts[0]
    except ValueError:
        return None


#: the test files of the session that made the record (relative to tests/)
TEST_FILES = "test-files.json"


def recorded_test_files(directory: Path) -> set[str]:
    path = directory / TEST_FILES
    return set(json.loads(path.read_text())) if path.exists() else set()


def recording_test_files() -> set[str]:
    """Every test file of the suites that record shapes."""
    return {
        path.relative_to(_TESTS).as_posix()
        for suite in RECORDING_SUITES
        for path in (_TESTS / suite).glob("test_*.py")
    }


def start_recording(directory: Path, test_files: Iterable[str]) -> ShapeRecorder:
    """An empty record; this process and the processes it starts from now on write to it."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    (directory / TEST_FILES).write_text(json.dumps(sorted(test_files)))
    os.environ[SHAPES_DIR_VARIABLE] = str(directory)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(SITE), os.environ.get("PYTHONPATH")) if part
    )
    recorder = register_from_environment()
    assert recorder is not None
    return recorder


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    collected = {item.path.relative_to(_TESTS).as_posix() for item in items if _folder(item)}
    recording = recording_test_files()
    if recording <= collected and _RECORDER not in config.stash:
        config.stash[_RECORDER] = start_recording(SHAPES_DIR, recording)
    # the guard reads what the other tests recorded: after them
    items.sort(key=lambda item: _folder(item) == _GUARD)

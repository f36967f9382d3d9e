"""Root of the test suite: shared fixtures, and markers from the folder a test lives in."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester", "tests.support.fixtures", "tests.support.shape_recording"]

_TESTS_ROOT = Path(__file__).parent
_MARKER_BY_FOLDER = {
    "contract": pytest.mark.contract,
    "integration": pytest.mark.integration,
    "e2e": pytest.mark.e2e,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        try:
            folder = item.path.relative_to(_TESTS_ROOT).parts[0]
        except ValueError:
            continue
        marker = _MARKER_BY_FOLDER.get(folder)
        if marker is not None:
            item.add_marker(marker)

"""Imported by every Python process the test session starts (the session puts this folder on
PYTHONPATH): a process with pymongo records the query shapes it sends (tests/support/query_shapes).

Nothing of the service changes: the recorder is a global pymongo command listener, registered
before the service makes its clients. Processes without pymongo (SecantusDB's) are left alone.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

if os.environ.get("QUERY_SHAPES_DIR"):
    try:
        import pymongo  # noqa: F401
    except ImportError:
        pass
    else:
        sys.path.append(str(Path(__file__).resolve().parents[3]))
        from tests.support.query_shapes import register_from_environment

        register_from_environment()

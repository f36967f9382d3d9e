"""The real `marketing-contacts` command, run the way an operator runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CLI = str(Path(sys.executable).parent / "marketing-contacts")


def run_cli(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run a CLI command to its end: its exit code and what it printed."""
    return subprocess.run(
        [CLI, *args], env=dict(env), capture_output=True, text=True, timeout=60, check=False
    )


def run_json(env: Mapping[str, str], *args: str) -> dict[str, Any]:
    """Run a CLI command with --json; its last line is one JSON object."""
    done = run_cli(env, *args, "--json")
    assert done.returncode == 0, f"{args} exited with {done.returncode}: {done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result

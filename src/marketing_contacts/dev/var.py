"""Files `marketing-contacts dev` keeps in VAR_DIR."""

from __future__ import annotations

from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Write a file only this user may read (it holds a token, or a URI with a password)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(text)

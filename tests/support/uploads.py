"""Files to import (I1), as the services and the schema take them."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator


async def one_piece(body: bytes) -> AsyncIterator[bytes]:
    """A file's bytes as the services stream them in."""
    yield body


class Upload:
    """A file as the multipart parser hands it to the resolver (starlette's UploadFile)."""

    def __init__(self, text: str | bytes, filename: str = "contacts.csv") -> None:
        self.filename = filename
        self.body = io.BytesIO(text.encode() if isinstance(text, str) else text)

    async def read(self, size: int = -1) -> bytes:
        return self.body.read(size)

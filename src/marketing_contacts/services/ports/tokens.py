"""API tokens, stored as hashes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ApiToken:
    """An API token as stored: only the hash of its secret is kept."""

    id: str
    account_id: str
    name: str
    marketing_access: bool
    secret_hash: str
    created_at: datetime


class TokenStore(Protocol):
    async def insert(self, token: ApiToken) -> None: ...

    async def find_by_hash(self, secret_hash: str) -> ApiToken | None: ...

"""API tokens, stored as hashes; each acts as its user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from marketing_contacts.domain.audit import AuditEntry


@dataclass(frozen=True)
class ApiToken:
    """An API token as stored: only the hash of its secret is kept."""

    id: str
    account_id: str
    name: str
    #: S5 of a token stored before users: the permission its user is made with
    marketing_access: bool
    secret_hash: str
    created_at: datetime
    #: the user it acts as (P1); None for a token stored before users, until its first use
    user_id: str | None = None
    last_used_at: datetime | None = None
    revoked: bool = False


class TokenStore(Protocol):
    async def insert(self, token: ApiToken, audit: AuditEntry | None = None) -> None:
        """Store the token with the audit entry of its creation, in one transaction (as every
        write with an entry below)."""
        ...

    async def find_by_hash(self, secret_hash: str) -> ApiToken | None: ...

    async def get(self, account_id: str, token_id: str) -> ApiToken | None: ...

    async def revoke(
        self, account_id: str, token_id: str, audit: AuditEntry | None = None
    ) -> ApiToken | None:
        """Mark the account's token revoked (for good); the token after, None if absent (and no
        entry recorded)."""
        ...

    async def attach_user(self, token_id: str, user_id: str) -> None:
        """Give a token stored before users its user (only if it has none)."""
        ...

    async def touch(self, token_id: str, now: datetime, unless_since: datetime) -> None:
        """Set last_used_at to `now` unless it is later than `unless_since`: one write per
        token per interval however many requests, never a write per request."""
        ...

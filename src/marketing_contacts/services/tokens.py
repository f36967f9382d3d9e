"""API tokens: random secrets, shown once, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets

from marketing_contacts.services.callers import Caller
from marketing_contacts.services.ports.tokens import ApiToken
from marketing_contacts.services.wiring import Ports

TOKEN_PREFIX = "mc_"


def hash_secret(secret: str) -> str:
    """Tokens carry 256 random bits, so a plain SHA-256 is enough to keep them unguessable."""
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenService:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports

    async def issue(
        self, account_id: str, name: str, *, marketing_access: bool = True
    ) -> tuple[ApiToken, str]:
        """A new token for the account; the secret is returned once and never stored."""
        await self.ports.account(account_id)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(
            id=self.ports.ids.new_id(),
            account_id=account_id,
            name=name,
            marketing_access=marketing_access,
            secret_hash=hash_secret(secret),
            created_at=self.ports.clock.now(),
        )
        await self.ports.tokens.insert(token)
        return token, secret

    async def authenticate(self, secret: str) -> Caller | None:
        if not secret.startswith(TOKEN_PREFIX):
            return None
        token = await self.ports.tokens.find_by_hash(hash_secret(secret))
        if token is None:
            return None
        return Caller(token.account_id, token.id, token.marketing_access)

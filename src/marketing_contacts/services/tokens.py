"""API tokens: random secrets, shown once, stored only as a hash; each acts as its user (P1).

A request is one token lookup (by the hash of the secret: the secret is never compared, so no
comparison leaks its characters through time) and one lookup of its user; a revoked token or a
deactivated user is refused. `lastUsedAt` is written at most once per ACTIVITY_INTERVAL per
token, by a conditional update, not on every request.

Tokens stored before users (every one of them could do everything) get a user of their own at
their first use: an ADMIN named after the token, with the token's marketing access and the
token's id as its id (so two first requests at once make one user).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import timedelta

from marketing_contacts.domain.audit import SYSTEM, Actor
from marketing_contacts.domain.errors import ErrorCode, check_id, refuse
from marketing_contacts.domain.users import (
    RecordVisibility,
    Role,
    User,
    check_admin,
    check_user_name,
    generated_email,
    user_not_found,
)
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.ports.events import AccessChanged
from marketing_contacts.services.ports.tokens import ApiToken
from marketing_contacts.services.ports.users import DuplicateUser
from marketing_contacts.services.users import tell_access_changed
from marketing_contacts.services.wiring import Ports

TOKEN_PREFIX = "mc_"
ACTIVITY_INTERVAL = timedelta(seconds=60)


def hash_secret(secret: str) -> str:
    """Tokens carry 256 random bits, so a plain SHA-256 is enough to keep them unguessable."""
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenService:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports

    async def issue(self, user: User, name: str, actor: Actor = SYSTEM) -> tuple[ApiToken, str]:
        """A new token acting as `user`; the secret is returned once and never stored (the
        CLI's, as the system; `create` for the API)."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(
            id=self.ports.ids.new_id(),
            account_id=user.account_id,
            name=check_user_name(name, "name"),
            marketing_access=user.marketing_access,
            secret_hash=hash_secret(secret),
            created_at=self.ports.clock.now(),
            user_id=user.id,
        )
        audit = self.ports.audit_entry(
            user.account_id, actor, "createApiToken", [token.id, user.id]
        )
        await self.ports.tokens.insert(token, audit)
        return token, secret

    async def create(self, caller: Caller, user_id: str, name: str) -> tuple[ApiToken, str]:
        """An ADMIN's new token for a user of the account (NOT_FOUND otherwise)."""
        check_admin(caller.role)
        check_id(user_id, "user_id")
        user = await self.ports.users.get(caller.account_id, user_id)
        if user is None:
            raise user_not_found(user_id, "user_id")
        if user.deactivated:
            raise refuse(
                ErrorCode.CONFLICT, "the user is deactivated: its tokens are refused", "user_id"
            )
        return await self.issue(user, name, caller.actor)

    async def revoke(self, caller: Caller, token_id: str) -> ApiToken:
        """P1: for good, and at once: the next request is 401, open sockets close."""
        check_admin(caller.role)
        check_id(token_id, "id")
        audit = self.ports.audit_entry(
            caller.account_id, caller.actor, "revokeApiToken", [token_id]
        )
        token = await self.ports.tokens.revoke(caller.account_id, token_id, audit)
        if token is None:
            raise refuse(ErrorCode.NOT_FOUND, "no token of the account has this id", "id")
        if token.user_id is None:  # stored before users: it gets its user, to show it
            user = await self._user_of(token)
            token = token if user is None else replace(token, user_id=user.id)
        await tell_access_changed(
            self.ports, caller.account_id, AccessChanged(caller.account_id, token_id=token.id)
        )
        return token

    async def authenticate(self, secret: str) -> Caller | None:
        """The caller the secret stands for now; None for an unknown or revoked token or a
        deactivated user."""
        if not secret.startswith(TOKEN_PREFIX):
            return None
        token = await self.ports.tokens.find_by_hash(hash_secret(secret))
        if token is None or token.revoked:
            return None
        user = await self._user_of(token)
        if user is None or user.deactivated:
            return None
        now = self.ports.clock.now()
        if token.last_used_at is None or token.last_used_at <= now - ACTIVITY_INTERVAL:
            await self.ports.tokens.touch(token.id, now, now - ACTIVITY_INTERVAL)
        return Caller(
            account_id=token.account_id,
            token_id=token.id,
            user_id=user.id,
            role=user.role,
            marketing_access=user.marketing_access,
            visibility=user.visibility,
            team_id=user.team_id,
            team_members=await self._team_members(user),
        )

    async def _team_members(self, user: User) -> frozenset[str]:
        """C9: a TEAM user sees its team's records; only such a user costs a read of them."""
        if user.visibility is not RecordVisibility.TEAM or user.team_id is None:
            return frozenset()
        return frozenset(await self.ports.users.member_ids(user.account_id, user.team_id))

    async def _user_of(self, token: ApiToken) -> User | None:
        if token.user_id is not None:
            return await self.ports.users.get(token.account_id, token.user_id)
        user = User(
            id=token.id,
            account_id=token.account_id,
            name=token.name,
            email=generated_email("token", token.id),
            role=Role.ADMIN,
            created_at=token.created_at,
            marketing_access=token.marketing_access,
        )
        try:
            await self.ports.users.insert(user)
        except DuplicateUser:  # another first request made it
            found = await self.ports.users.get(token.account_id, token.id)
            if found is None:
                return None
            user = found
        await self.ports.tokens.attach_user(token.id, user.id)
        return user

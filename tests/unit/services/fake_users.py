"""In-memory users, teams and tokens: the same promises as storage.users and storage.tokens,
over FakeData."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.users import Team, User, team_name_key, user_email_key
from marketing_contacts.services.paging import Page
from marketing_contacts.services.ports.changes import StaleWrite
from marketing_contacts.services.ports.tokens import ApiToken
from marketing_contacts.services.ports.users import (
    MAX_TEAM_MEMBERS,
    MAX_TEAMS,
    DuplicateTeam,
    DuplicateUser,
)
from tests.support.waiting import let_others_run
from tests.unit.services.fake_audit import record
from tests.unit.services.fake_paging import keyset_page, object_id

if TYPE_CHECKING:
    from tests.unit.services.fakes import FakeData


def _id(item: User | Team) -> str:
    return item.id


class FakeUserStore:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def _of(self, account_id: str) -> list[User]:
        return sorted((u for u in self.data.users.values() if u.account_id == account_id), key=_id)

    async def insert(self, user: User, audit: AuditEntry | None = None) -> None:
        await let_others_run()
        key = user_email_key(user.email)
        if user.id in self.data.users or any(
            user_email_key(u.email) == key for u in self._of(user.account_id)
        ):
            raise DuplicateUser(user.email)
        self.data.users[user.id] = user
        record(self.data, audit)

    async def get(self, account_id: str, user_id: str) -> User | None:
        await let_others_run()
        user = self.data.users.get(user_id)
        return user if user is not None and user.account_id == account_id else None

    async def get_many(self, account_id: str, user_ids: Sequence[str]) -> list[User]:
        await let_others_run()
        wanted = set(user_ids)
        return [u for u in self._of(account_id) if u.id in wanted]

    async def page(self, account_id: str, first: int, after: str | None) -> Page[User]:
        await let_others_run()
        return keyset_page(self._of(account_id), _id, object_id, "user", first, after)

    async def replace(self, before: User, after: User, audit: AuditEntry | None = None) -> None:
        await let_others_run()
        stored = self.data.users.get(before.id)
        if stored is None or stored.account_id != before.account_id:
            raise StaleWrite(before.id)
        if stored.revision != before.revision:
            raise StaleWrite(before.id)
        self.data.users[before.id] = replace(after, id=before.id, account_id=before.account_id)
        record(self.data, audit)

    async def count(self, account_id: str) -> int:
        await let_others_run()
        return len(self._of(account_id))

    async def count_active_admins(self, account_id: str) -> int:
        await let_others_run()
        return sum(u.active_admin for u in self._of(account_id))

    async def members(self, account_id: str, team_ids: Sequence[str]) -> dict[str, list[User]]:
        await let_others_run()
        users = self._of(account_id)
        return {
            team_id: [u for u in users if u.team_id == team_id][:MAX_TEAM_MEMBERS]
            for team_id in team_ids
        }

    async def member_ids(self, account_id: str, team_id: str) -> list[str]:
        await let_others_run()
        users = self._of(account_id)
        return [u.id for u in users if u.team_id == team_id][:MAX_TEAM_MEMBERS]


class FakeTeamStore:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    async def insert(self, team: Team, audit: AuditEntry | None = None) -> None:
        await let_others_run()
        key = team_name_key(team.name)
        if any(
            t.account_id == team.account_id and team_name_key(t.name) == key
            for t in self.data.teams.values()
        ):
            raise DuplicateTeam(team.name)
        self.data.teams[team.id] = team
        record(self.data, audit)

    async def get_many(self, account_id: str, team_ids: Sequence[str]) -> list[Team]:
        await let_others_run()
        wanted = set(team_ids)
        return [t for t in await self.all(account_id) if t.id in wanted]

    async def all(self, account_id: str) -> list[Team]:
        await let_others_run()
        teams = (t for t in self.data.teams.values() if t.account_id == account_id)
        return sorted(teams, key=_id)[:MAX_TEAMS]


class FakeTokenStore:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    async def insert(self, token: ApiToken, audit: AuditEntry | None = None) -> None:
        await let_others_run()
        if any(t.secret_hash == token.secret_hash for t in self.data.tokens.values()):
            raise ValueError("secret hash exists")
        self.data.tokens[token.id] = token
        record(self.data, audit)

    async def find_by_hash(self, secret_hash: str) -> ApiToken | None:
        await let_others_run()
        return next((t for t in self.data.tokens.values() if t.secret_hash == secret_hash), None)

    async def get(self, account_id: str, token_id: str) -> ApiToken | None:
        await let_others_run()
        token = self.data.tokens.get(token_id)
        return token if token is not None and token.account_id == account_id else None

    async def revoke(
        self, account_id: str, token_id: str, audit: AuditEntry | None = None
    ) -> ApiToken | None:
        token = await self.get(account_id, token_id)
        if token is None:
            return None
        self.data.tokens[token_id] = revoked = replace(token, revoked=True)
        record(self.data, audit)
        return revoked

    async def attach_user(self, token_id: str, user_id: str) -> None:
        await let_others_run()
        token = self.data.tokens.get(token_id)
        if token is not None and token.user_id is None:
            self.data.tokens[token_id] = replace(token, user_id=user_id)

    async def touch(self, token_id: str, now: datetime, unless_since: datetime) -> None:
        await let_others_run()
        token = self.data.tokens.get(token_id)
        if token is None:
            return
        if token.last_used_at is None or token.last_used_at <= unless_since:
            self.data.tokens[token_id] = replace(token, last_used_at=now)

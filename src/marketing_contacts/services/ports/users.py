"""Users and teams of an account (P1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.users import Team, User
from marketing_contacts.services.paging import Page

#: a team list (`teams`) and a team's members are read whole, up to this many
MAX_TEAMS = 1_000
MAX_TEAM_MEMBERS = 10_000


class DuplicateUser(Exception):
    """The email address (case-insensitively) or the id belongs to a user of the account."""


class DuplicateTeam(Exception):
    """A team of the account has that name (case-insensitively)."""


class UserStore(Protocol):
    async def insert(self, user: User, audit: AuditEntry | None = None) -> None:
        """DuplicateUser when the account has the address, or any user has the id (nothing
        written); the audit entry in the same transaction (as every write with one below)."""
        ...

    async def get(self, account_id: str, user_id: str) -> User | None: ...

    async def get_many(self, account_id: str, user_ids: Sequence[str]) -> list[User]:
        """The account's users among `user_ids`, in no order."""
        ...

    async def page(self, account_id: str, first: int, after: str | None) -> Page[User]:
        """Oldest first."""
        ...

    async def replace(self, before: User, after: User, audit: AuditEntry | None = None) -> None:
        """Write `after` over the stored user if it is still at `before.revision`, else
        StaleWrite and nothing written."""
        ...

    async def count(self, account_id: str) -> int: ...

    async def count_active_admins(self, account_id: str) -> int: ...

    async def members(self, account_id: str, team_ids: Sequence[str]) -> dict[str, list[User]]:
        """Each team's users (at most MAX_TEAM_MEMBERS each), oldest first; [] for a team
        without any."""
        ...

    async def member_ids(self, account_id: str, team_id: str) -> list[str]:
        """The ids of the team's users (at most MAX_TEAM_MEMBERS), oldest first: whose records
        a TEAM user sees (C9)."""
        ...


class TeamStore(Protocol):
    async def insert(self, team: Team, audit: AuditEntry | None = None) -> None:
        """DuplicateTeam when the account has a team of that name."""
        ...

    async def get_many(self, account_id: str, team_ids: Sequence[str]) -> list[Team]:
        """The account's teams among `team_ids`, in no order."""
        ...

    async def all(self, account_id: str) -> list[Team]:
        """The account's teams, oldest first, at most MAX_TEAMS."""
        ...

"""Users and teams of an account (P1): admins manage them; everyone reads who they are.

A change of a user that may take access away (role, marketing access, deactivation, anything
else alike) is told to every API process (`AccessChanged`), which re-checks that user's open
sockets at once; HTTP requests read the user afresh anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from marketing_contacts.domain.audit import SYSTEM, Actor
from marketing_contacts.domain.errors import ErrorCode, check_id, refuse
from marketing_contacts.domain.users import (
    RecordVisibility,
    Role,
    Team,
    User,
    UserEdit,
    check_admin,
    check_keeps_an_admin,
    check_user_email,
    check_user_name,
    edited,
    generated_email,
    team_not_found,
    user_not_found,
)
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.paging import Page, paged
from marketing_contacts.services.ports.events import AccessChanged
from marketing_contacts.services.ports.users import MAX_TEAMS, DuplicateTeam, DuplicateUser
from marketing_contacts.services.wiring import Ports

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UserDraft:
    name: str
    #: None: the service makes up an address (users the CLI creates without --email)
    email: str | None
    role: Role = Role.MEMBER
    team_id: str | None = None
    visibility: RecordVisibility = RecordVisibility.ALL
    marketing_access: bool = True


async def tell_access_changed(ports: Ports, account_id: str, change: AccessChanged) -> None:
    """Publish after the write; a broker that is away does not undo it (sockets re-check the
    token on their next operation anyway)."""
    try:
        await ports.events.publish(account_id, [change])
    except Exception:
        log.exception("telling the API processes of an access change in %s failed", account_id)


def duplicate_email() -> Exception:
    return refuse(ErrorCode.DUPLICATE, "a user of the account has this email address", "email")


class UserService:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports

    async def add(self, account_id: str, draft: UserDraft, actor: Actor = SYSTEM) -> User:
        """A new user of the account, whoever asks (the CLI, as the system; `create` for the
        API)."""
        name = check_user_name(draft.name, "name")
        email = None if draft.email is None else check_user_email(draft.email, "email")
        await self.ports.account(account_id)
        if draft.team_id is not None:
            await self._team(account_id, draft.team_id, "team_id")
        user_id = self.ports.ids.new_id()
        user = User(
            id=user_id,
            account_id=account_id,
            name=name,
            email=email or generated_email(draft.role.value.lower(), user_id),
            role=draft.role,
            created_at=self.ports.clock.now(),
            team_id=draft.team_id,
            visibility=draft.visibility,
            marketing_access=draft.marketing_access,
        )
        audit = self.ports.audit_entry(account_id, actor, "createUser", [user.id])
        try:
            await self.ports.users.insert(user, audit)
        except DuplicateUser as error:
            raise duplicate_email() from error
        return user

    async def first_admin(self, account_id: str, email: str | None = None) -> User:
        """The ADMIN a new account opens with (named Admin)."""
        return await self.add(account_id, UserDraft(name="Admin", email=email, role=Role.ADMIN))

    async def existing(self, account_id: str, user_id: str) -> User:
        """A user of the account (the CLI's --user); NOT_FOUND otherwise."""
        await self.ports.account(account_id)
        check_id(user_id, "user")
        user = await self.ports.users.get(account_id, user_id)
        if user is None:
            raise user_not_found(user_id, "user")
        return user

    async def create(self, caller: Caller, draft: UserDraft) -> User:
        check_admin(caller.role)
        if draft.email is None:
            raise refuse(ErrorCode.INVALID, "a user has an email address", "email")
        return await self.add(caller.account_id, draft, caller.actor)

    async def update(self, caller: Caller, user_id: str, edit: UserEdit) -> User:
        """Only an ADMIN changes users, their marketing access included (P2); the account
        keeps an active ADMIN (CONFLICT otherwise)."""
        check_admin(caller.role)
        check_id(user_id, "id")
        if edit.change_team and edit.team_id is not None:
            check_id(edit.team_id, "team_id")
            await self._team(caller.account_id, edit.team_id, "team_id")

        async def attempt() -> User:
            before = await self.ports.users.get(caller.account_id, user_id)
            if before is None:
                raise user_not_found(user_id, "id")
            after = edited(before, edit)
            stepping_down = before.active_admin and not after.active_admin
            if stepping_down:
                admins = await self.ports.users.count_active_admins(caller.account_id)
                check_keeps_an_admin(before, after, admins)
            audit = self.ports.audit_entry(caller.account_id, caller.actor, "updateUser", [user_id])
            await self.ports.users.replace(before, after, audit)
            if stepping_down:
                await self._keep_an_admin(before, after)
            return after

        user = await self.ports.retrying_on(caller.account_id, attempt)
        await tell_access_changed(
            self.ports, caller.account_id, AccessChanged(caller.account_id, user_id=user.id)
        )
        return user

    async def _keep_an_admin(self, before: User, after: User) -> None:
        """Two admins stepping down at once (in two processes) each counted the other: the
        count after the write decides, and the write is taken back when none is left. Whatever
        the interleaving, the last of the writes counts after both, so one admin stays."""
        if await self.ports.users.count_active_admins(before.account_id) > 0:
            return
        await self.ports.users.replace(after, replace(before, revision=after.revision + 1))
        check_keeps_an_admin(before, after, active_admins=0)

    async def me(self, caller: Caller) -> User:
        user = await self.ports.users.get(caller.account_id, caller.user_id)
        if user is None:  # the token was checked against the user a moment ago
            raise user_not_found(caller.user_id)
        return user

    async def get_many(self, caller: Caller, user_ids: Sequence[str]) -> dict[str, User]:
        """The account's users among the ids, by id (resolving a token's or a team's users)."""
        return {u.id: u for u in await self.ports.users.get_many(caller.account_id, user_ids)}

    async def page(self, caller: Caller, first: int, after: str | None) -> Page[User]:
        check_admin(caller.role)
        return await paged(first, after, self.ports.users.page(caller.account_id, first, after))

    async def count(self, caller: Caller) -> int:
        check_admin(caller.role)
        return await self.ports.users.count(caller.account_id)

    async def create_team(self, caller: Caller, name: str) -> Team:
        check_admin(caller.role)
        team = Team(
            id=self.ports.ids.new_id(),
            account_id=caller.account_id,
            name=check_user_name(name, "name"),
            created_at=self.ports.clock.now(),
        )
        if len(await self.ports.teams.all(caller.account_id)) >= MAX_TEAMS:
            raise refuse(ErrorCode.TOO_MANY, f"an account has at most {MAX_TEAMS} teams", "name")
        audit = self.ports.audit_entry(caller.account_id, caller.actor, "createTeam", [team.id])
        try:
            await self.ports.teams.insert(team, audit)
        except DuplicateTeam as error:
            raise refuse(
                ErrorCode.DUPLICATE, "a team of the account has this name", "name"
            ) from error
        return team

    async def teams(self, caller: Caller) -> list[Team]:
        check_admin(caller.role)
        return await self.ports.teams.all(caller.account_id)

    async def teams_by_id(self, caller: Caller, team_ids: Sequence[str]) -> dict[str, Team]:
        return {t.id: t for t in await self.ports.teams.get_many(caller.account_id, team_ids)}

    async def members(self, caller: Caller, team_ids: Sequence[str]) -> dict[str, list[User]]:
        """A user reads the members of a team they see: any team for an ADMIN, their own
        otherwise."""
        return await self.ports.users.members(caller.account_id, team_ids)

    async def _team(self, account_id: str, team_id: str, *field: str) -> Team:
        found = await self.ports.teams.get_many(account_id, [team_id])
        if not found:
            raise team_not_found(*field)
        return found[0]

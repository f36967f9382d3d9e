"""Users, teams and API tokens (P1): their types, queries and mutations.

Admins manage them; `me` is every caller's. The teams of a page of users, and the members of
the teams asked for, are read together (one DataLoader per root field), not one read per item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Annotated, Any, TypeVar, cast

import strawberry
from strawberry.dataloader import DataLoader

from marketing_contacts.domain.users import RecordVisibility, Role, UserEdit, kept
from marketing_contacts.domain.users import Team as DomainTeam
from marketing_contacts.domain.users import User as DomainUser
from marketing_contacts.schema.connections import After, Connection, First, connection, first_or
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.errors import UserError, attempt
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.ports.tokens import ApiToken as DomainApiToken
from marketing_contacts.services.registry import Services
from marketing_contacts.services.users import UserDraft

T = TypeVar("T")


def given(value: T | None) -> T | None:
    """An input field left out (UNSET) is None: it stays as it is."""
    return None if value is strawberry.UNSET else value


S = TypeVar("S")


def mirrored(cls: type[S], record: Any, loaders: Loaders) -> S:
    """The API's view of a record: each of its fields is the record's field of that name (an
    id as an ID), and the loaders it resolves the rest with."""
    build: Any = cls  # a strawberry type is a dataclass
    names = [f.name for f in fields(build) if f.init and f.name not in ("id", "loaders")]
    values = {name: getattr(record, name) for name in names}
    return cast(S, build(id=strawberry.ID(record.id), loaders=loaders, **values))


@dataclass
class Loaders:
    """The reads one root field's users, teams and tokens share."""

    services: Services
    caller: Caller
    _teams: DataLoader[str, DomainTeam | None] | None = field(default=None, repr=False)
    _members: DataLoader[str, list[DomainUser]] | None = field(default=None, repr=False)
    _users: DataLoader[str, DomainUser | None] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, info: Info) -> Loaders:
        return cls(info.context.services, info.context.caller)

    @classmethod
    def of_request(cls, info: Info) -> Loaders:
        """The request's own: the owners of a page of contacts are read together."""
        ctx = info.context
        if not isinstance(ctx.shared_loaders, Loaders):
            ctx.shared_loaders = cls.of(info)
        return ctx.shared_loaders

    @property
    def teams(self) -> DataLoader[str, DomainTeam | None]:
        if self._teams is None:
            self._teams = DataLoader(load_fn=self._load_teams)
        return self._teams

    @property
    def members(self) -> DataLoader[str, list[DomainUser]]:
        if self._members is None:
            self._members = DataLoader(load_fn=self._load_members)
        return self._members

    @property
    def users(self) -> DataLoader[str, DomainUser | None]:
        if self._users is None:
            self._users = DataLoader(load_fn=self._load_users)
        return self._users

    async def _load_teams(self, team_ids: Sequence[str]) -> list[DomainTeam | None]:
        found = await self.services.users.teams_by_id(self.caller, team_ids)
        return [found.get(team_id) for team_id in team_ids]

    async def _load_members(self, team_ids: Sequence[str]) -> list[list[DomainUser]]:
        found = await self.services.users.members(self.caller, team_ids)
        return [found.get(team_id, []) for team_id in team_ids]

    async def _load_users(self, user_ids: Sequence[str]) -> list[DomainUser | None]:
        found = await self.services.users.get_many(self.caller, user_ids)
        return [found.get(user_id) for user_id in user_ids]


@strawberry.type(description="A group of users; TEAM visibility sees the records of its members.")
class Team:
    id: strawberry.ID = strawberry.field(description="The team's id.")
    name: str = strawberry.field(description="The team's name, unique in the account.")
    loaders: strawberry.Private[Loaders]

    @strawberry.field(description="The team's users, oldest first.")
    async def members(self) -> list[User]:
        return [User.of(user, self.loaders) for user in await self.loaders.members.load(self.id)]

    @classmethod
    def of(cls, team: DomainTeam, loaders: Loaders) -> Team:
        return cls(id=strawberry.ID(team.id), name=team.name, loaders=loaders)


@strawberry.type(description="A user of the account; every API token acts as one (P1).")
class User:
    id: strawberry.ID = strawberry.field(description="The user's id.")
    name: str = strawberry.field(description="The user's name.")
    email: str = strawberry.field(description="The user's address, unique in the account.")
    role: Role = strawberry.field(description="What the user may do.")
    visibility: RecordVisibility = strawberry.field(description="Which records the user sees.")
    marketing_access: bool = strawberry.field(description="May set contacts MARKETING (S5, P2).")
    deactivated: bool = strawberry.field(
        description="A deactivated user's tokens are refused (HTTP 401, WebSocket 4403)."
    )
    created_at: datetime = strawberry.field(description="When the user was created.")
    team_id: strawberry.Private[str | None]
    loaders: strawberry.Private[Loaders]

    @strawberry.field(description="The user's team; null when the user is in none.")
    async def team(self) -> Team | None:
        if self.team_id is None:
            return None
        team = await self.loaders.teams.load(self.team_id)
        return None if team is None else Team.of(team, self.loaders)

    @classmethod
    def of(cls, user: DomainUser, loaders: Loaders) -> User:
        return mirrored(cls, user, loaders)


@strawberry.type(description="An API token: acts as its user; only a hash of its secret is kept.")
class ApiToken:
    id: strawberry.ID = strawberry.field(description="The token's id.")
    name: str = strawberry.field(description="Who or what uses the token.")
    created_at: datetime = strawberry.field(description="When the token was created.")
    last_used_at: datetime | None = strawberry.field(
        description="When a request last used the token, to the minute (written at most once a "
        "minute); null when none has."
    )
    revoked: bool = strawberry.field(
        description="A revoked token is refused for good (HTTP 401, WebSocket 4403)."
    )
    user_id: strawberry.Private[str]
    loaders: strawberry.Private[Loaders]

    @strawberry.field(description="The user the token acts as.")
    async def user(self) -> User:
        user = await self.loaders.users.load(self.user_id)
        assert user is not None, "a token's user is never deleted"
        return User.of(user, self.loaders)

    @classmethod
    def of(cls, token: DomainApiToken, loaders: Loaders) -> ApiToken:
        assert token.user_id is not None, "the service gives every token it hands out its user"
        return mirrored(cls, token, loaders)


@strawberry.input(description="A new user of the caller's account.")
class CreateUserInput:
    name: str = strawberry.field(description="1 to 200 characters once trimmed.")
    email: str = strawberry.field(
        description="A valid address, unique in the account whatever its case."
    )
    role: Role | None = strawberry.field(
        default=Role.MEMBER, description="What the user may do; null: MEMBER."
    )
    team_id: strawberry.ID | None = strawberry.field(
        default=None, description="A team of the account, or none."
    )
    visibility: RecordVisibility | None = strawberry.field(
        default=RecordVisibility.ALL, description="Which records the user sees; null: ALL."
    )
    marketing_access: bool | None = strawberry.field(
        default=True, description="May set contacts MARKETING (S5, P2); null: true."
    )

    def to_draft(self) -> UserDraft:
        """An explicit null is the field's default, as leaving it out is."""
        return UserDraft(
            name=self.name,
            email=self.email,
            role=kept(self.role, Role.MEMBER),
            team_id=None if self.team_id is None else str(self.team_id),
            visibility=kept(self.visibility, RecordVisibility.ALL),
            marketing_access=kept(self.marketing_access, True),
        )


@strawberry.input(description="The changes to a user; fields left out stay as they are.")
class UpdateUserInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 200 characters once trimmed."
    )
    role: Role | None = strawberry.field(
        default=strawberry.UNSET,
        description="The new role; the account's last active ADMIN keeps it (CONFLICT).",
    )
    team_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="A team of the account; null: no team."
    )
    visibility: RecordVisibility | None = strawberry.field(
        default=strawberry.UNSET, description="Which records the user sees."
    )
    marketing_access: bool | None = strawberry.field(
        default=strawberry.UNSET, description="May set contacts MARKETING (S5, P2)."
    )
    deactivated: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="True refuses the user's tokens at once, open sockets included; the "
        "account's last active ADMIN cannot be deactivated (CONFLICT).",
    )

    def to_edit(self) -> UserEdit:
        change_team = self.team_id is not strawberry.UNSET
        return UserEdit(
            name=given(self.name),
            role=given(self.role),
            change_team=change_team,
            team_id=str(self.team_id) if change_team and self.team_id is not None else None,
            visibility=given(self.visibility),
            marketing_access=given(self.marketing_access),
            deactivated=given(self.deactivated),
        )


@strawberry.type(description="The result of createUser or updateUser.")
class UserPayload:
    user: User | None = strawberry.field(
        description="The user after the change; null when userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing changed; empty on success."
    )


@strawberry.type(description="The result of createTeam.")
class TeamPayload:
    team: Team | None = strawberry.field(
        description="The new team; null when userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was created; empty on success."
    )


@strawberry.type(description="The result of createApiToken or revokeApiToken.")
class ApiTokenPayload:
    token: ApiToken | None = strawberry.field(
        description="The token after the change; null when userErrors is not empty."
    )
    secret: str | None = strawberry.field(
        description="The token's secret, shown once, when it is created."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing changed; empty on success."
    )


def _user_payload(info: Info, result: DomainUser | list[UserError]) -> UserPayload:
    if isinstance(result, list):
        return UserPayload(user=None, user_errors=result)
    return UserPayload(user=User.of(result, Loaders.of(info)), user_errors=[])


UserId = Annotated[strawberry.ID, strawberry.argument(description="A user of the account.")]


@strawberry.type
class UserQueries:
    @strawberry.field(description="The user of the caller's token.")
    async def me(self, info: Info) -> User:
        ctx = info.context
        return User.of(await ctx.services.users.me(ctx.caller), Loaders.of(info))

    @strawberry.field(description="The account's users, oldest first; ADMIN only (FORBIDDEN).")
    async def users(self, info: Info, first: First = 50, after: After = None) -> Connection[User]:
        ctx = info.context
        page = await ctx.services.users.page(ctx.caller, first_or(first, 50), after)
        loaders = Loaders.of(info)
        return connection(
            page, lambda user: User.of(user, loaders), lambda: ctx.services.users.count(ctx.caller)
        )

    @strawberry.field(description="The account's teams, oldest first; ADMIN only (FORBIDDEN).")
    async def teams(self, info: Info) -> list[Team]:
        ctx = info.context
        loaders = Loaders.of(info)
        return [Team.of(team, loaders) for team in await ctx.services.users.teams(ctx.caller)]


@strawberry.type
class UserMutations:
    @strawberry.mutation(description="A new user of the account; ADMIN only.")
    async def create_user(
        self,
        info: Info,
        input: Annotated[CreateUserInput, strawberry.argument(description="The new user.")],
    ) -> UserPayload:
        ctx = info.context
        result = await attempt(info, ctx.services.users.create(ctx.caller, input.to_draft()))
        return _user_payload(info, result)

    @strawberry.mutation(
        description="Changes a user of the account; ADMIN only (marketing access included). "
        "Deactivating or demoting the account's last active ADMIN is CONFLICT."
    )
    async def update_user(
        self,
        info: Info,
        id: UserId,
        input: Annotated[UpdateUserInput, strawberry.argument(description="The changes.")],
    ) -> UserPayload:
        ctx = info.context
        result = await attempt(
            info, ctx.services.users.update(ctx.caller, str(id), input.to_edit())
        )
        return _user_payload(info, result)

    @strawberry.mutation(description="A new team of the account; ADMIN only.")
    async def create_team(
        self,
        info: Info,
        name: Annotated[
            str,
            strawberry.argument(
                description="1 to 200 characters once trimmed, unique in the account whatever "
                "its case."
            ),
        ],
    ) -> TeamPayload:
        ctx = info.context
        result = await attempt(info, ctx.services.users.create_team(ctx.caller, name))
        if isinstance(result, list):
            return TeamPayload(team=None, user_errors=result)
        return TeamPayload(team=Team.of(result, Loaders.of(info)), user_errors=[])

    @strawberry.mutation(
        description="A new token acting as a user of the account; the secret is in the payload, "
        "once. ADMIN only."
    )
    async def create_api_token(
        self,
        info: Info,
        user_id: UserId,
        name: Annotated[str, strawberry.argument(description="Who or what uses the token.")],
    ) -> ApiTokenPayload:
        ctx = info.context
        result = await attempt(info, ctx.services.tokens.create(ctx.caller, str(user_id), name))
        if isinstance(result, list):
            return ApiTokenPayload(token=None, secret=None, user_errors=result)
        token, secret = result
        return ApiTokenPayload(
            token=ApiToken.of(token, Loaders.of(info)), secret=secret, user_errors=[]
        )

    @strawberry.mutation(
        description="Revokes a token of the account for good: its next request gets HTTP 401 "
        "and its open sockets close with 4403. ADMIN only."
    )
    async def revoke_api_token(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The token's id.")],
    ) -> ApiTokenPayload:
        ctx = info.context
        result = await attempt(info, ctx.services.tokens.revoke(ctx.caller, str(id)))
        if isinstance(result, list):
            return ApiTokenPayload(token=None, secret=None, user_errors=result)
        return ApiTokenPayload(
            token=ApiToken.of(result, Loaders.of(info)), secret=None, user_errors=[]
        )

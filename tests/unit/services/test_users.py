"""UserService and TokenService over the fakes: P1 roles, tokens acting as their users, P2
marketing access as the user's, revocation and deactivation, tokens at rest and in time."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.statuses import MarketingStatus
from marketing_contacts.domain.users import RecordVisibility, Role, User, UserEdit
from marketing_contacts.services.accounts import AccountOpening, AccountSettings
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.services.ports.events import AccessChanged
from marketing_contacts.services.ports.tokens import ApiToken
from marketing_contacts.services.registry import Services
from marketing_contacts.services.tokens import ACTIVITY_INTERVAL, hash_secret
from marketing_contacts.services.users import UserDraft
from tests.unit.services.fakes import FakeWorld, codes_and_fields, fake_services, open_account


async def opened() -> tuple[Services, FakeWorld, Caller]:
    services, world = fake_services()
    return services, world, await open_account(services)


async def caller_of(services: Services, user: User) -> Caller:
    _, secret = await services.tokens.issue(user, "tests")
    caller = await services.tokens.authenticate(secret)
    assert caller is not None
    return caller


async def member(
    services: Services, admin: Caller, email: str = "m@example.com", **draft: object
) -> User:
    made = UserDraft(name="Member", email=email, **draft)  # type: ignore[arg-type]
    return await services.users.create(admin, made)


async def refused(call: object) -> list[tuple[ErrorCode, tuple[str, ...]]]:
    with pytest.raises(DomainError) as error:
        await call  # type: ignore[misc]
    return codes_and_fields(error.value)


# ---------------------------------------------------------------- P1 users and roles


async def test_a_token_acts_as_its_user() -> None:
    services, _, admin = await opened()
    user = await member(services, admin, role=Role.READ_ONLY, visibility=RecordVisibility.OWNED)
    caller = await caller_of(services, user)
    assert caller == Caller(
        admin.account_id,
        caller.token_id,
        user.id,
        Role.READ_ONLY,
        marketing_access=True,
        visibility=RecordVisibility.OWNED,
    )
    assert (await services.users.me(caller)).id == user.id


async def test_only_admins_manage_users_teams_and_tokens() -> None:
    services, _, admin = await opened()
    user = await member(services, admin)
    for role in (Role.MEMBER, Role.READ_ONLY):
        other = await member(services, admin, f"{role.value}@example.com", role=role)
        caller = await caller_of(services, other)
        forbidden = [(ErrorCode.FORBIDDEN, ())]
        assert (
            await refused(services.users.create(caller, UserDraft("X", "x@example.com")))
            == forbidden
        )
        assert (
            await refused(services.users.update(caller, user.id, UserEdit(name="Y"))) == forbidden
        )
        assert await refused(services.users.page(caller, 10, None)) == forbidden
        assert await refused(services.users.teams(caller)) == forbidden
        assert await refused(services.users.create_team(caller, "Sales")) == forbidden
        assert await refused(services.tokens.create(caller, user.id, "ci")) == forbidden
        assert await refused(services.tokens.revoke(caller, caller.token_id)) == forbidden
        assert (
            await refused(services.accounts.update_settings(caller, AccountSettings(name="Mine")))
            == forbidden
        )


async def test_emails_are_unique_per_account_whatever_their_case() -> None:
    services, _, admin = await opened()
    await member(services, admin, "Sam@example.com")
    assert await refused(member(services, admin, "sam@EXAMPLE.com")) == [
        (ErrorCode.DUPLICATE, ("email",))
    ]
    other = await open_account(services, AccountOpening(name="Other"))
    await member(services, other, "sam@example.com")  # another account's users are its own


async def test_users_and_teams_of_another_account_are_not_found() -> None:
    services, _, admin = await opened()
    other = await open_account(services, AccountOpening(name="Other"))
    theirs = await member(services, other)
    team = await services.users.create_team(other, "Sales")
    assert await refused(services.users.update(admin, theirs.id, UserEdit(name="X"))) == [
        (ErrorCode.NOT_FOUND, ("id",))
    ]
    assert await refused(services.tokens.create(admin, theirs.id, "ci")) == [
        (ErrorCode.NOT_FOUND, ("user_id",))
    ]
    draft = UserDraft("X", "x@example.com", team_id=team.id)
    assert await refused(services.users.create(admin, draft)) == [
        (ErrorCode.NOT_FOUND, ("team_id",))
    ]
    their_token = await caller_of(services, theirs)
    assert await refused(services.tokens.revoke(admin, their_token.token_id)) == [
        (ErrorCode.NOT_FOUND, ("id",))
    ]
    assert [u.id for u in (await services.users.page(admin, 50, None)).items] == [admin.user_id]
    assert await services.users.teams(admin) == []


async def test_teams_have_unique_names_and_members() -> None:
    services, _, admin = await opened()
    team = await services.users.create_team(admin, " Sales ")
    assert team.name == "Sales"
    assert await refused(services.users.create_team(admin, "SALES")) == [
        (ErrorCode.DUPLICATE, ("name",))
    ]
    user = await member(services, admin, team_id=team.id)
    moved = await services.users.update(
        admin, admin.user_id, UserEdit(change_team=True, team_id=team.id)
    )
    assert moved.team_id == team.id
    members = await services.users.members(admin, [team.id])
    assert [u.id for u in members[team.id]] == [admin.user_id, user.id]
    out = await services.users.update(admin, user.id, UserEdit(change_team=True, team_id=None))
    assert out.team_id is None


async def test_the_last_active_admin_is_kept() -> None:
    """P1: CONFLICT for demoting or deactivating the account's last active ADMIN."""
    services, world, admin = await opened()
    before = world.snapshot()
    assert await refused(
        services.users.update(admin, admin.user_id, UserEdit(role=Role.MEMBER))
    ) == [(ErrorCode.CONFLICT, ("role",))]
    assert await refused(
        services.users.update(admin, admin.user_id, UserEdit(deactivated=True))
    ) == [(ErrorCode.CONFLICT, ("deactivated",))]
    assert world.snapshot() == before
    second = await member(services, admin, role=Role.ADMIN)
    demoted = await services.users.update(admin, admin.user_id, UserEdit(role=Role.MEMBER))
    assert demoted.role is Role.MEMBER
    successor = await caller_of(services, second)
    assert await refused(
        services.users.update(successor, second.id, UserEdit(deactivated=True))
    ) == [(ErrorCode.CONFLICT, ("deactivated",))]


async def test_two_admins_stepping_down_at_once_leave_one() -> None:
    """P1 across processes: each counts the other as the admin that stays; the write that
    finds none left is taken back (CONFLICT), so the account keeps an active ADMIN."""
    services, world, admin = await opened()
    other = await member(services, admin, role=Role.ADMIN)
    elsewhere = world.another_process()
    results = await asyncio.gather(
        services.users.update(admin, admin.user_id, UserEdit(role=Role.MEMBER)),
        elsewhere.users.update(admin, other.id, UserEdit(deactivated=True)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, DomainError) for r in results) >= 1, results
    assert await world.users.count_active_admins(admin.account_id) >= 1
    for result in results:
        if isinstance(result, DomainError):
            assert codes_and_fields(result)[0][0] is ErrorCode.CONFLICT


# ---------------------------------------------------------------- P2 marketing access


async def test_marketing_access_is_the_users_and_an_admin_changes_it() -> None:
    """P2, S5: the check reads the user's permission as it is at the request."""
    services, _, admin = await opened()
    user = await member(services, admin)
    _, secret = await services.tokens.issue(user, "ci")
    draft = ContactDraft(marketing_status=MarketingStatus.MARKETING)
    caller = await services.tokens.authenticate(secret)
    assert caller is not None
    await services.contacts.create(caller, draft)
    await services.users.update(admin, user.id, UserEdit(marketing_access=False))
    caller = await services.tokens.authenticate(secret)
    assert caller is not None and not caller.marketing_access
    assert await refused(services.contacts.create(caller, draft)) == [
        (ErrorCode.FORBIDDEN, ("marketing_status",))
    ]
    settings = AccountSettings(creation_defaults=())
    await services.accounts.update_settings(admin, settings)


# ---------------------------------------------------------------- revocation and deactivation


async def test_a_revoked_token_is_refused_and_told_of() -> None:
    services, world, admin = await opened()
    user = await member(services, admin)
    token, secret = await services.tokens.create(admin, user.id, "ci")
    assert await services.tokens.authenticate(secret) is not None
    revoked = await services.tokens.revoke(admin, token.id)
    assert revoked.revoked
    assert await services.tokens.authenticate(secret) is None
    told = [e for p in world.published_to(admin.account_id) for e in p.events]
    assert AccessChanged(admin.account_id, token_id=token.id) in told


async def test_a_deactivated_users_tokens_are_refused_and_told_of() -> None:
    services, world, admin = await opened()
    user = await member(services, admin)
    secrets = [(await services.tokens.issue(user, name))[1] for name in ("a", "b")]
    await services.users.update(admin, user.id, UserEdit(deactivated=True))
    assert [await services.tokens.authenticate(s) for s in secrets] == [None, None]
    told = [e for p in world.published_to(admin.account_id) for e in p.events]
    assert AccessChanged(admin.account_id, user_id=user.id) in told
    assert await refused(services.tokens.create(admin, user.id, "c")) == [
        (ErrorCode.CONFLICT, ("user_id",))
    ]
    await services.users.update(admin, user.id, UserEdit(deactivated=False))
    assert all([await services.tokens.authenticate(s) for s in secrets])


async def test_a_change_is_kept_when_the_broker_is_away() -> None:
    services, world, admin = await opened()
    user = await member(services, admin)
    world.events.failure = ConnectionError("redis is down")
    await services.users.update(admin, user.id, UserEdit(deactivated=True))
    assert world.data.users[user.id].deactivated


# ---------------------------------------------------------------- tokens at rest and in time


async def test_secrets_are_stored_only_as_hashes_and_found_by_them() -> None:
    """Item 8: no secret at rest; a token is looked up by the hash of the secret presented, so
    no comparison of secrets can leak their characters through time."""
    services, world, admin = await opened()
    token, secret = await services.tokens.create(admin, admin.user_id, "ci")
    assert secret not in repr(world.data)
    assert world.data.tokens[token.id].secret_hash == hash_secret(secret)
    assert await services.tokens.authenticate(secret[:-1]) is None
    assert await services.tokens.authenticate(hash_secret(secret)) is None


async def test_last_used_is_written_at_most_once_a_minute() -> None:
    services, world, admin = await opened()
    token, secret = await services.tokens.create(admin, admin.user_id, "ci")
    assert world.data.tokens[token.id].last_used_at is None
    await services.tokens.authenticate(secret)
    first = world.clock.now()
    assert world.data.tokens[token.id].last_used_at == first
    world.clock.advance(seconds=ACTIVITY_INTERVAL.total_seconds() - 1)
    await services.tokens.authenticate(secret)
    assert world.data.tokens[token.id].last_used_at == first
    world.clock.advance(seconds=1)
    await services.tokens.authenticate(secret)
    assert world.data.tokens[token.id].last_used_at == first + ACTIVITY_INTERVAL


async def test_a_token_stored_before_users_gets_an_admin_user_at_first_use() -> None:
    """Tokens made before users could do everything: each becomes an ADMIN of its own, with
    its marketing access, made once even by two first requests at once."""
    services, world, admin = await opened()
    secret = "mc_old-secret"
    old = ApiToken(
        id=world.data.new_id(),
        account_id=admin.account_id,
        name="owner",
        marketing_access=False,
        secret_hash=hash_secret(secret),
        created_at=world.clock.now() - timedelta(days=30),
    )
    await world.tokens.insert(old)
    first, second = [await services.tokens.authenticate(secret) for _ in range(2)]
    assert first is not None and first == second
    assert (first.user_id, first.role, first.marketing_access) == (old.id, Role.ADMIN, False)
    assert world.data.tokens[old.id].user_id == old.id
    assert world.data.users[old.id].name == "owner"
    # a second process racing the first use finds the user the other made
    world.data.tokens[old.id] = replace(world.data.tokens[old.id], user_id=None)
    again = await services.tokens.authenticate(secret)
    assert again is not None and again.user_id == old.id

"""UserStore and TeamStore (P1): users and teams read back only in their account; emails and
team names unique per account whatever their case; pages oldest first; writes conditional on
the revision read; active admins counted; members (and their ids) read per team."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.users import Role, Team, User
from marketing_contacts.services.paging import Page
from marketing_contacts.services.ports.changes import StaleWrite
from marketing_contacts.services.ports.users import DuplicateTeam, DuplicateUser
from marketing_contacts.services.wiring import Ports
from tests.contract.records import all_pages, items_of, now, stored_account


async def stored_user(ports: Ports, account: Account, email: str, **fields: Any) -> User:
    values: dict[str, Any] = {"name": "Ada", "role": Role.MEMBER, **fields}
    user = User(
        id=ports.ids.new_id(),
        account_id=account.id,
        email=email,
        created_at=now(ports),
        **values,
    )
    await ports.users.insert(user)
    return user


async def stored_team(ports: Ports, account: Account, name: str) -> Team:
    team = Team(ports.ids.new_id(), account.id, name, now(ports))
    await ports.teams.insert(team)
    return team


async def test_a_user_reads_back_only_in_its_account(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    user = await stored_user(ports, account, "ada@example.com", marketing_access=False)
    assert await ports.users.get(account.id, user.id) == user
    assert await ports.users.get(other.id, user.id) is None
    assert await ports.users.get(account.id, ports.ids.new_id()) is None
    assert await ports.users.get(account.id, "not-an-id") is None
    assert await ports.users.get_many(account.id, [user.id, "not-an-id", user.id]) == [user]
    assert await ports.users.get_many(other.id, [user.id]) == []


async def test_an_email_is_one_users_per_account_whatever_its_case(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    await stored_user(ports, account, "Ada@example.com")
    with pytest.raises(DuplicateUser):
        await stored_user(ports, account, "ada@EXAMPLE.com")
    await stored_user(ports, other, "ada@example.com")
    assert await ports.users.count(account.id) == 1


async def test_users_page_oldest_first(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    made = [await stored_user(ports, account, f"u{i}@example.com") for i in range(5)]
    await stored_user(ports, other, "x@example.com")

    async def read(first: int, after: str | None) -> Page[User]:
        return await ports.users.page(account.id, first, after)

    pages = await all_pages(read, 2)
    assert items_of(pages) == made
    assert [page.has_next_page for page in pages] == [True, True, False]
    assert await ports.users.count(account.id) == 5


async def test_a_change_holds_only_over_the_revision_read(ports: Ports) -> None:
    account = await stored_account(ports)
    user = await stored_user(ports, account, "ada@example.com")
    renamed = replace(user, name="Grace", role=Role.ADMIN, revision=1)
    await ports.users.replace(user, renamed)
    assert await ports.users.get(account.id, user.id) == renamed
    with pytest.raises(StaleWrite):
        await ports.users.replace(user, replace(user, name="Lost", revision=1))
    assert await ports.users.get(account.id, user.id) == renamed


async def test_active_admins_are_counted(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    await stored_user(ports, account, "a@example.com", role=Role.ADMIN)
    await stored_user(ports, account, "b@example.com", role=Role.ADMIN, deactivated=True)
    await stored_user(ports, account, "c@example.com")
    await stored_user(ports, other, "d@example.com", role=Role.ADMIN)
    assert await ports.users.count_active_admins(account.id) == 1


async def test_members_are_read_per_team(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    sales, support = [await stored_team(ports, account, n) for n in ("Sales", "Support")]
    theirs = await stored_team(ports, other, "Sales")
    first = await stored_user(ports, account, "a@example.com", team_id=sales.id)
    second = await stored_user(ports, account, "b@example.com", team_id=sales.id)
    await stored_user(ports, account, "c@example.com")
    await stored_user(ports, other, "d@example.com", team_id=theirs.id)
    assert await ports.users.members(account.id, [sales.id, support.id, theirs.id]) == {
        sales.id: [first, second],
        support.id: [],
        theirs.id: [],
    }
    # C9: whose records a TEAM user sees, as ids only
    assert await ports.users.member_ids(account.id, sales.id) == [first.id, second.id]
    assert await ports.users.member_ids(account.id, support.id) == []
    assert await ports.users.member_ids(account.id, theirs.id) == []
    assert await ports.users.member_ids(account.id, "not-an-id") == []


async def test_a_team_name_is_one_teams_per_account_whatever_its_case(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    sales = await stored_team(ports, account, "Sales")
    with pytest.raises(DuplicateTeam):
        await stored_team(ports, account, "SALES")
    theirs = await stored_team(ports, other, "sales")
    support = await stored_team(ports, account, "Support")
    assert await ports.teams.all(account.id) == [sales, support]
    assert await ports.teams.get_many(account.id, [support.id, theirs.id, "nope"]) == [support]

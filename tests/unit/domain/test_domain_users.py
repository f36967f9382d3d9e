"""P1: the rules of users and roles, without any store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.users import (
    MAX_NAME_LENGTH,
    RecordVisibility,
    Role,
    User,
    UserEdit,
    check_admin,
    check_keeps_an_admin,
    check_may_write,
    check_user_email,
    check_user_name,
    edited,
    generated_email,
    team_name_key,
    user_email_key,
)

NOW = datetime(2025, 1, 15, tzinfo=UTC)


def user(role: Role = Role.ADMIN, **fields: Any) -> User:
    base = User(
        id="u1", account_id="a1", name="Ada", email="ada@example.com", role=role, created_at=NOW
    )
    return replace(base, **fields)


def refusal(error: DomainError) -> list[tuple[ErrorCode, tuple[str, ...]]]:
    return [(e.code, e.field) for e in error.errors]


def test_a_new_user_sees_everything_and_may_make_contacts_marketing() -> None:
    """P2: marketing access is on by default; C9: visibility ALL."""
    fresh = user(Role.MEMBER)
    assert fresh.marketing_access and fresh.visibility is RecordVisibility.ALL
    assert not fresh.deactivated and not fresh.active_admin


def test_only_an_admin_administers() -> None:
    check_admin(Role.ADMIN)
    for role in (Role.MEMBER, Role.READ_ONLY):
        with pytest.raises(DomainError) as refused:
            check_admin(role)
        assert refusal(refused.value) == [(ErrorCode.FORBIDDEN, ())]


def test_read_only_changes_nothing() -> None:
    check_may_write(Role.ADMIN)
    check_may_write(Role.MEMBER)
    with pytest.raises(DomainError) as refused:
        check_may_write(Role.READ_ONLY)
    assert refusal(refused.value) == [(ErrorCode.FORBIDDEN, ())]


@pytest.mark.parametrize("name", ["", "   ", "x" * (MAX_NAME_LENGTH + 1), "Ada\nLovelace"])
def test_names_are_short_printable_text(name: str) -> None:
    with pytest.raises(DomainError) as refused:
        check_user_name(name, "name")
    assert refusal(refused.value) == [(ErrorCode.INVALID, ("name",))]


def test_names_are_trimmed() -> None:
    assert check_user_name("  Ada ", "name") == "Ada"


def test_emails_are_valid_and_unique_whatever_their_case() -> None:
    assert check_user_email(" Ada@Example.COM ", "email") == "Ada@example.com"
    assert user_email_key("Ada@example.com") == user_email_key("ada@EXAMPLE.com")
    for bad in ("", "ada", "ada@example"):
        with pytest.raises(DomainError) as refused:
            check_user_email(bad, "email")
        assert refusal(refused.value) == [(ErrorCode.INVALID, ("email",))]


def test_team_names_are_unique_whatever_their_case() -> None:
    assert team_name_key("Sales EMEA") == team_name_key("sales emea")


def test_generated_addresses_hold_the_id_and_are_no_mailbox() -> None:
    assert generated_email("admin", "65a1") == "admin-65a1@users.invalid"


def test_an_edit_changes_only_what_it_sets() -> None:
    before = user(Role.MEMBER, team_id="t1")
    assert edited(before, UserEdit()) == replace(before, revision=1)
    after = edited(
        before,
        UserEdit(
            name=" Grace ",
            role=Role.READ_ONLY,
            change_team=True,
            team_id=None,
            visibility=RecordVisibility.OWNED,
            marketing_access=False,
            deactivated=True,
        ),
    )
    assert (after.name, after.role, after.team_id, after.visibility) == (
        "Grace",
        Role.READ_ONLY,
        None,
        RecordVisibility.OWNED,
    )
    assert not after.marketing_access and after.deactivated and after.revision == 1


@pytest.mark.parametrize(
    ("edit", "field"),
    [(UserEdit(role=Role.MEMBER), "role"), (UserEdit(deactivated=True), "deactivated")],
)
def test_the_last_active_admin_stays_one(edit: UserEdit, field: str) -> None:
    """P1: CONFLICT, at the field that would leave the account without an active ADMIN."""
    before = user()
    with pytest.raises(DomainError) as refused:
        check_keeps_an_admin(before, edited(before, edit), active_admins=1)
    assert refusal(refused.value) == [(ErrorCode.CONFLICT, (field,))]
    check_keeps_an_admin(before, edited(before, edit), active_admins=2)


def test_changes_that_keep_an_admin_pass() -> None:
    admin = user()
    check_keeps_an_admin(admin, edited(admin, UserEdit(name="A")), active_admins=1)
    member = user(Role.MEMBER)
    check_keeps_an_admin(member, edited(member, UserEdit(deactivated=True)), active_admins=1)

"""Users, teams and roles of an account (P1, P2, C9).

Every API token belongs to one user and acts as that user: its role decides what it may do,
its marketing access whether it may make contacts marketing (S5), its visibility which records
it sees (stored and served here; P3 enforces it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from marketing_contacts.domain.contacts import normalize_email
from marketing_contacts.domain.errors import (
    DomainError,
    ErrorCode,
    check_no_controls,
    refuse,
)

MAX_NAME_LENGTH = 200
#: where the addresses the service makes up for users it creates itself live (RFC 2606: a
#: domain that never receives mail); a client's address is validated as a contact's is (C8)
GENERATED_EMAIL_DOMAIN = "users.invalid"
T = TypeVar("T")


class Role(StrEnum):
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"
    READ_ONLY = "READ_ONLY"


class RecordVisibility(StrEnum):
    ALL = "ALL"
    TEAM = "TEAM"
    OWNED = "OWNED"


@dataclass(frozen=True)
class Team:
    id: str
    account_id: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class User:
    id: str
    account_id: str
    name: str
    email: str
    role: Role
    created_at: datetime
    team_id: str | None = None
    visibility: RecordVisibility = RecordVisibility.ALL
    #: P2, S5: may set contacts MARKETING; on by default
    marketing_access: bool = True
    deactivated: bool = False
    #: bumped by every change; changes are written only over the revision they read
    revision: int = 0

    @property
    def active_admin(self) -> bool:
        return self.role is Role.ADMIN and not self.deactivated


@dataclass(frozen=True)
class UserEdit:
    """Only the fields that are set change; `team_id` is set to change it (None: no team)."""

    name: str | None = None
    role: Role | None = None
    change_team: bool = False
    team_id: str | None = None
    visibility: RecordVisibility | None = None
    marketing_access: bool | None = None
    deactivated: bool | None = None


def check_user_name(name: str, *field: str) -> str:
    """A user's or a team's name, trimmed: 1 to MAX_NAME_LENGTH characters, no control
    character."""
    trimmed = name.strip()
    if not 1 <= len(trimmed) <= MAX_NAME_LENGTH:
        raise refuse(ErrorCode.INVALID, f"a name has 1 to {MAX_NAME_LENGTH} characters", *field)
    check_no_controls(trimmed, *field)
    return trimmed


def check_user_email(raw: str, *field: str) -> str:
    """A user's address: valid as a contact's is (C8); required."""
    email = normalize_email(raw, *field)
    if email is None:
        raise refuse(ErrorCode.INVALID, "a user has an email address", *field)
    return email


def user_email_key(email: str) -> str:
    """Emails are unique per account, case-insensitively."""
    return email.lower()


def team_name_key(name: str) -> str:
    """Team names are unique per account, case-insensitively."""
    return name.casefold()


def generated_email(label: str, user_id: str) -> str:
    """The address of a user the service creates without one (the CLI's, a token's made before
    users): unique, since it holds the user's id, and clearly not a mailbox."""
    return f"{label}-{user_id}@{GENERATED_EMAIL_DOMAIN}"


def check_admin(role: Role) -> None:
    """P1: users, teams, tokens and the account's settings are for admins only."""
    if role is not Role.ADMIN:
        raise refuse(ErrorCode.FORBIDDEN, "only an ADMIN may do this")


def check_may_write(role: Role) -> None:
    """P1: a READ_ONLY user reads; every mutation is FORBIDDEN."""
    if role is Role.READ_ONLY:
        raise refuse(ErrorCode.FORBIDDEN, "a READ_ONLY user may not change anything")


def kept(change: T | None, current: T) -> T:
    """An edit's value, or the current one where the edit leaves it out."""
    return current if change is None else change


def edited(user: User, edit: UserEdit) -> User:
    """The user with the edit applied (names checked), its revision bumped."""
    return replace(
        user,
        name=user.name if edit.name is None else check_user_name(edit.name, "name"),
        role=kept(edit.role, user.role),
        team_id=edit.team_id if edit.change_team else user.team_id,
        visibility=kept(edit.visibility, user.visibility),
        marketing_access=kept(edit.marketing_access, user.marketing_access),
        deactivated=kept(edit.deactivated, user.deactivated),
        revision=user.revision + 1,
    )


def check_keeps_an_admin(before: User, after: User, active_admins: int) -> None:
    """P1: an account keeps at least one active ADMIN. Demoting or deactivating the last one
    is CONFLICT (the request is well formed; the account's state refuses it), at the field
    that would do it."""
    if not before.active_admin or after.active_admin or active_admins > 1:
        return
    field = "deactivated" if after.deactivated and not before.deactivated else "role"
    raise refuse(
        ErrorCode.CONFLICT,
        "the account's last active ADMIN cannot be demoted or deactivated; make another "
        "user ADMIN first",
        field,
    )


def user_not_found(user_id: str, *field: str) -> DomainError:
    return refuse(ErrorCode.NOT_FOUND, "no user of the account has this id", *field)


def team_not_found(*field: str) -> DomainError:
    return refuse(ErrorCode.NOT_FOUND, "no team of the account has this id", *field)

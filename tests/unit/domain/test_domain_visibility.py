"""C9, P3: what each visibility sees, as the one condition every read of records gets."""

from __future__ import annotations

from marketing_contacts.domain.conditions import ContactField, OneOf
from marketing_contacts.domain.users import RecordVisibility
from marketing_contacts.domain.visibility import Scope, scope_of


def test_c9_all_sees_the_account_whole_and_adds_no_condition() -> None:
    scope = scope_of("acc", "u1", RecordVisibility.ALL, ["u2"])
    assert scope == Scope("acc") and scope.whole_account
    assert scope.conditions() == ()
    assert scope.sees(None) and scope.sees("anyone")


def test_c9_owned_sees_the_users_own_records_only() -> None:
    scope = scope_of("acc", "u1", RecordVisibility.OWNED, ["u2"])
    assert scope.owners == frozenset({"u1"}) and not scope.whole_account
    assert scope.sees("u1") and not scope.sees("u2")
    assert not scope.sees(None)  # a record nobody owns is nobody's own
    assert scope.conditions() == (OneOf(ContactField.OWNER_ID, frozenset({"u1"})),)


def test_c9_team_sees_the_users_and_its_teams_records() -> None:
    scope = scope_of("acc", "u1", RecordVisibility.TEAM, ["u2", "u3"])
    assert scope.owners == frozenset({"u1", "u2", "u3"})
    assert not scope.sees("u4") and not scope.sees(None)
    alone = scope_of("acc", "u1", RecordVisibility.TEAM, [])  # a TEAM user in no team
    assert alone.owners == frozenset({"u1"})

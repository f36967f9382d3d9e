"""Which records a caller sees (C9, P3), as one value every read of a record type receives.

A `Scope` is an account and, for a user limited to `OWNED` or `TEAM` records, the users whose
records it sees. Stores take a scope, not an account id, for every read of records, and turn it
into one more condition (`conditions`), so a query cannot be written without it, and an id
outside it is not found exactly as a missing one is. Billing facts (usage, tiers, alerts) are
the account's and take no scope.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from marketing_contacts.domain.conditions import Condition, ContactField, OneOf
from marketing_contacts.domain.users import RecordVisibility


@dataclass(frozen=True)
class Scope:
    account_id: str
    #: the users whose records are seen; None: every record of the account
    owners: frozenset[str] | None = None

    @property
    def whole_account(self) -> bool:
        return self.owners is None

    def sees(self, owner_id: str | None) -> bool:
        """A record without an owner is seen only by a scope of the whole account."""
        return self.owners is None or owner_id in self.owners

    def conditions(self) -> tuple[Condition, ...]:
        """What a record meets to be seen, besides being the account's."""
        if self.owners is None:
            return ()
        return (OneOf(ContactField.OWNER_ID, frozenset(self.owners)),)


def scope_of(
    account_id: str, user_id: str, visibility: RecordVisibility, team_members: Collection[str]
) -> Scope:
    """C9: ALL sees the account's records; OWNED the user's own; TEAM those of the user and of
    every member of the user's team (a user without a team: its own)."""
    if visibility is RecordVisibility.ALL:
        return Scope(account_id)
    if visibility is RecordVisibility.OWNED:
        return Scope(account_id, frozenset({user_id}))
    return Scope(account_id, frozenset({user_id, *team_members}))

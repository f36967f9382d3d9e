"""Who is asking: the token, and the user it acts as (P1), as they are at this request."""

from __future__ import annotations

from dataclasses import dataclass

from marketing_contacts.domain.audit import Actor
from marketing_contacts.domain.users import RecordVisibility, Role
from marketing_contacts.domain.visibility import Scope, scope_of


@dataclass(frozen=True)
class Caller:
    account_id: str
    token_id: str
    #: the user the token acts as; stands for the change's author in statusSourceId (S4)
    user_id: str
    role: Role
    #: P2, S5: the user's permission to set contacts to MARKETING
    marketing_access: bool
    #: P3, C9: which records the user sees (TEAM: its team's, by `team_id`)
    visibility: RecordVisibility = RecordVisibility.ALL
    team_id: str | None = None
    #: the other users of the caller's team, as read with the token (TEAM visibility)
    team_members: frozenset[str] = frozenset()
    #: P4: the request (or WebSocket operation) the caller acts in, named in what it writes
    request_id: str | None = None

    @property
    def actor(self) -> Actor:
        """Who the caller's writes name in the audit log."""
        return Actor(self.user_id, self.token_id, self.request_id)

    @property
    def scope(self) -> Scope:
        """The records the caller sees: what every read of records is given."""
        return scope_of(self.account_id, self.user_id, self.visibility, self.team_members)

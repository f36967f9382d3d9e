"""Who is asking: the account and permissions an API token carries."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    account_id: str
    #: the token's id; stands for the user in statusSourceId (S4)
    token_id: str
    #: S5: may set contacts to MARKETING
    marketing_access: bool

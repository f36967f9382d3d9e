"""Events told to live subscribers, and the publisher that carries them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from marketing_contacts.domain.alerts import TierAlert
from marketing_contacts.domain.usage import Usage
from marketing_contacts.services.paging import Stored


@dataclass(frozen=True)
class UsageChanged:
    usage: Usage


@dataclass(frozen=True)
class AlertRaised:
    alert: Stored[TierAlert]
    #: when the change that raised it committed, as its writer publishes it; None when a
    #: worker delivers it later from storage (the commit instant is not stored)
    committed_at: datetime | None = None


@dataclass(frozen=True)
class BulkProgressed:
    """A bulk operation recorded a chunk or ended; subscribers read its state."""

    operation_id: str


@dataclass(frozen=True)
class AccessChanged:
    """P1: a token was revoked, or a user changed (role, marketing access, deactivated): every
    API process re-checks the sockets of that token or user at once."""

    account_id: str
    user_id: str | None = None
    token_id: str | None = None

    def concerns(self, token_id: str, user_id: str) -> bool:
        return self.token_id == token_id or self.user_id == user_id


Event = UsageChanged | AlertRaised | BulkProgressed | AccessChanged


class EventPublisher(Protocol):
    async def publish(self, account_id: str, events: Sequence[Event]) -> None: ...

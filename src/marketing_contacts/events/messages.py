"""Events as JSON messages on a per-account Redis channel."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from marketing_contacts.domain.alerts import TierAlert, TierAlertKind
from marketing_contacts.domain.usage import Usage, UsageCounts
from marketing_contacts.services.paging import Stored
from marketing_contacts.services.ports.events import (
    AccessChanged,
    AlertRaised,
    BulkProgressed,
    Event,
    UsageChanged,
)

#: every API process hears every account's access changes here (P1)
ACCESS_CHANNEL = "mc:access"
CHANNEL_PREFIX = "mc:account:"
CHANNEL_SUFFIX = ":events"


def channel(account_id: str) -> str:
    return f"{CHANNEL_PREFIX}{account_id}{CHANNEL_SUFFIX}"


def channel_of(account_id: str, event: Event) -> str:
    """Where the event is published: access changes on their own channel, the rest on the
    account's."""
    return ACCESS_CHANNEL if isinstance(event, AccessChanged) else channel(account_id)


def account_of(channel_name: str) -> str:
    return channel_name.removeprefix(CHANNEL_PREFIX).removesuffix(CHANNEL_SUFFIX)


def encode(event: Event) -> str:
    body: dict[str, Any]
    if isinstance(event, BulkProgressed):
        body = {"type": "bulk", "id": event.operation_id}
    elif isinstance(event, AccessChanged):
        body = {
            "type": "access",
            "account_id": event.account_id,
            "user_id": event.user_id,
            "token_id": event.token_id,
        }
    elif isinstance(event, UsageChanged):
        usage = event.usage
        body = {
            "type": "usage",
            "marketing": usage.counts.marketing,
            "pending": usage.counts.pending,
            "total": usage.counts.total,
            "tier_limit": usage.tier_limit,
            "next_update_date": usage.next_update_date.isoformat(),
        }
    else:
        alert = event.alert.item
        body = {
            "type": "alert",
            "id": event.alert.id,
            "kind": alert.kind.value,
            "threshold": alert.threshold,
            "marketing_contacts": alert.marketing_contacts,
            "tier_limit": alert.tier_limit,
            "at": alert.at.isoformat(),
            "period_start": alert.period_start.isoformat(),
        }
        if event.committed_at is not None:
            body["committed_at"] = event.committed_at.isoformat()
    return json.dumps(body)


def decode(message: str | bytes) -> Event:
    body = json.loads(message)
    if body["type"] == "bulk":
        return BulkProgressed(body["id"])
    if body["type"] == "access":
        return AccessChanged(body["account_id"], user_id=body["user_id"], token_id=body["token_id"])
    if body["type"] == "usage":
        counts = UsageCounts(body["marketing"], body["pending"], body["total"])
        return UsageChanged(
            Usage(counts, body["tier_limit"], date.fromisoformat(body["next_update_date"]))
        )
    alert = TierAlert(
        kind=TierAlertKind(body["kind"]),
        threshold=body["threshold"],
        marketing_contacts=body["marketing_contacts"],
        tier_limit=body["tier_limit"],
        at=datetime.fromisoformat(body["at"]),
        period_start=date.fromisoformat(body["period_start"]),
    )
    committed_at = body.get("committed_at")
    return AlertRaised(
        Stored(body["id"], alert),
        committed_at=None if committed_at is None else datetime.fromisoformat(committed_at),
    )

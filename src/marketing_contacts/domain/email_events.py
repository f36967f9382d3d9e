"""Email activity (C7, S6): events that belong to an address, not to a contact.

An event is stored against the normalised address whether or not a contact has it, so a
contact shows every event of its address, including those from before it existed (a contact
re-created, or one that took over an address). A hard bounce or an unsubscribe also marks the
address's contact (S6), which the unengaged selection (B1) then finds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from marketing_contacts.domain.contacts import Contact
from marketing_contacts.domain.errors import check_length, check_no_controls

#: a campaign id names a campaign of the sending tool
MAX_CAMPAIGN_ID_LENGTH = 200


class EmailEventType(StrEnum):
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    OPENED = "OPENED"
    CLICKED = "CLICKED"
    HARD_BOUNCED = "HARD_BOUNCED"
    UNSUBSCRIBED = "UNSUBSCRIBED"


@dataclass(frozen=True)
class EmailEvent:
    id: str
    account_id: str
    #: the address as normalised (C8): the key its events are kept by is its lower case
    email: str
    type: EmailEventType
    occurred_at: datetime
    campaign_id: str | None = None


def check_campaign_id(campaign_id: str | None, *field: str) -> None:
    check_length(campaign_id, MAX_CAMPAIGN_ID_LENGTH, *field)
    check_no_controls(campaign_id, *field)


def marked_by(event_type: EmailEventType, contact: Contact) -> Contact | None:
    """S6: the contact as the event marks it (hard-bounced, or unsubscribed from all), or None
    when the event changes nothing of it. The marketing status stays as it is."""
    if event_type is EmailEventType.HARD_BOUNCED and not contact.email_hard_bounced:
        return replace(contact, email_hard_bounced=True)
    if event_type is EmailEventType.UNSUBSCRIBED and not contact.unsubscribed_from_all:
        return replace(contact, unsubscribed_from_all=True)
    return None

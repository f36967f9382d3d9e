"""Which contacts a filter selects (ContactFilter; B1 selections build on it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from marketing_contacts.domain.contacts import (
    MAX_TEXT_LENGTH,
    Contact,
    LifecycleStage,
    email_domain,
)
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.errors import check_id, check_length
from marketing_contacts.domain.statuses import MarketingStatus

#: a domain name has at most 253 characters (RFC 1035)
MAX_DOMAIN_LENGTH = 253


@dataclass(frozen=True)
class ContactFilter:
    """Every field that is set must hold; an empty filter selects every contact."""

    marketing_status: MarketingStatus | None = None
    marketing_until_next_update: bool | None = None
    email_domain: str | None = None
    lifecycle_stage: LifecycleStage | None = None
    owner_id: str | None = None
    created_via: CreationSource | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    email_hard_bounced: bool | None = None
    unsubscribed_from_all: bool | None = None
    list_id: str | None = None
    #: S6: hard-bounced or unsubscribed from all email
    unengaged: bool | None = None

    def check(self, *field: str) -> None:
        """The client's strings are bounded like what they are compared with (a domain, an
        owner id as a contact stores it, a list id): INVALID under `field` past that."""
        check_length(self.email_domain, MAX_DOMAIN_LENGTH, *field, "email_domain")
        check_length(self.owner_id, MAX_TEXT_LENGTH, *field, "owner_id")
        check_id(self.list_id, *field, "list_id")

    def matches(self, contact: Contact) -> bool:
        checks = (
            self.marketing_status is None or contact.marketing_status is self.marketing_status,
            self.marketing_until_next_update is None
            or contact.marketing_until_next_update is self.marketing_until_next_update,
            self.email_domain is None or email_domain(contact.email) == self.email_domain.lower(),
            self.lifecycle_stage is None or contact.lifecycle_stage is self.lifecycle_stage,
            self.owner_id is None or contact.owner_id == self.owner_id,
            self.created_via is None or contact.created_via is self.created_via,
            self.created_after is None or contact.created_at > self.created_after,
            self.created_before is None or contact.created_at < self.created_before,
            self.email_hard_bounced is None
            or contact.email_hard_bounced is self.email_hard_bounced,
            self.unsubscribed_from_all is None
            or contact.unsubscribed_from_all is self.unsubscribed_from_all,
            self.list_id is None or self.list_id in contact.list_ids,
            self.unengaged is None or contact.unengaged is self.unengaged,
        )
        return all(checks)

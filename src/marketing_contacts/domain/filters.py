"""Which contacts a filter selects (ContactFilter; B1 selections build on it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from marketing_contacts.domain.conditions import (
    Condition,
    ContactField,
    Contains,
    Earlier,
    Equals,
    Later,
    OneOf,
    StartsWith,
    all_hold,
)
from marketing_contacts.domain.contacts import MAX_TEXT_LENGTH, Contact, LifecycleStage
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.errors import check_id, check_length
from marketing_contacts.domain.search import search_prefix
from marketing_contacts.domain.statuses import MarketingState, MarketingStatus

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
    #: C2: contacts associated with this company
    company_id: str | None = None
    #: C11: a case-insensitive prefix of the email, first name or last name (blank: any)
    search: str | None = None
    #: C5: the contacts among these ids (a deal's; no client names it)
    ids: frozenset[str] | None = None

    def check(self, *field: str) -> None:
        """The client's strings are bounded like what they are compared with (a domain, an
        owner id as a contact stores it, a list id): INVALID under `field` past that."""
        check_length(self.email_domain, MAX_DOMAIN_LENGTH, *field, "email_domain")
        check_length(self.owner_id, MAX_TEXT_LENGTH, *field, "owner_id")
        check_id(self.list_id, *field, "list_id")
        check_id(self.company_id, *field, "company_id")
        search_prefix(self.search, *field, "search")

    def matches(self, contact: Contact) -> bool:
        return all_hold(self.conditions(), contact)

    def conditions(self) -> tuple[Condition, ...]:
        """What the filter asks of a contact, field by field (the rule stores query by)."""
        found: list[Condition] = []
        states = self._states()
        if states is not None:
            found.append(OneOf(ContactField.STATE, frozenset(states)))
        equal = {
            ContactField.EMAIL_DOMAIN: self.email_domain and self.email_domain.lower(),
            ContactField.LIFECYCLE_STAGE: self.lifecycle_stage,
            ContactField.OWNER_ID: self.owner_id,
            ContactField.CREATED_VIA: self.created_via,
            ContactField.EMAIL_HARD_BOUNCED: self.email_hard_bounced,
            ContactField.UNSUBSCRIBED_FROM_ALL: self.unsubscribed_from_all,
        }
        found += [Equals(field, value) for field, value in equal.items() if value is not None]
        if self.created_after is not None:
            found.append(Later(ContactField.CREATED_AT, self.created_after))
        if self.created_before is not None:
            found.append(Earlier(ContactField.CREATED_AT, self.created_before))
        if self.list_id is not None:
            found.append(Contains(ContactField.LIST_IDS, self.list_id))
        if self.company_id is not None:
            found.append(Contains(ContactField.COMPANY_IDS, self.company_id))
        if self.ids is not None:
            found.append(OneOf(ContactField.ID, self.ids))
        if self.unengaged is not None:  # S6
            found.append(Equals(ContactField.UNENGAGED, self.unengaged))
        prefix = search_prefix(self.search, "search")
        if prefix is not None:  # C11
            found.append(StartsWith(ContactField.SEARCH_KEYS, prefix))
        return tuple(found)

    def _states(self) -> set[MarketingState] | None:
        """The states the status fields allow; None when neither is set."""
        if self.marketing_status is None and self.marketing_until_next_update is None:
            return None
        return {
            state
            for state in MarketingState
            if self.marketing_status in (None, state.status)
            and self.marketing_until_next_update in (None, state.marketing_until_next_update)
        }

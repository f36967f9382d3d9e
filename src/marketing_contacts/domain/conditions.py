"""Conditions on a contact's fields: what a filter or a selection asks of a contact, as data.

A filter is written once, as conditions; `holds` decides them on a contact in memory, and a
store translates the same conditions into its own query (storage.contact_query for MongoDB), so
the two cannot disagree on what a filter selects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from marketing_contacts.domain.contacts import Contact, email_domain
from marketing_contacts.domain.search import found_by


class ContactField(StrEnum):
    """The fields of a contact that conditions compare (a store keeps each one queryable)."""

    ID = "id"
    STATE = "state"
    EMAIL_DOMAIN = "email_domain"
    LIFECYCLE_STAGE = "lifecycle_stage"
    OWNER_ID = "owner_id"
    CREATED_VIA = "created_via"
    CREATED_AT = "created_at"
    EMAIL_HARD_BOUNCED = "email_hard_bounced"
    UNSUBSCRIBED_FROM_ALL = "unsubscribed_from_all"
    #: S6, as Contact.unengaged decides it
    UNENGAGED = "unengaged"
    LIST_IDS = "list_ids"
    #: C2: the companies it is associated with
    COMPANY_IDS = "company_ids"
    #: C11: the lower-cased email, first and last name a search finds the contact by
    SEARCH_KEYS = "search_keys"

    def of(self, contact: Contact) -> object:
        if self is ContactField.EMAIL_DOMAIN:
            return email_domain(contact.email)
        return getattr(contact, self.value)


@dataclass(frozen=True)
class Equals:
    """The field holds `value` (None never equals a value: a contact without one fails)."""

    field: ContactField
    value: object

    def holds(self, contact: Contact) -> bool:
        return self.field.of(contact) == self.value


@dataclass(frozen=True)
class OneOf:
    """The field holds one of `values` (none, when `values` is empty)."""

    field: ContactField
    values: frozenset[object]

    def holds(self, contact: Contact) -> bool:
        return self.field.of(contact) in self.values


@dataclass(frozen=True)
class Contains:
    """The field is a set that holds `value` (a list's membership)."""

    field: ContactField
    value: str

    def holds(self, contact: Contact) -> bool:
        members = self.field.of(contact)
        assert isinstance(members, frozenset)
        return self.value in members


@dataclass(frozen=True)
class StartsWith:
    """C11: one of the keys in the field (a set of lower-cased words) starts with `prefix`."""

    field: ContactField
    prefix: str

    def holds(self, contact: Contact) -> bool:
        keys = self.field.of(contact)
        assert isinstance(keys, frozenset)
        return found_by(keys, self.prefix)


@dataclass(frozen=True)
class Later:
    """The instant in the field is after `than`."""

    field: ContactField
    than: datetime

    def holds(self, contact: Contact) -> bool:
        return _instant(self.field, contact) > self.than


@dataclass(frozen=True)
class Earlier:
    """The instant in the field is before `than` (or equal to it, when `inclusive`)."""

    field: ContactField
    than: datetime
    inclusive: bool = False

    def holds(self, contact: Contact) -> bool:
        instant = _instant(self.field, contact)
        return instant <= self.than if self.inclusive else instant < self.than


@dataclass(frozen=True)
class Present:
    """The field holds a value (with `present` False: holds none)."""

    field: ContactField
    present: bool = True

    def holds(self, contact: Contact) -> bool:
        return (self.field.of(contact) is not None) is self.present


@dataclass(frozen=True)
class AnyOf:
    """At least one of `conditions` holds."""

    conditions: tuple[Comparison, ...]

    def holds(self, contact: Contact) -> bool:
        return any(condition.holds(contact) for condition in self.conditions)


Comparison = Equals | OneOf | Contains | StartsWith | Later | Earlier | Present
Condition = Comparison | AnyOf


def all_hold(conditions: Sequence[Condition], contact: Contact) -> bool:
    """The contact meets every condition (no condition: every contact does)."""
    return all(condition.holds(contact) for condition in conditions)


def _instant(field: ContactField, contact: Contact) -> datetime:
    value = field.of(contact)
    assert isinstance(value, datetime)
    return value

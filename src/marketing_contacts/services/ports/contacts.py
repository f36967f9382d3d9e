"""Contacts: reads, filters and field edits (status writes go through the change writer)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.bulk import Selection
from marketing_contacts.domain.channels import AudienceCounts, Channel
from marketing_contacts.domain.conditions import Condition
from marketing_contacts.domain.contacts import Contact
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import MarketingState
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page


class DuplicateEmail(Exception):
    """C8: the address is taken in this account."""


class ContactStore(Protocol):
    """Every read of contacts takes the caller's scope (P3): an account's contacts, limited to
    some owners' for a user limited to OWNED or TEAM; what is outside it is never returned."""

    async def get(self, scope: Scope, contact_id: str) -> Contact | None: ...

    async def get_many(self, scope: Scope, contact_ids: Sequence[str]) -> list[Contact]: ...

    async def by_email(self, scope: Scope, email: str) -> Contact | None:
        """The contact with this address, whatever its case (C8: at most one)."""
        ...

    async def page(
        self, scope: Scope, where: ContactFilter, first: int, after: str | None
    ) -> Page[Contact]: ...

    async def count(self, scope: Scope, where: ContactFilter) -> int:
        """How many contacts `page` walks through for this filter, all pages together."""
        ...

    async def update_fields(
        self, before: Contact, after: Contact, audit: AuditEntry | None = None
    ) -> None:
        """Write the fields other than the status that differ, with the audit entry, in one
        transaction; DuplicateEmail if the address is taken (nothing written)."""
        ...

    async def pending_before(self, account_id: str, instant: datetime, limit: int) -> list[Contact]:
        """Up to `limit` contacts in P that became pending before `instant`: the whole
        account's (U4 applies to every contact, whoever started nothing)."""
        ...

    async def count_by_state(
        self, scope: Scope, selection: Selection, created_until: datetime | None = None
    ) -> dict[MarketingState, int]:
        """How many contacts the selection holds in each state (B2's preview); with
        `created_until`, only those created by then (B1)."""
        ...

    async def audience_counts(
        self, scope: Scope, selection: Selection, channel: Channel
    ) -> AudienceCounts:
        """H1, H2: how many contacts the selection holds, how many the channel may reach and
        how many it leaves out for each reason (domain.channels.counted_under), counted where
        the contacts are (one aggregation), not by reading them."""
        ...

    async def page_of_selection(
        self,
        scope: Scope,
        selection: Selection,
        conditions: Sequence[Condition],
        first: int,
        after: str | None,
    ) -> Page[Contact]:
        """A page of the selection's contacts that also meet `conditions`, in id order (the
        order and cursors of `page`)."""
        ...

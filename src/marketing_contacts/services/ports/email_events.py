"""Email events, kept by address (C7)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Protocol

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.contacts import Contact
from marketing_contacts.domain.email_events import EmailEvent
from marketing_contacts.services.paging import Page

#: no address merged into any (C10)
EMPTY: Mapping[str, Sequence[str]] = MappingProxyType({})


class EmailEvents(Protocol):
    async def record(
        self,
        event: EmailEvent,
        marked: tuple[Contact, Contact] | None = None,
        audit: AuditEntry | None = None,
    ) -> None:
        """Store the event and, when given, the contact's fields the event marks (before,
        after: S6), and the audit entry, in one transaction."""
        ...

    async def page(
        self,
        account_id: str,
        email: str,
        first: int,
        after: str | None,
        *,
        merged: Sequence[str] = (),
    ) -> Page[EmailEvent]:
        """The events of the address (any case), and of the addresses `merged` into its contact
        (C10), newest first (by when they happened)."""
        ...

    async def first_pages(
        self,
        account_id: str,
        emails: Sequence[str],
        first: int,
        *,
        merged: Mapping[str, Sequence[str]] = EMPTY,
    ) -> dict[str, Page[EmailEvent]]:
        """The first page of each address's events, read together (keyed by the addresses as
        given), each with the events of the addresses `merged` names for it (C10)."""
        ...

    async def count(self, account_id: str, email: str, *, merged: Sequence[str] = ()) -> int:
        """How many events the address and the addresses `merged` into its contact have."""
        ...

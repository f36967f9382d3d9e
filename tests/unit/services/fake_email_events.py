"""Email events in memory, kept by the address's lower case as the real store keeps them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from typing import TYPE_CHECKING

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.contacts import Contact, email_key
from marketing_contacts.domain.email_events import EmailEvent
from marketing_contacts.services.paging import Page
from marketing_contacts.services.ports.email_events import EMPTY
from tests.support.waiting import let_others_run
from tests.unit.services.fake_audit import record
from tests.unit.services.fake_paging import keyset_page, object_id

if TYPE_CHECKING:
    from tests.unit.services.fakes import FakeData


class FakeEmailEvents:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def _of(self, account_id: str, email: str, merged: Sequence[str] = ()) -> list[EmailEvent]:
        keys = {email_key(address) for address in (email, *merged)}
        return [
            event
            for event in self.data.email_events
            if event.account_id == account_id and email_key(event.email) in keys
        ]

    async def record(
        self,
        event: EmailEvent,
        marked: tuple[Contact, Contact] | None = None,
        audit: AuditEntry | None = None,
    ) -> None:
        await let_others_run()
        self.data.email_events.append(event)
        if marked is not None:
            before, after = marked
            stored = self.data.contacts.get(after.id)
            if stored is not None:
                changed = {
                    f.name: getattr(after, f.name)
                    for f in fields(Contact)
                    if getattr(before, f.name) != getattr(after, f.name)
                }
                self.data.contacts[after.id] = replace(stored, **changed)
        record(self.data, audit)

    async def page(
        self,
        account_id: str,
        email: str,
        first: int,
        after: str | None,
        *,
        merged: Sequence[str] = (),
    ) -> Page[EmailEvent]:
        await let_others_run()
        events = self._of(account_id, email, merged)
        return keyset_page(
            events, lambda e: e.id, object_id, "email-event", first, after, descending=True
        )

    async def first_pages(
        self,
        account_id: str,
        emails: Sequence[str],
        first: int,
        *,
        merged: Mapping[str, Sequence[str]] = EMPTY,
    ) -> dict[str, Page[EmailEvent]]:
        return {
            email: await self.page(account_id, email, first, None, merged=merged.get(email, ()))
            for email in emails
        }

    async def count(self, account_id: str, email: str, *, merged: Sequence[str] = ()) -> int:
        await let_others_run()
        return len(self._of(account_id, email, merged))

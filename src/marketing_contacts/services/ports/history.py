"""Status history (S4): each contact's entries, newest first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from marketing_contacts.domain.statuses import HistoryEntry
from marketing_contacts.services.paging import Page


class HistoryStore(Protocol):
    async def page(
        self, account_id: str, contact_id: str, first: int, after: str | None
    ) -> Page[HistoryEntry]:
        """Newest first."""
        ...

    async def first_pages(
        self, account_id: str, newest: Mapping[str, int], first: int
    ) -> dict[str, Page[HistoryEntry]]:
        """The first page of each contact's history, in one read (a page of contacts asks for
        them together), as of its newest entry: `newest` maps each contact id to its
        `status_seq`. S4 numbers a contact's entries 1 to its status_seq, one per change, so
        a first page is the entries of the `first` + 1 sequences up to it (+ 1: whether there
        is a next page), read without the rest of a long history; a contact without history
        gets an empty page."""
        ...

    async def counts(self, account_id: str, contact_ids: Sequence[str]) -> dict[str, int]:
        """How many entries each contact's history holds, in one read; a contact without
        history (or no contact of the account) counts 0."""
        ...

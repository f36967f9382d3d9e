"""Static lists and their membership (kept on the contacts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from marketing_contacts.services.paging import Page


@dataclass(frozen=True)
class ContactList:
    id: str
    account_id: str
    name: str
    created_at: datetime


class ListStore(Protocol):
    async def insert(self, contact_list: ContactList) -> None: ...

    async def get(self, account_id: str, list_id: str) -> ContactList | None: ...

    async def page(self, account_id: str, first: int, after: str | None) -> Page[ContactList]:
        """Newest first."""
        ...

    async def count(self, account_id: str) -> int:
        """How many lists the account has (all pages together)."""
        ...

    async def delete(self, account_id: str, list_id: str) -> bool:
        """Remove the list itself (not its membership); False if it was not there."""
        ...

    async def size(self, account_id: str, list_id: str) -> int:
        """How many contacts of the account are members."""
        ...

    async def sizes(self, account_id: str, list_ids: Sequence[str]) -> dict[str, int]:
        """The sizes of several lists in one read (a page of lists); absent ids count 0."""
        ...

    async def add_members(self, account_id: str, list_id: str, contact_ids: Sequence[str]) -> int:
        """Make the account's contacts among `contact_ids` members; how many were not yet."""
        ...

    async def remove_members(
        self, account_id: str, list_id: str, contact_ids: Sequence[str]
    ) -> int:
        """Take the account's contacts among `contact_ids` out; how many were members."""
        ...

    async def drop_membership(self, account_id: str, list_id: str) -> int:
        """Take every contact of the account out of the list; how many were members."""
        ...

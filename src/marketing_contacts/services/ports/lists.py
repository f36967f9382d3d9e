"""Static lists and their membership (kept on the contacts).

A list counts its members (`size`) in the same write that changes its membership, so reading a
page of lists reads the lists alone. Deleting a list is two steps: the list stops being live at
once (reads and membership changes no longer see it), and its membership is then taken out in
pages by a worker (a `ListDeletion`), which removes the list for good after its last page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.services.paging import Page


@dataclass(frozen=True)
class ContactList:
    id: str
    account_id: str
    name: str
    created_at: datetime
    #: how many of the account's contacts are members
    size: int = 0


@dataclass(frozen=True)
class ListDeletion:
    """A deleted list whose membership is still being taken out; the run taking it out holds a
    lease, as a bulk operation's does, so that another may resume it if that run died."""

    account_id: str
    list_id: str
    deleted_at: datetime
    owner: str | None = None
    lease_until: datetime | None = None
    #: P4: the user who deleted it, whom the pages taking its membership out name
    deleted_by: str | None = None

    def stale(self, deleted_before: datetime, now: datetime) -> bool:
        """No live run holds it: never claimed since before `deleted_before`, or its lease
        ran out by `now`."""
        if self.owner is None:
            return self.deleted_at < deleted_before
        return self.lease_until is not None and self.lease_until <= now

    def claimable_by(self, owner: str, now: datetime) -> bool:
        """Nobody holds it, its holder let the lease run out, or `owner` holds it."""
        return self.owner in (None, owner) or (
            self.lease_until is not None and self.lease_until <= now
        )


@dataclass(frozen=True)
class ListRecount:
    """A live list whose stored size differed from its members, and was set to them (T1)."""

    list_id: str
    stored: int
    actual: int


class ListGone(Exception):
    """The list is not live (never was, or was deleted meanwhile): nothing was written."""


class ListStore(Protocol):
    async def insert(
        self,
        contact_list: ContactList,
        member_ids: Sequence[str] = (),
        audit: AuditEntry | None = None,
    ) -> ContactList:
        """Store the new list with the account's contacts among `member_ids` as members, in one
        write with the audit entry (as are the changes below); the list as stored (its size
        counts them)."""
        ...

    async def get(self, account_id: str, list_id: str) -> ContactList | None:
        """The live list (not one being deleted)."""
        ...

    async def page(self, account_id: str, first: int, after: str | None) -> Page[ContactList]:
        """Live lists, newest first."""
        ...

    async def count(self, account_id: str) -> int:
        """How many live lists the account has (all pages together)."""
        ...

    async def add_members(
        self,
        account_id: str,
        list_id: str,
        contact_ids: Sequence[str],
        audit: AuditEntry | None = None,
    ) -> int:
        """Make the account's contacts among `contact_ids` members, and count them in the list's
        size, in one write; how many were not yet. ListGone if the list is not live."""
        ...

    async def remove_members(
        self,
        account_id: str,
        list_id: str,
        contact_ids: Sequence[str],
        audit: AuditEntry | None = None,
    ) -> int:
        """Take the account's contacts among `contact_ids` out, and off the list's size, in one
        write; how many were members. ListGone if the list is not live."""
        ...

    async def mark_deleted(
        self, account_id: str, list_id: str, at: datetime, audit: AuditEntry | None = None
    ) -> bool:
        """The live list stops being live, its membership left for a ListDeletion to take out
        (naming the entry's user as `deleted_by`); False, and nothing written, if it was not
        live."""
        ...

    async def deletions(self, account_id: str, first: int) -> list[ListDeletion]:
        """Up to `first` of the account's deleted lists whose membership is still there."""
        ...

    async def stale_deletions(self, deleted_before: datetime, now: datetime) -> list[ListDeletion]:
        """Deletions of any account that no live run holds: deleted before `deleted_before`
        and never claimed, or whose lease ran out by `now`."""
        ...

    async def claim_deletion(
        self, deletion: ListDeletion, owner: str, now: datetime, lease_until: datetime
    ) -> bool:
        """Hold the deletion for `owner` until `lease_until`, if it is claimable by it now."""
        ...

    async def drop_members(
        self,
        deletion: ListDeletion,
        owner: str,
        limit: int,
        lease_until: datetime,
        audit: AuditEntry | None = None,
    ) -> int | None:
        """Take up to `limit` members out of the deleted list, renewing `owner`'s lease, in one
        write with the audit entry (the ids of the contacts taken out added to its own); how
        many (fewer than `limit`: none is left), or None when `owner` no longer holds it."""
        ...

    async def purge(self, deletion: ListDeletion, owner: str) -> bool:
        """Remove the deleted list for good, while `owner` holds it; False otherwise."""
        ...

    async def recount(self, account_id: str) -> list[ListRecount]:
        """Count the members of each live list of the account, and set each size that differs
        to its count (each list at one instant, against changes made meanwhile); the lists
        repaired."""
        ...

"""Static lists of contacts: named sets of one account's contacts (B1 selections by list).

Membership is stored on the contact (its `list_ids`), so `ContactFilter.list_id` and bulk
selections by list read the contacts collection alone. Changing membership never touches a
contact's marketing status or the account's counts. A list counts its members as they change
(ports.lists), so a list's size is read with the list.

Deleting a list answers at once: the list stops being live (no read finds it, no contact can
join it), and the account's bulk turns take its membership out in pages, however large it is
(services.list_deletions). A membership change that meets the delete fails NOT_FOUND whole.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.errors import (
    DomainError,
    ErrorCode,
    check_id,
    check_ids,
    check_no_controls,
    contacts_not_found,
    quoted,
    refuse,
)
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.paging import Page, paged
from marketing_contacts.services.ports.lists import ContactList, ListGone, ListStore

if TYPE_CHECKING:  # wiring.py imports ListStore from here
    from marketing_contacts.services.wiring import Ports

#: a membership change of the ListStore: add_members or remove_members
Membership = Callable[[str, str, Sequence[str], AuditEntry], Awaitable[int]]

log = logging.getLogger(__name__)

MAX_NAME_LENGTH = 200
#: distinct contact ids per createList, addContactsToList or removeContactsFromList
MAX_LIST_CHANGE = 10_000


def check_name(name: str) -> str:
    """A list's name, trimmed: 1 to MAX_NAME_LENGTH characters, no control character."""
    stripped = name.strip()
    if not 1 <= len(stripped) <= MAX_NAME_LENGTH:
        raise refuse(
            ErrorCode.INVALID, f"a list name has 1 to {MAX_NAME_LENGTH} characters", "name"
        )
    check_no_controls(stripped, "name")
    return stripped


def distinct_ids(contact_ids: Sequence[str]) -> list[str]:
    """The ids in their first order, each once; INVALID at the first too long one, TOO_MANY
    past MAX_LIST_CHANGE."""
    check_ids(contact_ids, "contact_ids")
    ids = list(dict.fromkeys(contact_ids))
    if len(ids) > MAX_LIST_CHANGE:
        raise refuse(
            ErrorCode.TOO_MANY,
            f"at most {MAX_LIST_CHANGE} contacts per call; send the rest in further calls",
            "contact_ids",
        )
    return ids


class ListService:
    def __init__(self, ports: Ports, lists: ListStore | None = None) -> None:
        self.ports = ports
        self.lists = ports.lists if lists is None else lists

    async def get(self, caller: Caller, list_id: str) -> ContactList | None:
        check_id(list_id, "id")
        found = await self.lists.get(caller.account_id, list_id)
        return None if found is None else await self._as_seen(caller, found)

    async def page(self, caller: Caller, first: int, after: str | None) -> Page[ContactList]:
        page = await paged(first, after, self.lists.page(caller.account_id, first, after))
        if caller.scope.whole_account:
            return page
        return replace(page, items=[await self._as_seen(caller, found) for found in page.items])

    async def _as_seen(self, caller: Caller, contact_list: ContactList) -> ContactList:
        """P3: a user who sees some owners' contacts sees a list of those among its members,
        and counts those (the stored size is every member's)."""
        if caller.scope.whole_account:
            return contact_list
        members = ContactFilter(list_id=contact_list.id)
        return replace(contact_list, size=await self.ports.contacts.count(caller.scope, members))

    async def count(self, caller: Caller) -> int:
        return await self.lists.count(caller.account_id)

    async def create(
        self, caller: Caller, name: str, contact_ids: Sequence[str] = ()
    ) -> ContactList:
        """A new list of the caller's account with these members; nothing if one is not found."""
        stripped = check_name(name)
        ids = distinct_ids(contact_ids)
        await self._check_contacts(caller, contact_ids, ids)
        contact_list = ContactList(
            id=self.ports.ids.new_id(),
            account_id=caller.account_id,
            name=stripped,
            created_at=self.ports.clock.now(),
        )
        audit = self._audit(caller, "createList", contact_list.id, ids)
        return await self._as_seen(caller, await self.lists.insert(contact_list, ids, audit))

    async def add(self, caller: Caller, list_id: str, contact_ids: Sequence[str]) -> ContactList:
        """Members already in the list stay as they are; nothing changes if one is not found."""
        ids = distinct_ids(contact_ids)
        await self._existing(caller, list_id, "list_id")
        await self._check_contacts(caller, contact_ids, ids)
        audit = self._audit(caller, "addContactsToList", list_id, ids)
        return await self._changed(caller, list_id, self.lists.add_members, ids, audit)

    async def remove(self, caller: Caller, list_id: str, contact_ids: Sequence[str]) -> ContactList:
        """Contacts that are not members stay out; nothing changes if one is not found."""
        ids = distinct_ids(contact_ids)
        await self._existing(caller, list_id, "list_id")
        await self._check_contacts(caller, contact_ids, ids)
        audit = self._audit(caller, "removeContactsFromList", list_id, ids)
        return await self._changed(caller, list_id, self.lists.remove_members, ids, audit)

    async def delete(self, caller: Caller, list_id: str) -> str:
        """The list at once; every contact's membership of it by the account's next bulk
        turns (a failure to enqueue one leaves it to the sweeper)."""
        check_id(list_id, "id")
        audit = self._audit(caller, "deleteList", list_id)
        now = self.ports.clock.now()
        if not await self.lists.mark_deleted(caller.account_id, list_id, now, audit):
            raise self._not_found(list_id, "id")
        try:
            await self.ports.jobs.mark_list_deletions(caller.account_id)
            await self.ports.jobs.enqueue_account_bulk(caller.account_id)
        except Exception:
            log.exception("enqueueing the deletion of list %s failed; the sweeper will", list_id)
        return list_id

    def _audit(
        self, caller: Caller, action: str, list_id: str, contact_ids: Sequence[str] = ()
    ) -> AuditEntry:
        """P4: a list's change names the list and the contacts it names."""
        return self.ports.audit_entry(
            caller.account_id, caller.actor, action, [list_id, *contact_ids]
        )

    async def _changed(
        self,
        caller: Caller,
        list_id: str,
        change: Membership,
        ids: Sequence[str],
        audit: AuditEntry,
    ) -> ContactList:
        """The list after `change` of its membership; NOT_FOUND if it was deleted meanwhile."""
        try:
            await change(caller.account_id, list_id, ids, audit)
        except ListGone:
            raise self._not_found(list_id, "list_id") from None
        return await self._existing(caller, list_id, "list_id")

    async def _existing(self, caller: Caller, list_id: str, field: str) -> ContactList:
        check_id(list_id, field)
        contact_list = await self.lists.get(caller.account_id, list_id)
        if contact_list is None:
            raise self._not_found(list_id, field)
        return await self._as_seen(caller, contact_list)

    @staticmethod
    def _not_found(list_id: str, field: str) -> DomainError:
        return refuse(ErrorCode.NOT_FOUND, f"list {quoted(list_id)} does not exist", field)

    async def _check_contacts(
        self, caller: Caller, contact_ids: Sequence[str], ids: Sequence[str]
    ) -> None:
        """NOT_FOUND at each id (its first index) that is no contact of the caller's account
        (the first MAX_NAMED_IDS of them, and a count of the rest)."""
        if not ids:
            return
        found = {c.id for c in await self.ports.contacts.get_many(caller.scope, ids)}
        missing = contacts_not_found(contact_ids, found, "contact_ids")
        if missing is not None:
            raise missing

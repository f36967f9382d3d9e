"""Merging two contacts (C10, T1): the primary stays, the secondary is merged into it and leaves
the count, all in one conditional write (domain.merge decides, ChangeBatch.merge writes).

Both contacts are read in the caller's scope (C9, P3): a contact of another account, or one the
caller does not see, is NOT_FOUND exactly as a missing id is. Merging needs no marketing access
(S5): it never makes a marketing contact more (domain.merge), and its counts go through the tier
logic every write goes through (`plan_usage_change`), so they stay exact and raise no alert.

Bulk operations: a contact waiting in a page of a bulk operation that has not been applied yet
is not merged (CONFLICT, at the id's field; nothing is written). The counts would stay exact
without the refusal: every write involved is conditional (each contact at its status sequence,
the account at its revision, the page at its place under its run's lease: storage.writer), so a
merge and a page meet as any two writes do, and the later one re-reads and decides again. What
the refusal keeps is the operation's meaning: it was previewed and confirmed on its selection,
and a merge would change what its pages apply to; the secondary would be gone when its page
came (counted NOT_FOUND, the change meant for that person lost), the primary changed under it.
The check is the cheapest that knows: the account's active operations (one index read, at most
P5's limit of them, none in the common case) and, for each whose selection is resolved, the one
page that can hold each contact (BulkPages.holds, an index lookup). An operation not resolved
yet holds a contact only when its ids selection names it (read from the operation itself); its
other selections resolve later, on the contacts as merged. One that resolves between the check
and the merge's commit meets the merge as it meets a delete: the conditional writes keep that
exact too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.bulk import MAX_ACTIVE_OPERATIONS, BulkOperation
from marketing_contacts.domain.changes import UsageChange, plan_usage_change
from marketing_contacts.domain.contacts import Contact
from marketing_contacts.domain.errors import (
    DomainError,
    ErrorCode,
    UserError,
    check_id,
    quoted,
)
from marketing_contacts.domain.merge import Merge, check_distinct, merge_contacts
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.ledger import batch_for
from marketing_contacts.services.ports.changes import ChangeBatch, ContactMerge
from marketing_contacts.services.statuses import tier_limit_reached
from marketing_contacts.services.wiring import Ports

PRIMARY, SECONDARY = "primary_id", "secondary_id"


class ContactMerger:
    def __init__(self, ports: Ports, max_active_operations: int = MAX_ACTIVE_OPERATIONS) -> None:
        self.ports = ports
        #: P5: how many operations an account may have active, so how many the check reads
        self.max_active_operations = max_active_operations

    async def merge(self, caller: Caller, primary_id: str, secondary_id: str) -> Contact:
        """C10: the primary as merged; nothing is written on a userError."""
        check_id(primary_id, PRIMARY)
        check_id(secondary_id, SECONDARY)
        check_distinct(primary_id, secondary_id)

        async def attempt() -> Contact:
            primary, secondary = await self._pair(caller, primary_id, secondary_id)
            await self._check_not_in_bulk(caller, {PRIMARY: primary, SECONDARY: secondary})
            account = await self.ports.account(caller.account_id)
            now = self.ports.clock.now()
            merge = merge_contacts(primary, secondary, now)
            change = plan_usage_change(account, merge.transitions, now)
            if change.blocked:  # the tier logic as everywhere (a merge adds no marketing one)
                if change.alerts:
                    await self.ports.ledger.commit(batch_for(account, change))
                raise tier_limit_reached(account)
            await self.ports.ledger.commit(self._batch(caller, account, change, merge))
            return merge.contact

        return await self.ports.retrying_on(caller.account_id, attempt)

    async def _pair(
        self, caller: Caller, primary_id: str, secondary_id: str
    ) -> tuple[Contact, Contact]:
        """Both contacts, as the caller sees them; NOT_FOUND at each id's field otherwise."""
        found = {
            c.id: c
            for c in await self.ports.contacts.get_many(caller.scope, [primary_id, secondary_id])
        }
        missing = [
            UserError(ErrorCode.NOT_FOUND, f"contact {quoted(contact_id)} does not exist", (field,))
            for field, contact_id in ((PRIMARY, primary_id), (SECONDARY, secondary_id))
            if contact_id not in found
        ]
        if missing:
            raise DomainError(*missing)
        return found[primary_id], found[secondary_id]

    async def _check_not_in_bulk(self, caller: Caller, contacts: dict[str, Contact]) -> None:
        """CONFLICT at the field of each contact that waits in a bulk operation's page not
        applied yet (the operation named when the caller sees it: P3, an operation is its
        requester's record)."""
        active = await self.ports.operations.oldest_active(
            caller.account_id, self.max_active_operations
        )
        waiting = []
        for field, contact in contacts.items():
            operation = await self._waiting_in(active, contact.id)
            if operation is not None:
                named = caller.scope.sees(operation.requested_by)
                what = f"bulk operation {operation.id}" if named else "a bulk operation"
                message = (
                    f"contact {contact.id} waits in {what}, which has not reached it yet; merge "
                    "it once the operation has finished or was cancelled"
                )
                waiting.append(UserError(ErrorCode.CONFLICT, message, (field,)))
        if waiting:
            raise DomainError(*waiting)

    async def _waiting_in(
        self, active: Sequence[BulkOperation], contact_id: str
    ) -> BulkOperation | None:
        for operation in active:
            if await self._waits_in(operation, contact_id):
                return operation
        return None

    async def _waits_in(self, operation: BulkOperation, contact_id: str) -> bool:
        if operation.resolved:
            return await self.ports.bulk_pages.holds(operation, contact_id)
        ids = operation.selection.ids
        return ids is not None and contact_id in ids

    def _batch(
        self, caller: Caller, account: Account, change: UsageChange, merge: Merge
    ) -> ChangeBatch:
        """The merge's write: the counts, the secondary's delete, the primary as merged with
        what it takes over (ContactMerge), the merge's history entry and its audit entry (P4)."""
        primary, secondary = merge.primary, merge.secondary
        audit = self.ports.audit_entry(
            caller.account_id, caller.actor, "mergeContacts", [primary.id, secondary.id]
        )
        return replace(
            batch_for(account, change, audit=audit),
            deleted=(secondary,),
            history=merge.history,
            merge=ContactMerge(primary=primary, secondary=secondary, merged=merge.contact),
        )

"""Changing marketing statuses synchronously (B6, S2-S5, S7, T2, T6)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from marketing_contacts.domain.accounts import Account, check_statuses_settable
from marketing_contacts.domain.changes import plan_usage_change
from marketing_contacts.domain.contacts import Contact, change_status, transitions_of
from marketing_contacts.domain.errors import (
    MAX_ID_LENGTH,
    DomainError,
    ErrorCode,
    check_ids,
    check_length,
    contacts_not_found,
    refuse,
)
from marketing_contacts.domain.permissions import check_status_permission
from marketing_contacts.domain.statuses import (
    MarketingStatus,
    StatusSource,
    StatusSourceType,
    check_claimable_source,
)
from marketing_contacts.domain.usage import Usage
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.ledger import batch_for
from marketing_contacts.services.wiring import Ports

MAX_SYNC_CONTACTS = 100


@dataclass(frozen=True)
class StatusResult:
    contacts: list[Contact]
    usage: Usage


def source_for(
    caller: Caller, source_type: StatusSourceType, source_id: str | None
) -> StatusSource:
    """S4: a user's change names the user; a tool's change names the tool's id."""
    if source_type is StatusSourceType.USER:
        return StatusSource(StatusSourceType.USER, caller.user_id)
    return StatusSource(source_type, source_id)


def tier_limit_reached(account: Account) -> DomainError:
    return refuse(
        ErrorCode.TIER_LIMIT_REACHED,
        f"the change would exceed the tier of {account.tier_limit} marketing contacts and the "
        "account's upgrade policy is BLOCK",
    )


class StatusService:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports

    async def set_marketing_status(
        self,
        caller: Caller,
        contact_ids: Sequence[str],
        target: MarketingStatus,
        source_type: StatusSourceType = StatusSourceType.USER,
        source_id: str | None = None,
    ) -> StatusResult:
        """All or nothing for up to 100 contacts (an id given twice is one contact); a no-op
        stores nothing."""
        check_ids(contact_ids, "contact_ids")
        ids = list(dict.fromkeys(contact_ids))
        if len(ids) > MAX_SYNC_CONTACTS:
            raise refuse(
                ErrorCode.TOO_MANY,
                f"at most {MAX_SYNC_CONTACTS} contacts at once; use startBulkStatusChange",
                "contact_ids",
            )
        check_claimable_source(source_type)
        check_length(source_id, MAX_ID_LENGTH, "source_id")
        source = source_for(caller, source_type, source_id)

        async def attempt() -> StatusResult:
            account = await self.ports.account(caller.account_id)
            check_statuses_settable(account, "status")
            check_status_permission(
                target,
                source_type,
                marketing_access=caller.marketing_access,
                edition=account.edition,
            )
            found = {c.id: c for c in await self.ports.contacts.get_many(caller.scope, ids)}
            missing = contacts_not_found(contact_ids, found, "contact_ids")
            if missing is not None:
                raise missing
            now = self.ports.clock.now()
            updates = [u for c in found.values() if (u := change_status(c, target, source, now))]
            change = plan_usage_change(account, transitions_of(updates), now)
            if change.blocked:
                if change.alerts:
                    await self.ports.ledger.commit(batch_for(account, change))
                raise tier_limit_reached(account)
            if updates:
                written = [u.after.id for u in updates]
                audit = self.ports.audit_entry(
                    account.id, caller.actor, "setMarketingStatus", written
                )
                await self.ports.ledger.commit(batch_for(account, change, updates, audit))
            after = {u.after.id: u.after for u in updates}
            return StatusResult(
                contacts=[after.get(cid, found[cid]) for cid in ids],
                usage=change.account.usage,
            )

        return await self.ports.retrying_on(caller.account_id, attempt)

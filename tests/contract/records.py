"""Records the contract tests store through the ports, and readings of what a store holds.

Everything is made and read through the ports, with the ids and the clock of the side under
test, so the same test body runs on the fakes and on the adapters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from marketing_contacts.domain.accounts import Account, open_account
from marketing_contacts.domain.alerts import TierAlert, TierAlertKind
from marketing_contacts.domain.bulk import BulkOperation, BulkOperationStatus, Selection
from marketing_contacts.domain.contacts import Contact, StatusUpdate, history_of, move_to
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import (
    MarketingState,
    MarketingStatus,
    StatusSource,
    StatusSourceType,
)
from marketing_contacts.domain.tiers import TierChange
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import MAX_PAGE, Page
from marketing_contacts.services.ports.changes import ChangeBatch, Committed
from marketing_contacts.services.wiring import Ports

USER = StatusSource(StatusSourceType.USER, "tester")
#: far enough ahead that everything stored so far was raised before it
LATER = timedelta(days=1)


def now(ports: Ports) -> datetime:
    return ports.clock.now()


async def stored_account(ports: Ports, **changes: Any) -> Account:
    """A newly opened account (as `open_account` makes it, with `changes`), stored."""
    account = replace(open_account(id=ports.ids.new_id(), name="Acme", now=now(ports)), **changes)
    await ports.accounts.insert(account)
    return account


def new_contact(ports: Ports, account: Account, **fields: Any) -> Contact:
    """A non-marketing contact of the account created through the API now, with `fields`."""
    at = now(ports)
    values: dict[str, Any] = {
        "created_via": CreationSource.API,
        "created_at": at,
        "updated_at": at,
        "state": MarketingState.NON_MARKETING,
        "status_source": USER,
        "status_changed_at": at,
        **fields,
    }
    return Contact(id=ports.ids.new_id(at=values["created_at"]), account_id=account.id, **values)


async def store(ports: Ports, account: Account, *contacts: Contact) -> list[Contact]:
    """Create the contacts in one batch that leaves the account as it is."""
    await ports.writer.commit(ChangeBatch(account, account, created=tuple(contacts)))
    return list(contacts)


async def stored_contacts(
    ports: Ports, account: Account, count: int, **fields: Any
) -> list[Contact]:
    """`count` contacts with addresses of their own, created in one batch."""
    made = [
        new_contact(ports, account, email=f"c-{ports.ids.new_id()}@example.com", **fields)
        for _ in range(count)
    ]
    return await store(ports, account, *made)


async def moved(
    ports: Ports, account: Account, contact: Contact, to: MarketingState
) -> tuple[Account, StatusUpdate]:
    """Commit the contact's move to `to` with its history entry; the account after it."""
    update = move_to(contact, to, USER, now(ports))
    after = replace(account, revision=account.revision + 1)
    await ports.writer.commit(
        ChangeBatch(account, after, status_updates=(update,), history=history_of([update]))
    )
    return after, update


def new_operation(ports: Ports, account: Account, **fields: Any) -> BulkOperation:
    """A QUEUED operation of the account, made now: every contact to MARKETING by default."""
    values: dict[str, Any] = {
        "target": MarketingStatus.MARKETING,
        "selection": Selection(filter=ContactFilter()),
        "status": BulkOperationStatus.QUEUED,
        "created_at": now(ports),
        "requested_by": "tester",
        **fields,
    }
    return BulkOperation(id=ports.ids.new_id(), account_id=account.id, **values)


async def queued_operation(ports: Ports, account: Account, **fields: Any) -> BulkOperation:
    operation = new_operation(ports, account, **fields)
    assert await ports.operations.insert(operation, None) is None
    return operation


def tier_change(ports: Ports, to_limit: int) -> TierChange:
    return TierChange(
        from_limit=to_limit - 1000,
        to_limit=to_limit,
        at=now(ports),
        charge_date=date(2025, 2, 1),
        prorated_amount=Decimal("12.34"),
        marketing_contacts=to_limit - 10,
    )


def alert(at: datetime, threshold: int = 75) -> TierAlert:
    return TierAlert(
        kind=TierAlertKind.THRESHOLD_REACHED,
        threshold=threshold,
        marketing_contacts=threshold * 10,
        tier_limit=1000,
        at=at,
        period_start=date(2025, 1, 1),
    )


async def raise_alerts(ports: Ports, account: Account, *alerts: TierAlert) -> Committed:
    """Commit the alerts in one batch (each its own record, awaiting delivery)."""
    return await ports.writer.commit(ChangeBatch(account, account, alerts=tuple(alerts)))


async def all_pages(read: Any, first: int) -> list[Page[Any]]:
    """Every page of a connection, `first` at a time: `read(first, after)` reads one."""
    pages = [await read(first, None)]
    while pages[-1].has_next_page:
        pages.append(await read(first, pages[-1].cursors[-1]))
    return pages


def items_of(pages: Sequence[Page[Any]]) -> list[Any]:
    return [item for page in pages for item in page.items]


async def contacts_of(ports: Ports, account_id: str) -> list[Contact]:
    return (await ports.contacts.page(Scope(account_id), ContactFilter(), MAX_PAGE, None)).items


async def holdings(ports: Ports, account_id: str) -> tuple[object, ...]:
    """What the stores hold for an account, read through the ports: to show a refused write
    wrote nothing."""
    contacts = await contacts_of(ports, account_id)
    newest = {c.id: c.status_seq for c in contacts}
    histories = await ports.history.first_pages(account_id, newest, MAX_PAGE)
    return (
        await ports.accounts.get(account_id),
        contacts,
        {contact_id: page.items for contact_id, page in histories.items()},
        (await ports.tier_records.tier_changes(account_id, MAX_PAGE, None)).items,
        (await ports.tier_records.alerts(account_id, MAX_PAGE, None)).items,
        await ports.alert_outbox.awaiting(now(ports) + LATER, MAX_PAGE),
    )

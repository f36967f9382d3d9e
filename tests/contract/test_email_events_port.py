"""EmailEvents: events are kept by address whatever its case, read back newest first (by when
they happened) in pages and as first pages of many addresses at once, counted, only in their
account; recording one with the contact it marks writes both and the audit entry together."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.audit import Actor
from marketing_contacts.domain.email_events import EmailEvent, EmailEventType
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.wiring import Ports
from tests.contract.records import all_pages, items_of, new_contact, now, store, stored_account

HOUR = timedelta(hours=1)


def event(
    ports: Ports, account: Account, email: str, hours_ago: int, kind: str = "SENT"
) -> EmailEvent:
    at = now(ports) - hours_ago * HOUR
    return EmailEvent(
        id=ports.ids.new_id(at=at),
        account_id=account.id,
        email=email,
        type=EmailEventType(kind),
        occurred_at=at,
        campaign_id="spring",
    )


async def test_c7_an_addresss_events_read_back_newest_first_in_any_case(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    old = event(ports, account, "Ada@Example.com", 5)
    new = event(ports, account, "ada@example.com", 1, "OPENED")
    middle = event(ports, account, "ADA@example.com", 3, "DELIVERED")
    for made in (old, new, middle, event(ports, other, "ada@example.com", 2)):
        await ports.email_events.record(made)
    await ports.email_events.record(event(ports, account, "bob@example.com", 2))
    pages = await all_pages(
        lambda n, after: ports.email_events.page(account.id, "ADA@EXAMPLE.COM", n, after), 2
    )
    assert items_of(pages) == [new, middle, old]
    assert await ports.email_events.count(account.id, "ada@example.com") == 3
    firsts = await ports.email_events.first_pages(
        account.id, ["ada@example.com", "bob@example.com", "nobody@example.com"], 2
    )
    assert firsts["ada@example.com"].items == [new, middle]
    assert firsts["ada@example.com"].has_next_page
    assert len(firsts["bob@example.com"].items) == 1
    assert not firsts["bob@example.com"].has_next_page
    assert firsts["nobody@example.com"].items == []
    assert firsts["ada@example.com"].cursors == pages[0].cursors


async def test_s6_an_event_marks_its_contact_with_its_entry_in_one_write(ports: Ports) -> None:
    account = await stored_account(ports)
    (contact,) = await store(ports, account, new_contact(ports, account, email="eve@example.com"))
    marked = replace(contact, email_hard_bounced=True, updated_at=now(ports))
    bounce = event(ports, account, "eve@example.com", 0, "HARD_BOUNCED")
    audit = ports.audit_entry(account.id, Actor("u1"), "recordEmailEvent", [bounce.id, contact.id])
    await ports.email_events.record(bounce, (contact, marked), audit)
    assert await ports.contacts.get(Scope(account.id), contact.id) == marked
    assert (await ports.audit.page(Scope(account.id), contact.id, 10, None)).items == [audit]
    assert await ports.contacts.by_email(Scope(account.id), "EVE@example.com") == marked
    assert (
        await ports.contacts.by_email(Scope(account.id, frozenset({"u9"})), "eve@example.com")
        is None
    )
    assert await ports.contacts.by_email(Scope(account.id), "nobody@example.com") is None

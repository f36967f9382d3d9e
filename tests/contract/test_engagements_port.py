"""EngagementStore: an engagement is associated with the records it names while they hold fewer
than the limit (C6), else listed as not associated; every record it names gets its activity
dates moved, never back (C12, the last contact only by a call, an email or a meeting); a
record's engagements read back newest first (by when they happened) in pages and as first pages
of many records at once, counted, only in their account; which records a scope sees, by type
(P3); a deleted record leaves its engagements; the audit entry is written with the engagement."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.associations import RecordRef, RecordType
from marketing_contacts.domain.audit import Actor
from marketing_contacts.domain.companies import Company
from marketing_contacts.domain.contacts import Contact
from marketing_contacts.domain.engagements import Engagement, EngagementType
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.ports.changes import ChangeBatch
from marketing_contacts.services.wiring import Ports
from tests.contract.records import all_pages, items_of, now, stored_account, stored_contacts

HOUR = timedelta(hours=1)
CONTACT, COMPANY, DEAL = RecordType.CONTACT, RecordType.COMPANY, RecordType.DEAL
NOTE, CALL = EngagementType.NOTE, EngagementType.CALL


def engagement(
    ports: Ports, account: Account, hours_ago: float, kind: EngagementType = NOTE
) -> Engagement:
    at = now(ports) - hours_ago * HOUR
    return Engagement(
        id=ports.ids.new_id(at=at),
        account_id=account.id,
        type=kind,
        occurred_at=at,
        created_at=now(ports),
        body="Talked about the renewal.\nCall back in May.",
        owner_id="u1",
    )


async def stored_company(ports: Ports, account: Account, owner_id: str | None = None) -> Company:
    at = now(ports)
    company = Company(
        id=ports.ids.new_id(at=at),
        account_id=account.id,
        name="Engines",
        created_at=at,
        updated_at=at,
        owner_id=owner_id,
    )
    await ports.companies.insert(company)
    return company


async def contact_as_stored(ports: Ports, contact: Contact) -> Contact:
    found = await ports.contacts.get(Scope(contact.account_id), contact.id)
    assert found is not None
    return found


async def company_as_stored(ports: Ports, company: Company) -> Company:
    found = await ports.companies.get(Scope(company.account_id), company.id)
    assert found is not None
    return found


def refs(*records: Contact | Company) -> list[RecordRef]:
    return [RecordRef(CONTACT if isinstance(r, Contact) else COMPANY, r.id) for r in records]


async def test_c6_a_records_engagements_read_back_newest_first(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    ada, bob = await stored_contacts(ports, account, 2)
    (stranger,) = await stored_contacts(ports, other, 1)
    store = ports.engagements
    old, new, middle = (engagement(ports, account, hours) for hours in (5, 1, 3))
    for made in (old, new, middle):
        logged = await store.log(made, refs(ada), 10)
        assert logged.associated_ids == (ada.id,)
    await store.log(engagement(ports, account, 2), refs(bob), 10)
    await store.log(engagement(ports, other, 2), refs(stranger), 10)
    pages = await all_pages(lambda n, after: store.page(account.id, ada.id, n, after), 2)
    assert [e.id for e in items_of(pages)] == [new.id, middle.id, old.id]
    assert items_of(pages)[0] == replace(new, associated_ids=(ada.id,))
    assert await store.count(account.id, ada.id) == 3
    assert await store.count(other.id, ada.id) == 0
    firsts = await store.first_pages(account.id, [ada.id, bob.id, "nobody"], 2)
    assert [e.id for e in firsts[ada.id].items] == [new.id, middle.id]
    assert firsts[ada.id].has_next_page
    assert firsts[ada.id].cursors == pages[0].cursors
    assert len(firsts[bob.id].items) == 1
    assert not firsts[bob.id].has_next_page
    assert firsts["nobody"].items == []


async def test_c6_past_the_limit_an_engagement_is_logged_without_the_record(
    ports: Ports,
) -> None:
    account = await stored_account(ports)
    ada, bob = await stored_contacts(ports, account, 2)
    company = await stored_company(ports, account)
    store = ports.engagements
    for hours in (4, 3):
        await store.log(engagement(ports, account, hours), refs(ada, company), 2)
    third = await store.log(engagement(ports, account, 1), refs(ada, bob, company), 2)
    assert (third.associated_ids, third.not_associated_ids) == ((bob.id,), (ada.id, company.id))
    assert await store.count(account.id, ada.id) == 2
    assert await store.count(account.id, company.id) == 2
    assert [e.id for e in (await store.page(account.id, bob.id, 10, None)).items] == [third.id]
    # a higher limit (the setting raised) makes room again
    fourth = await store.log(engagement(ports, account, 0), refs(ada), 3)
    assert fourth.associated_ids == (ada.id,)


async def test_c12_logging_moves_the_activity_dates_and_never_back(ports: Ports) -> None:
    account = await stored_account(ports)
    (ada,) = await stored_contacts(ports, account, 1)
    company = await stored_company(ports, account)
    store = ports.engagements
    note = engagement(ports, account, 3, NOTE)
    await store.log(note, refs(ada, company), 10)
    assert (await contact_as_stored(ports, ada)).last_activity_at == note.occurred_at
    assert (await contact_as_stored(ports, ada)).last_contacted_at is None
    call = engagement(ports, account, 2, CALL)
    await store.log(call, refs(ada, company), 10)
    older = engagement(ports, account, 5, CALL)
    await store.log(older, refs(ada, company), 10)
    for stored in (await contact_as_stored(ports, ada), await company_as_stored(ports, company)):
        assert (stored.last_activity_at, stored.last_contacted_at) == (
            call.occurred_at,
            call.occurred_at,
        )
    # past the limit, the dates move all the same
    latest = engagement(ports, account, 1, NOTE)
    logged = await store.log(latest, refs(ada), 1)
    assert logged.not_associated_ids == (ada.id,)
    moved = await contact_as_stored(ports, ada)
    assert (moved.last_activity_at, moved.last_contacted_at) == (
        latest.occurred_at,
        call.occurred_at,
    )


async def test_c6_the_engagement_and_its_entry_are_written_together(ports: Ports) -> None:
    account = await stored_account(ports)
    (ada,) = await stored_contacts(ports, account, 1)
    made = engagement(ports, account, 1)
    ghost = ports.ids.new_id()  # named, and gone before the engagement reached it
    audit = ports.audit_entry(account.id, Actor("u1"), "logEngagement", [made.id, ada.id, ghost])
    logged = await ports.engagements.log(made, [*refs(ada), RecordRef(CONTACT, ghost)], 10, audit)
    assert (logged.associated_ids, logged.not_associated_ids) == ((ada.id,), ())
    (entry,) = (await ports.audit.page(Scope(account.id), made.id, 10, None)).items
    assert entry.action == "logEngagement"
    assert entry.record_ids == (made.id, ada.id)


async def test_p3_the_records_a_scope_sees_by_type(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    (mine,) = await stored_contacts(ports, account, 1, owner_id="u1")
    (theirs,) = await stored_contacts(ports, account, 1, owner_id="u2")
    (stranger,) = await stored_contacts(ports, other, 1)
    company = await stored_company(ports, account, owner_id="u2")
    named = [mine.id, theirs.id, stranger.id, company.id, "not an id"]
    store = ports.engagements
    assert await store.seen(Scope(account.id), CONTACT, named) == {mine.id, theirs.id}
    owned = Scope(account.id, frozenset({"u1"}))
    assert await store.seen(owned, CONTACT, named) == {mine.id}
    assert await store.seen(Scope(account.id), COMPANY, named) == {company.id}
    assert await store.seen(owned, COMPANY, named) == set()
    assert await store.seen(Scope(account.id), DEAL, named) == set()


async def test_c6_a_deleted_record_leaves_its_engagements(ports: Ports) -> None:
    account = await stored_account(ports)
    ada, bob = await stored_contacts(ports, account, 2)
    company = await stored_company(ports, account)
    logged = await ports.engagements.log(engagement(ports, account, 1), refs(ada, bob, company), 10)
    await ports.writer.commit(ChangeBatch(account, account, deleted=(ada,)))
    assert await ports.companies.delete(account.id, company.id)
    (kept,) = (await ports.engagements.page(account.id, bob.id, 10, None)).items
    assert (kept.id, kept.associated_ids) == (logged.id, (bob.id,))
    assert await ports.engagements.count(account.id, ada.id) == 0
    assert await ports.engagements.count(account.id, company.id) == 0

"""DealStore: deals read back whole, only in their account and within a scope of owners (P3), in
creation order with keyset cursors, all of them or one record's, and a page of records' first
pages at once with their totals; a write that changes a deal's records or stage moves those
records forward in the same write (C5: an open deal makes opportunities, a won one customers, a
lost one nobody, and nobody moves back, C3); a deal holds at most `limit` records of a type; a
write whose records are gone writes nothing; each write records its audit entry."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.associations import DealRecord, RecordRef, RecordType
from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.deals import Deal, DealStage
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.ports.changes import ChangeBatch
from marketing_contacts.services.wiring import Ports
from tests.contract.records import all_pages, items_of, now, stored_account, stored_contacts
from tests.contract.test_companies_port import entry, reread, stored_company

S = LifecycleStage
CONTACT, COMPANY = RecordType.CONTACT, RecordType.COMPANY


def new_deal(ports: Ports, account: Account, name: str, stage: DealStage, **fields: Any) -> Deal:
    at = now(ports)
    return Deal(
        id=ports.ids.new_id(at=at),
        account_id=account.id,
        name=name,
        stage=stage,
        created_at=at,
        updated_at=at,
        **fields,
    )


async def stored_deal(
    ports: Ports, account: Account, name: str, stage: DealStage, **fields: Any
) -> Deal:
    deal = new_deal(ports, account, name, stage, **fields)
    assert await ports.deals.insert(deal)
    return deal


async def stage_of(ports: Ports, account: Account, contact_id: str) -> S | None:
    return (await reread(ports, account, contact_id)).lifecycle_stage


async def test_a_deal_reads_back_whole_only_in_its_account_and_scope(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    deal = await stored_deal(
        ports,
        account,
        "Renewal",
        DealStage.CONTRACT_SENT,
        amount=Decimal("1200.50"),
        close_date=date(2027, 1, 31),
        owner_id="u1",
    )
    assert await ports.deals.get(Scope(account.id), deal.id) == deal
    assert await ports.deals.get(Scope(other.id), deal.id) is None
    assert await ports.deals.get(Scope(account.id, frozenset({"u1"})), deal.id) == deal
    assert await ports.deals.get(Scope(account.id, frozenset({"u2"})), deal.id) is None
    assert await ports.deals.get(Scope(account.id), "not-an-id") is None
    assert await ports.deals.count(Scope(account.id, frozenset({"u2"}))) == 0


async def test_c5_a_new_deal_moves_its_records_forward_in_its_write(ports: Ports) -> None:
    account = await stored_account(ports)
    lead, customer, none = await stored_contacts(ports, account, 3, lifecycle_stage=S.LEAD)
    await ports.contacts.update_fields(customer, replace(customer, lifecycle_stage=S.CUSTOMER))
    await ports.contacts.update_fields(none, replace(none, lifecycle_stage=None))
    company = await stored_company(ports, account, "Acme", lifecycle_stage=S.EVANGELIST)
    audit = entry(ports, account, "createDeal")
    deal = new_deal(
        ports,
        account,
        "Renewal",
        DealStage.APPOINTMENT_SCHEDULED,
        contact_ids=(lead.id, customer.id, none.id),
        company_ids=(company.id,),
    )
    assert await ports.deals.insert(deal, audit)
    assert [await stage_of(ports, account, c.id) for c in (lead, customer, none)] == [
        S.OPPORTUNITY,
        S.CUSTOMER,
        S.OPPORTUNITY,
    ]
    found = await ports.companies.get(Scope(account.id), company.id)
    assert found is not None and found.lifecycle_stage is S.EVANGELIST
    assert (await ports.audit.page(Scope(account.id), None, 10, None)).items[0] == audit


async def test_a_deal_whose_record_is_gone_is_not_written(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    (person,) = await stored_contacts(ports, account, 1, lifecycle_stage=S.LEAD)
    (foreign,) = await stored_contacts(ports, other, 1)
    for named in ({"contact_ids": (person.id, foreign.id)}, {"company_ids": ("0" * 24,)}):
        deal = new_deal(ports, account, "A", DealStage.CLOSED_WON, **named)
        assert not await ports.deals.insert(deal, entry(ports, account, "createDeal", deal.id))
        assert await ports.deals.get(Scope(account.id), deal.id) is None
    assert await stage_of(ports, account, person.id) is S.LEAD
    assert (await ports.audit.page(Scope(account.id), None, 10, None)).items == []


async def test_c5_a_won_deal_makes_customers_and_a_lost_one_moves_nobody(ports: Ports) -> None:
    account = await stored_account(ports)
    both, only_lost = await stored_contacts(ports, account, 2, lifecycle_stage=S.LEAD)
    company = await stored_company(ports, account, "Acme")
    won = await stored_deal(
        ports,
        account,
        "Won",
        DealStage.CONTRACT_SENT,
        contact_ids=(both.id,),
        company_ids=(company.id,),
    )
    lost = await stored_deal(
        ports, account, "Lost", DealStage.CONTRACT_SENT, contact_ids=(both.id, only_lost.id)
    )
    later = now(ports)
    audit = entry(ports, account, "updateDeal", won.id)
    winning = replace(won, stage=DealStage.CLOSED_WON, updated_at=later)
    assert await ports.deals.update_fields(won, winning, audit)
    assert await stage_of(ports, account, both.id) is S.CUSTOMER
    found = await ports.companies.get(Scope(account.id), company.id)
    assert found is not None and found.lifecycle_stage is S.CUSTOMER
    assert await ports.deals.update_fields(lost, replace(lost, stage=DealStage.CLOSED_LOST))
    assert await stage_of(ports, account, both.id) is S.CUSTOMER
    assert await stage_of(ports, account, only_lost.id) is S.OPPORTUNITY
    assert await ports.deals.get(Scope(account.id), won.id) == winning
    assert (await ports.audit.page(Scope(account.id), won.id, 10, None)).items[0] == audit
    gone = replace(new_deal(ports, account, "Gone", DealStage.CONTRACT_SENT))
    assert not await ports.deals.update_fields(gone, replace(gone, name="Other"))


async def test_c5_an_association_moves_the_record_and_a_deal_holds_its_limit(
    ports: Ports,
) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    people = await stored_contacts(ports, account, 3, lifecycle_stage=S.SUBSCRIBER)
    (foreign,) = await stored_contacts(ports, other, 1)
    deal = await stored_deal(ports, account, "A", DealStage.QUALIFIED_TO_BUY)
    at = now(ports)
    audit = entry(ports, account, "associate", deal.id, people[0].id)
    assert await ports.deals.associate(
        account.id, DealRecord(deal.id, CONTACT, people[0].id), 2, at, audit
    )
    assert await stage_of(ports, account, people[0].id) is S.OPPORTUNITY
    assert (await reread(ports, account, people[0].id)).updated_at == at
    assert await ports.deals.associate(
        account.id, DealRecord(deal.id, CONTACT, people[1].id), 2, at
    )
    assert not await ports.deals.associate(
        account.id, DealRecord(deal.id, CONTACT, people[2].id), 2, at
    )
    # associated already: still room for it
    assert await ports.deals.associate(
        account.id, DealRecord(deal.id, CONTACT, people[1].id), 2, at
    )
    assert not await ports.deals.associate(
        account.id, DealRecord(deal.id, CONTACT, foreign.id), 5, at
    )
    assert not await ports.deals.associate(
        account.id, DealRecord("0" * 24, CONTACT, people[2].id), 5, at
    )
    assert await stage_of(ports, account, people[2].id) is S.SUBSCRIBER
    found = await ports.deals.get(Scope(account.id), deal.id)
    assert found is not None and found.contact_ids == (people[0].id, people[1].id)
    assert (await ports.audit.page(Scope(account.id), deal.id, 10, None)).items == [audit]


async def test_dissociating_and_deleting_keep_the_records_stages(ports: Ports) -> None:
    account = await stored_account(ports)
    (person,) = await stored_contacts(ports, account, 1, lifecycle_stage=S.LEAD)
    company = await stored_company(ports, account, "Acme")
    deal = await stored_deal(
        ports,
        account,
        "A",
        DealStage.CLOSED_WON,
        contact_ids=(person.id,),
        company_ids=(company.id,),
    )
    audit = entry(ports, account, "dissociate", deal.id, company.id)
    assert await ports.deals.dissociate(account.id, DealRecord(deal.id, COMPANY, company.id), audit)
    assert not await ports.deals.dissociate(account.id, DealRecord(deal.id, COMPANY, company.id))
    found = await ports.deals.get(Scope(account.id), deal.id)
    assert found is not None and found.company_ids == ()
    removal = entry(ports, account, "deleteDeal", deal.id)
    assert await ports.deals.delete(account.id, deal.id, removal)
    assert not await ports.deals.delete(account.id, deal.id)
    assert await ports.deals.get(Scope(account.id), deal.id) is None
    assert await stage_of(ports, account, person.id) is S.CUSTOMER
    entries = (await ports.audit.page(Scope(account.id), deal.id, 10, None)).items
    assert entries == [removal, audit]


async def test_a_records_deals_page_in_creation_order_alone_or_a_page_of_records_at_once(
    ports: Ports,
) -> None:
    account = await stored_account(ports)
    one, two, none = await stored_contacts(ports, account, 3)
    deals = [
        await stored_deal(
            ports,
            account,
            f"D{i}",
            DealStage.CLOSED_LOST,
            contact_ids=(one.id, two.id) if i % 2 else (one.id,),
            owner_id="u1" if i < 3 else "u2",
        )
        for i in range(5)
    ]
    scope = Scope(account.id)
    of_one = RecordRef(CONTACT, one.id)
    pages = await all_pages(lambda first, after: ports.deals.page(scope, first, after, of_one), 2)
    assert [d.id for d in items_of(pages)] == [d.id for d in deals]
    assert await ports.deals.count(scope, RecordRef(CONTACT, two.id)) == 2
    everything = await all_pages(lambda first, after: ports.deals.page(scope, first, after), 3)
    assert len(items_of(everything)) == 5
    firsts = await ports.deals.first_pages(scope, CONTACT, [one.id, two.id, none.id], 2)
    assert [d.id for d in firsts[one.id].page.items] == [deals[0].id, deals[1].id]
    assert (firsts[one.id].total, firsts[one.id].page.has_next_page) == (5, True)
    assert [d.id for d in firsts[two.id].page.items] == [deals[1].id, deals[3].id]
    assert (firsts[two.id].total, firsts[two.id].page.has_next_page) == (2, False)
    assert (firsts[none.id].page.items, firsts[none.id].total) == ([], 0)
    owned = await ports.deals.first_pages(
        Scope(account.id, frozenset({"u2"})), CONTACT, [one.id], 5
    )
    assert [d.id for d in owned[one.id].page.items] == [deals[3].id, deals[4].id]
    assert owned[one.id].total == 2
    after = firsts[one.id].page.cursors[-1]
    rest = await ports.deals.page(scope, 10, after, of_one)
    assert [d.id for d in rest.items] == [d.id for d in deals[2:]]


async def test_a_deleted_contact_or_company_leaves_its_deals(ports: Ports) -> None:
    account = await stored_account(ports)
    gone, kept = await stored_contacts(ports, account, 2)
    company = await stored_company(ports, account, "Gone")
    deal = await stored_deal(
        ports,
        account,
        "A",
        DealStage.CONTRACT_SENT,
        contact_ids=(gone.id, kept.id),
        company_ids=(company.id,),
    )
    stored = await reread(ports, account, gone.id)
    await ports.writer.commit(ChangeBatch(account, account, deleted=(stored,)))
    assert await ports.companies.delete(account.id, company.id)
    found = await ports.deals.get(Scope(account.id), deal.id)
    assert found is not None
    assert (found.contact_ids, found.company_ids) == ((kept.id,), ())
    assert await ports.deals.count(Scope(account.id), RecordRef(CONTACT, gone.id)) == 0

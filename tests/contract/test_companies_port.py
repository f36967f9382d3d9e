"""CompanyStore: companies read back whole, only in their account and within a scope of owners
(P3), in creation order with keyset cursors; every filter field selects the same companies on
both sides; a contact's associations live on the contact, the first company or the one asked
for is primary, at most `limit` of them; deleting a company takes its associations, not its
contacts; each write records its audit entry."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.associations import ContactCompany
from marketing_contacts.domain.audit import Actor, AuditEntry
from marketing_contacts.domain.companies import Company, CompanyFilter
from marketing_contacts.domain.contacts import Contact, LifecycleStage
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.wiring import Ports
from tests.contract.records import all_pages, items_of, now, stored_account, stored_contacts


def new_company(ports: Ports, account: Account, name: str, **fields: Any) -> Company:
    at = now(ports)
    return Company(
        id=ports.ids.new_id(at=at),
        account_id=account.id,
        name=name,
        created_at=at,
        updated_at=at,
        **fields,
    )


async def stored_company(ports: Ports, account: Account, name: str, **fields: Any) -> Company:
    company = new_company(ports, account, name, **fields)
    await ports.companies.insert(company)
    return company


def entry(ports: Ports, account: Account, action: str, *ids: str) -> AuditEntry:
    return ports.audit_entry(account.id, Actor("u1", "t1", "r1"), action, ids)


async def contact(ports: Ports, account: Account) -> Contact:
    found = await ports.contacts.get(
        Scope(account.id), (await stored_contacts(ports, account, 1))[0].id
    )
    assert found is not None
    return found


async def reread(ports: Ports, account: Account, contact_id: str) -> Contact:
    found = await ports.contacts.get(Scope(account.id), contact_id)
    assert found is not None
    return found


async def test_a_company_reads_back_whole_only_in_its_account_and_scope(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    company = await stored_company(
        ports,
        account,
        "Analytical Engines",
        domain="engines.io",
        owner_id="u1",
        lifecycle_stage=LifecycleStage.LEAD,
    )
    assert await ports.companies.get(Scope(account.id), company.id) == company
    assert await ports.companies.get(Scope(other.id), company.id) is None
    assert await ports.companies.get(Scope(account.id, frozenset({"u1"})), company.id) == company
    assert await ports.companies.get(Scope(account.id, frozenset({"u2"})), company.id) is None
    assert await ports.companies.get(Scope(account.id), "not-an-id") is None
    assert await ports.companies.get_many(Scope(account.id), [company.id, "x"]) == [company]
    assert await ports.companies.get_many(Scope(account.id, frozenset({"u2"})), [company.id]) == []


async def test_pages_run_in_creation_order_and_filters_select_alike(ports: Ports) -> None:
    account = await stored_account(ports)
    await stored_account(ports)
    made = {
        "acme": await stored_company(ports, account, "Acme", domain="acme.io", owner_id="u1"),
        "acorn": await stored_company(ports, account, "Acorn Ltd", domain="oak.org"),
        "beta": await stored_company(ports, account, "Beta", domain="acme.org", owner_id="u2"),
        "zed": await stored_company(ports, account, "Zed", owner_id="u1"),
    }
    names = {company.id: name for name, company in made.items()}

    async def selected(where: CompanyFilter, scope: Scope | None = None) -> str:
        seen = scope or Scope(account.id)
        pages = await all_pages(lambda n, a: ports.companies.page(seen, where, n, a), 1)
        found = items_of(pages)
        assert await ports.companies.count(seen, where) == len(found)
        return " ".join(names[company.id] for company in found)

    assert await selected(CompanyFilter()) == "acme acorn beta zed"
    assert await selected(CompanyFilter(search="AC")) == "acme acorn beta"  # acme.org's domain
    assert await selected(CompanyFilter(search="acme.i")) == "acme"
    assert await selected(CompanyFilter(search="ltd")) == ""  # a prefix, not a word inside
    assert await selected(CompanyFilter(search=" ")) == "acme acorn beta zed"
    assert await selected(CompanyFilter(domain="ACME.io")) == "acme"
    assert await selected(CompanyFilter(owner_id="u1")) == "acme zed"
    assert await selected(CompanyFilter(owner_id="u1", search="z")) == "zed"
    owned = Scope(account.id, frozenset({"u1"}))
    assert await selected(CompanyFilter(), owned) == "acme zed"
    assert await selected(CompanyFilter(owner_id="u2"), owned) == ""


async def test_an_edit_writes_what_differs_and_is_found_by_its_new_name(ports: Ports) -> None:
    account = await stored_account(ports)
    company = await stored_company(ports, account, "Old Name", domain="old.io")
    edited = replace(company, name="New Name", domain=None, updated_at=now(ports))
    audit = entry(ports, account, "updateCompany", company.id)
    await ports.companies.update_fields(company, edited, audit)
    assert await ports.companies.get(Scope(account.id), company.id) == edited
    page = await ports.companies.page(Scope(account.id), CompanyFilter(search="new"), 10, None)
    assert page.items == [edited]
    assert (
        await ports.companies.page(Scope(account.id), CompanyFilter(search="old"), 10, None)
    ).items == []
    assert (await ports.audit.page(Scope(account.id), company.id, 10, None)).items == [audit]


async def test_c2_the_first_company_is_primary_until_another_is_asked_for(ports: Ports) -> None:
    account = await stored_account(ports)
    person = await contact(ports, account)
    one = await stored_company(ports, account, "One")
    two = await stored_company(ports, account, "Two")
    audit = entry(ports, account, "associate", person.id, one.id)
    assert await ports.companies.associate(account.id, ContactCompany(person.id, one.id), 10, audit)
    assert await ports.companies.associate(account.id, ContactCompany(person.id, two.id), 10)
    after = await reread(ports, account, person.id)
    assert (after.company_ids, after.primary_company_id) == (frozenset({one.id, two.id}), one.id)
    assert after.company_name == person.company_name  # C2: the free text stays
    pair = ContactCompany(person.id, two.id, primary=True)
    assert await ports.companies.associate(account.id, pair, 10)  # again: now primary
    assert (await reread(ports, account, person.id)).primary_company_id == two.id
    members = await ports.contacts.page(
        Scope(account.id), ContactFilter(company_id=one.id), 10, None
    )
    assert [c.id for c in members.items] == [person.id]
    assert (await ports.audit.page(Scope(account.id), person.id, 10, None)).items == [audit]


async def test_c2_an_association_needs_both_records_and_room(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    person = await contact(ports, account)
    companies = [await stored_company(ports, account, f"C{i}") for i in range(3)]
    foreign = await stored_company(ports, other, "Foreign")
    audit = entry(ports, account, "associate", person.id, foreign.id)
    assert not await ports.companies.associate(
        account.id, ContactCompany(person.id, foreign.id), 2, audit
    )
    assert not await ports.companies.associate(
        account.id, ContactCompany("0" * 24, companies[0].id), 2
    )
    for company in companies[:2]:
        assert await ports.companies.associate(account.id, ContactCompany(person.id, company.id), 2)
    assert not await ports.companies.associate(
        account.id, ContactCompany(person.id, companies[2].id), 2
    )
    # associated already: still room for it
    assert await ports.companies.associate(
        account.id, ContactCompany(person.id, companies[1].id), 2
    )
    assert (await reread(ports, account, person.id)).company_ids == {c.id for c in companies[:2]}
    assert (await ports.audit.page(Scope(account.id), person.id, 10, None)).items == []


async def test_c2_dissociating_the_primary_leaves_no_primary(ports: Ports) -> None:
    account = await stored_account(ports)
    person = await contact(ports, account)
    one = await stored_company(ports, account, "One")
    two = await stored_company(ports, account, "Two")
    for company in (one, two):
        await ports.companies.associate(account.id, ContactCompany(person.id, company.id), 10)
    audit = entry(ports, account, "dissociate", person.id, one.id)
    assert await ports.companies.dissociate(account.id, ContactCompany(person.id, one.id), audit)
    after = await reread(ports, account, person.id)
    assert (after.company_ids, after.primary_company_id) == (frozenset({two.id}), None)
    assert not await ports.companies.dissociate(account.id, ContactCompany(person.id, one.id))
    assert (await ports.audit.page(Scope(account.id), one.id, 10, None)).items == [audit]


async def test_c2_deleting_a_company_takes_its_associations_not_its_contacts(
    ports: Ports,
) -> None:
    account = await stored_account(ports)
    first, second = await stored_contacts(ports, account, 2)
    gone = await stored_company(ports, account, "Gone")
    kept = await stored_company(ports, account, "Kept")
    for person in (first, second):
        await ports.companies.associate(account.id, ContactCompany(person.id, gone.id), 10)
    await ports.companies.associate(account.id, ContactCompany(second.id, kept.id), 10)
    audit = entry(ports, account, "deleteCompany", gone.id)
    assert await ports.companies.delete(account.id, gone.id, audit)
    assert await ports.companies.get(Scope(account.id), gone.id) is None
    one, two = await reread(ports, account, first.id), await reread(ports, account, second.id)
    assert (one.company_ids, one.primary_company_id) == (frozenset(), None)
    assert (two.company_ids, two.primary_company_id) == (frozenset({kept.id}), None)
    assert not await ports.companies.delete(account.id, gone.id)
    assert (await ports.audit.page(Scope(account.id), gone.id, 10, None)).items == [audit]


@pytest.mark.parametrize("scope_owners", [None, frozenset({"u1"})])
async def test_a_contact_page_of_a_company_keeps_the_scope(
    ports: Ports, scope_owners: frozenset[str] | None
) -> None:
    account = await stored_account(ports)
    mine, theirs = await stored_contacts(ports, account, 2)
    await ports.contacts.update_fields(mine, replace(mine, owner_id="u1"))
    company = await stored_company(ports, account, "Shared")
    for person in (mine, theirs):
        await ports.companies.associate(account.id, ContactCompany(person.id, company.id), 10)
    scope = Scope(account.id, scope_owners)
    page = await ports.contacts.page(scope, ContactFilter(company_id=company.id), 10, None)
    expected = {mine.id} if scope_owners else {mine.id, theirs.id}
    assert {c.id for c in page.items} == expected

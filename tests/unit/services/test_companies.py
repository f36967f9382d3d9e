"""Companies over the fakes (C1, C2, C3, P3, P4): what createCompany, updateCompany,
deleteCompany, associate and dissociate refuse, with the field at fault, and change nothing
then; what they write, each with its audit entry; a user limited to OWNED sees the companies it
owns, and an association naming a record it does not see is NOT_FOUND like a missing one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from marketing_contacts.domain.associations import Association, RecordType
from marketing_contacts.domain.companies import MAX_COMPANIES_PER_CONTACT, CompanyFilter
from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.errors import ErrorCode
from marketing_contacts.domain.users import RecordVisibility
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.companies import CompanyDraft
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.services.registry import Services
from marketing_contacts.services.users import UserDraft
from tests.unit.services.fakes import FakeWorld, codes_and_fields, fake_services, open_account

CONTACT, COMPANY = RecordType.CONTACT, RecordType.COMPANY
INVALID, NOT_FOUND = ErrorCode.INVALID, ErrorCode.NOT_FOUND


async def as_user(services: Services, admin: Caller, visibility: RecordVisibility) -> Caller:
    user = await services.users.create(
        admin, UserDraft(name="Sam", email="sam@example.com", visibility=visibility)
    )
    _, secret = await services.tokens.issue(user, "tests")
    caller = await services.tokens.authenticate(secret)
    assert caller is not None
    return caller


async def setup() -> tuple[Services, FakeWorld, Caller]:
    services, world = fake_services()
    return services, world, await open_account(services)


async def refused(call: Any) -> list[tuple[ErrorCode, tuple[str, ...]]]:
    with pytest.raises(Exception) as error:
        await call
    return codes_and_fields(error.value)


async def test_a_company_is_created_with_its_fields_normalised_and_its_entry() -> None:
    services, world, admin = await setup()
    draft = CompanyDraft(
        name="  Acme ",
        domain="ACME.io",
        owner_id=admin.user_id,
        lifecycle_stage=LifecycleStage.LEAD,
    )
    company = await services.companies.create(admin, draft)
    assert (company.name, company.domain, company.owner_id) == ("Acme", "acme.io", admin.user_id)
    assert await services.companies.get(admin, company.id) == company
    assert [(e.action, e.record_ids) for e in world.data.audit][-1] == (
        "createCompany",
        (company.id,),
    )


@pytest.mark.parametrize(
    ("draft", "errors"),
    [
        (CompanyDraft(name=" "), [(INVALID, ("name",))]),
        (CompanyDraft(name="Acme", domain="https://acme.io"), [(INVALID, ("domain",))]),
        (CompanyDraft(name="Acme", owner_id="0" * 24), [(NOT_FOUND, ("owner_id",))]),
    ],
)
async def test_a_bad_company_is_refused_at_its_field_and_nothing_is_written(
    draft: CompanyDraft, errors: list[tuple[ErrorCode, tuple[str, ...]]]
) -> None:
    services, world, admin = await setup()
    entries = len(world.data.audit)
    assert await refused(services.companies.create(admin, draft)) == errors
    assert world.data.companies == {}
    assert len(world.data.audit) == entries


async def test_c3_an_update_moves_a_stage_back_only_after_clearing_it() -> None:
    services, world, admin = await setup()
    stage = LifecycleStage
    company = await services.companies.create(
        admin, CompanyDraft(name="Acme", lifecycle_stage=stage.CUSTOMER)
    )
    back = services.companies.update(admin, company.id, {"lifecycle_stage": stage.LEAD})
    assert await refused(back) == [(INVALID, ("lifecycle_stage",))]
    await services.companies.update(admin, company.id, {"lifecycle_stage": None})
    lead = await services.companies.update(admin, company.id, {"lifecycle_stage": stage.LEAD})
    assert lead.lifecycle_stage is stage.LEAD
    renamed = await services.companies.update(admin, company.id, {"name": "Acme 2", "domain": None})
    assert (renamed.name, renamed.domain) == ("Acme 2", None)
    assert await refused(services.companies.update(admin, company.id, {"name": None})) == [
        (INVALID, ("name",))
    ]
    actions = [e.action for e in world.data.audit if company.id in e.record_ids]
    assert actions == ["createCompany", "updateCompany", "updateCompany", "updateCompany"]


async def test_an_update_that_changes_nothing_writes_nothing() -> None:
    services, world, admin = await setup()
    company = await services.companies.create(admin, CompanyDraft(name="Acme"))
    entries = len(world.data.audit)
    assert await services.companies.update(admin, company.id, {"name": "Acme"}) == company
    assert len(world.data.audit) == entries


async def test_c2_associating_from_either_side_makes_the_first_company_primary() -> None:
    services, world, admin = await setup()
    person = await services.contacts.create(admin, ContactDraft(company_name="Free text"))
    one = await services.companies.create(admin, CompanyDraft(name="One"))
    two = await services.companies.create(admin, CompanyDraft(name="Two"))
    await services.associations.associate(admin, Association(CONTACT, person.id, COMPANY, one.id))
    await services.associations.associate(admin, Association(COMPANY, two.id, CONTACT, person.id))
    stored = world.contact(person.id)
    assert (stored.company_ids, stored.primary_company_id) == (frozenset({one.id, two.id}), one.id)
    assert stored.company_name == "Free text"  # C2
    primary = Association(COMPANY, two.id, CONTACT, person.id, primary=True)
    await services.associations.associate(admin, primary)
    assert world.contact(person.id).primary_company_id == two.id
    await services.associations.dissociate(admin, primary)
    assert world.contact(person.id).primary_company_id is None
    actions = [(e.action, e.record_ids) for e in world.data.audit][-4:]
    assert actions == [
        ("associate", (person.id, one.id)),
        ("associate", (person.id, two.id)),
        ("associate", (person.id, two.id)),
        ("dissociate", (person.id, two.id)),
    ]


async def test_c2_an_association_names_records_of_the_callers_scope() -> None:
    services, world, admin = await setup()
    owned = await as_user(services, admin, RecordVisibility.OWNED)
    hidden_contact = await services.contacts.create(admin, ContactDraft(owner_id=admin.user_id))
    hidden_company = await services.companies.create(admin, CompanyDraft(name="Hidden"))
    mine = await services.contacts.create(owned, ContactDraft(owner_id=owned.user_id))
    my_company = await services.companies.create(
        owned, CompanyDraft(name="Mine", owner_id=owned.user_id)
    )
    entries = len(world.data.audit)
    cases = [
        (Association(CONTACT, hidden_contact.id, COMPANY, my_company.id), ("from_id",)),
        (Association(COMPANY, my_company.id, CONTACT, hidden_contact.id), ("to_id",)),
        (Association(CONTACT, mine.id, COMPANY, hidden_company.id), ("to_id",)),
        (Association(CONTACT, mine.id, COMPANY, "0" * 24), ("to_id",)),
    ]
    for association, field in cases:
        for change in (services.associations.associate, services.associations.dissociate):
            assert await refused(change(owned, association)) == [(NOT_FOUND, field)]
    assert len(world.data.audit) == entries
    assert await services.companies.get(owned, hidden_company.id) is None
    page = await services.companies.page(owned, CompanyFilter(), 50, None)
    assert [c.id for c in page.items] == [my_company.id]
    assert await services.companies.count(owned, CompanyFilter()) == 1
    assert await refused(services.companies.delete(owned, hidden_company.id)) == [
        (NOT_FOUND, ("id",))
    ]


async def test_c2_a_contact_has_at_most_its_limit_of_companies() -> None:
    services, world, admin = await setup()
    person = await services.contacts.create(admin, ContactDraft())
    # as many companies as a contact holds, none of them the next one
    ids = frozenset(f"f{n:023x}" for n in range(MAX_COMPANIES_PER_CONTACT))
    world.data.contacts[person.id] = replace(world.contact(person.id), company_ids=ids)
    extra = await services.companies.create(admin, CompanyDraft(name="One too many"))
    association = Association(CONTACT, person.id, COMPANY, extra.id)
    assert await refused(services.associations.associate(admin, association)) == [
        (ErrorCode.TOO_MANY, ("from_id",))
    ]


async def test_c2_deleting_a_company_keeps_its_contacts() -> None:
    services, world, admin = await setup()
    person = await services.contacts.create(admin, ContactDraft())
    company = await services.companies.create(admin, CompanyDraft(name="Gone"))
    await services.associations.associate(
        admin, Association(CONTACT, person.id, COMPANY, company.id)
    )
    assert await services.companies.delete(admin, company.id) == company.id
    assert world.contact(person.id).company_ids == frozenset()
    assert await services.companies.get(admin, company.id) is None
    assert world.data.audit[-1].action == "deleteCompany"

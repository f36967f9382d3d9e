"""Deals over the fakes (C1, C3, C5, P3, P4): a deal's stage moves its contacts and companies
forward (an open deal makes opportunities, a won one customers, a lost one nobody, and nobody
falls back); what createDeal, updateDeal, deleteDeal, associate and dissociate refuse, at the
field at fault, changing nothing; a record the caller does not see is NOT_FOUND like a missing
one; each write has its audit entry."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from marketing_contacts.domain.associations import Association, RecordType
from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.deals import MAX_RECORDS_PER_DEAL, DealStage
from marketing_contacts.domain.errors import ErrorCode
from marketing_contacts.domain.users import RecordVisibility
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.companies import CompanyDraft
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.services.deals import DealDraft
from marketing_contacts.services.registry import Services
from tests.unit.services.fakes import FakeWorld, codes_and_fields, fake_services, open_account
from tests.unit.services.test_companies import as_user

S = LifecycleStage
CONTACT, COMPANY, DEAL = RecordType.CONTACT, RecordType.COMPANY, RecordType.DEAL
INVALID, NOT_FOUND, TOO_MANY = ErrorCode.INVALID, ErrorCode.NOT_FOUND, ErrorCode.TOO_MANY


async def setup() -> tuple[Services, FakeWorld, Caller]:
    services, world = fake_services()
    return services, world, await open_account(services)


async def refused(call: Any) -> list[tuple[ErrorCode, tuple[str, ...]]]:
    with pytest.raises(Exception) as error:
        await call
    return codes_and_fields(error.value)


async def contact(services: Services, caller: Caller, email: str, stage: S | None) -> str:
    draft = ContactDraft(email=email, lifecycle_stage=stage)
    return (await services.contacts.create(caller, draft)).id


def stage_of(world: FakeWorld, contact_id: str) -> S | None:
    return world.contact(contact_id).lifecycle_stage


async def test_c5_an_open_deal_makes_its_records_opportunities_and_never_moves_one_back() -> None:
    services, world, admin = await setup()
    lead = await contact(services, admin, "lead@example.com", S.LEAD)
    customer = await contact(services, admin, "cust@example.com", S.CUSTOMER)
    other = await contact(services, admin, "other@example.com", S.OTHER)
    company = await services.companies.create(admin, CompanyDraft(name="Acme"))
    draft = DealDraft(
        name="Renewal",
        stage=DealStage.QUALIFIED_TO_BUY,
        contact_ids=[lead, customer, other, lead],
        company_ids=[company.id],
    )
    deal = await services.deals.create(admin, draft)
    assert deal.contact_ids == (lead, customer, other)  # each once, in their order
    assert [stage_of(world, c) for c in (lead, customer, other)] == [
        S.OPPORTUNITY,
        S.CUSTOMER,
        S.OPPORTUNITY,
    ]
    assert world.data.companies[company.id].lifecycle_stage is S.OPPORTUNITY
    assert [(e.action, e.record_ids) for e in world.data.audit][-1] == (
        "createDeal",
        (deal.id, lead, customer, other, company.id),
    )


async def test_c5_winning_a_deal_makes_every_record_a_customer_and_losing_another_keeps_it() -> (
    None
):
    services, world, admin = await setup()
    person = await contact(services, admin, "p@example.com", S.LEAD)
    company = await services.companies.create(admin, CompanyDraft(name="Acme"))
    won = await services.deals.create(
        admin,
        DealDraft(name="A", stage=DealStage.CONTRACT_SENT, contact_ids=[person]),
    )
    lost = await services.deals.create(admin, DealDraft(name="B", stage=DealStage.CONTRACT_SENT))
    await services.associations.associate(admin, Association(COMPANY, company.id, DEAL, won.id))
    await services.associations.associate(admin, Association(DEAL, lost.id, CONTACT, person))
    await services.deals.update(admin, won.id, {"stage": DealStage.CLOSED_WON})
    assert stage_of(world, person) is S.CUSTOMER
    assert world.data.companies[company.id].lifecycle_stage is S.CUSTOMER
    await services.deals.update(admin, lost.id, {"stage": DealStage.CLOSED_LOST})
    assert stage_of(world, person) is S.CUSTOMER  # C5: a lost deal moves nobody back
    await services.deals.update(admin, lost.id, {"stage": DealStage.APPOINTMENT_SCHEDULED})
    assert stage_of(world, person) is S.CUSTOMER  # reopened: forward only (C3)


async def test_c5_a_record_associated_with_a_won_deal_becomes_a_customer() -> None:
    services, world, admin = await setup()
    person = await contact(services, admin, "p@example.com", S.SUBSCRIBER)
    won = await services.deals.create(admin, DealDraft(name="A", stage=DealStage.CLOSED_WON))
    lost = await services.deals.create(admin, DealDraft(name="B", stage=DealStage.CLOSED_LOST))
    await services.associations.associate(admin, Association(CONTACT, person, DEAL, lost.id))
    assert stage_of(world, person) is S.SUBSCRIBER  # a lost deal moves nobody
    await services.associations.associate(admin, Association(CONTACT, person, DEAL, won.id))
    assert stage_of(world, person) is S.CUSTOMER
    await services.associations.dissociate(admin, Association(CONTACT, person, DEAL, won.id))
    assert stage_of(world, person) is S.CUSTOMER  # dissociating moves nobody back
    assert (await services.deals.get(admin, won.id)).contact_ids == ()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("draft", "errors"),
    [
        (DealDraft(name=" ", stage=DealStage.CLOSED_WON), [(INVALID, ("name",))]),
        (
            DealDraft(name="A", stage=DealStage.CLOSED_WON, owner_id="0" * 24),
            [(NOT_FOUND, ("owner_id",))],
        ),
        (
            DealDraft(name="A", stage=DealStage.CLOSED_WON, contact_ids=["x" * 300]),
            [(INVALID, ("contact_ids", "0"))],
        ),
        (
            DealDraft(
                name="A", stage=DealStage.CLOSED_WON, company_ids=[f"{i:024x}" for i in range(101)]
            ),
            [(TOO_MANY, ("company_ids",))],
        ),
        (
            DealDraft(
                name="A", stage=DealStage.CLOSED_WON, contact_ids=["0" * 24], company_ids=["1" * 24]
            ),
            [(NOT_FOUND, ("contact_ids", "0")), (NOT_FOUND, ("company_ids", "0"))],
        ),
    ],
)
async def test_a_bad_deal_is_refused_at_its_field_and_nothing_is_written(
    draft: DealDraft, errors: list[tuple[ErrorCode, tuple[str, ...]]]
) -> None:
    services, world, admin = await setup()
    entries = len(world.data.audit)
    assert await refused(services.deals.create(admin, draft)) == errors
    assert world.data.deals == {}
    assert len(world.data.audit) == entries


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"name": None}, [(INVALID, ("name",))]),
        ({"stage": None}, [(INVALID, ("stage",))]),
        ({"amount": -1}, [(INVALID, ("amount",))]),
        ({"owner_id": "0" * 24}, [(NOT_FOUND, ("owner_id",))]),
    ],
)
async def test_a_bad_deal_update_is_refused_and_nothing_changes(
    changes: dict[str, Any], errors: list[tuple[ErrorCode, tuple[str, ...]]]
) -> None:
    services, world, admin = await setup()
    deal = await services.deals.create(admin, DealDraft(name="A", stage=DealStage.CONTRACT_SENT))
    assert await refused(services.deals.update(admin, deal.id, changes)) == errors
    assert world.data.deals[deal.id] == deal


async def test_p3_a_user_limited_to_owned_records_sees_only_its_deals_and_records() -> None:
    services, world, admin = await setup()
    member = await as_user(services, admin, RecordVisibility.OWNED)
    theirs = await services.deals.create(admin, DealDraft(name="A", stage=DealStage.CONTRACT_SENT))
    mine = await services.deals.create(
        admin, DealDraft(name="B", stage=DealStage.CONTRACT_SENT, owner_id=member.user_id)
    )
    hidden = await contact(services, admin, "hidden@example.com", S.LEAD)
    assert await services.deals.get(member, theirs.id) is None
    assert [d.id for d in (await services.deals.page(member, 10, None)).items] == [mine.id]
    assert await services.deals.count(member) == 1
    entries = len(world.data.audit)
    for call in (
        services.deals.update(member, theirs.id, {"name": "X"}),
        services.deals.delete(member, theirs.id),
    ):
        assert await refused(call) == [(NOT_FOUND, ("id",))]
    association = Association(DEAL, mine.id, CONTACT, hidden)
    for change in (services.associations.associate, services.associations.dissociate):
        assert await refused(change(member, association)) == [(NOT_FOUND, ("to_id",))]
    assert stage_of(world, hidden) is S.LEAD
    assert len(world.data.audit) == entries


async def test_c5_a_deal_holds_at_most_its_limit_of_contacts() -> None:
    services, world, admin = await setup()
    deal = await services.deals.create(admin, DealDraft(name="A", stage=DealStage.CONTRACT_SENT))
    person = await contact(services, admin, "p@example.com", S.LEAD)
    full = tuple(f"{i:024x}" for i in range(MAX_RECORDS_PER_DEAL))
    world.data.deals[deal.id] = replace(deal, contact_ids=full)
    association = Association(CONTACT, person, DEAL, deal.id)
    assert await refused(services.associations.associate(admin, association)) == [
        (TOO_MANY, ("to_id",))
    ]
    assert stage_of(world, person) is S.LEAD


async def test_deleting_a_deal_keeps_its_records_at_their_stages() -> None:
    services, world, admin = await setup()
    person = await contact(services, admin, "p@example.com", S.LEAD)
    deal = await services.deals.create(
        admin, DealDraft(name="A", stage=DealStage.CLOSED_WON, contact_ids=[person])
    )
    assert await services.deals.delete(admin, deal.id) == deal.id
    assert await services.deals.get(admin, deal.id) is None
    assert stage_of(world, person) is S.CUSTOMER
    assert [(e.action, e.record_ids) for e in world.data.audit][-1] == ("deleteDeal", (deal.id,))

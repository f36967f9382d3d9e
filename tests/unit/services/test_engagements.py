"""Engagements over the fakes (C6, C12, C1, P3, P4): an engagement is associated with each
record named, once, up to the cap, past which it is still logged and lists the record as not
associated, also when logs race; every record named gets its activity dates moved, never back;
a record the caller does not see is NOT_FOUND like a missing one, and bad input is refused at
its field, with nothing written; the entry names the engagement and the records it wrote."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from marketing_contacts.domain.companies import Company
from marketing_contacts.domain.contacts import Contact
from marketing_contacts.domain.engagements import MAX_BODY_LENGTH, EngagementType
from marketing_contacts.domain.errors import MAX_NAMED_IDS, ErrorCode
from marketing_contacts.domain.users import RecordVisibility
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.companies import CompanyDraft
from marketing_contacts.services.contacts import ContactDraft, ContactEdit
from marketing_contacts.services.engagements import EngagementDraft
from marketing_contacts.services.registry import Services
from marketing_contacts.services.users import UserDraft
from tests.unit.services.fakes import FakeWorld, codes_and_fields, fake_world, open_account

T = EngagementType
INVALID, NOT_FOUND, TOO_MANY = ErrorCode.INVALID, ErrorCode.NOT_FOUND, ErrorCode.TOO_MANY


async def setup(limit: int = 10_000) -> tuple[Services, FakeWorld, Caller]:
    world = fake_world()
    services = Services.over(world.ports(), engagements_per_record=limit)
    return services, world, await open_account(services)


def hours_ago(world: FakeWorld, hours: float) -> datetime:
    return world.clock.now() - timedelta(hours=hours)


async def refused(call: Any) -> list[tuple[ErrorCode, tuple[str, ...]]]:
    with pytest.raises(Exception) as error:
        await call
    return codes_and_fields(error.value)


async def records(services: Services, caller: Caller) -> tuple[Contact, Contact, Company]:
    ada = await services.contacts.create(caller, ContactDraft(email="ada@example.com"))
    bob = await services.contacts.create(caller, ContactDraft(email="bob@example.com"))
    acme = await services.companies.create(caller, CompanyDraft(name="Acme"))
    return ada, bob, acme


async def test_c6_an_engagement_is_associated_with_each_record_named_once() -> None:
    services, world, admin = await setup()
    ada, bob, acme = await records(services, admin)
    draft = EngagementDraft(
        T.NOTE,
        hours_ago(world, 1),
        body="Renewal in May.",
        owner_id=admin.user_id,
        contact_ids=[bob.id, ada.id, bob.id],
        company_ids=[acme.id],
    )
    logged = await services.engagements.log(admin, draft)
    assert (logged.associated_ids, logged.not_associated_ids) == ((bob.id, ada.id, acme.id), ())
    assert (logged.type, logged.body, logged.owner_id) == (T.NOTE, "Renewal in May.", admin.user_id)
    assert logged.created_at == world.clock.now()
    for record in (ada, bob, acme):
        assert (await services.engagements.page(admin, record.id, 20, None)).items == [logged]
        assert await services.engagements.count(admin, record.id) == 1
    entry = world.data.audit[-1]
    assert (entry.action, entry.record_ids) == (
        "logEngagement",
        (logged.id, bob.id, ada.id, acme.id),
    )


async def test_c6_an_engagement_without_records_is_logged_alone() -> None:
    services, world, admin = await setup()
    logged = await services.engagements.log(admin, EngagementDraft(T.TASK, hours_ago(world, 0)))
    assert (logged.associated_ids, logged.not_associated_ids) == ((), ())
    assert world.data.engagements == [logged]


async def test_c6_past_the_cap_the_engagement_is_logged_without_the_record() -> None:
    services, world, admin = await setup(limit=2)
    ada, bob, acme = await records(services, admin)
    for hours in (3, 2):
        draft = EngagementDraft(T.CALL, hours_ago(world, hours), contact_ids=[ada.id])
        await services.engagements.log(admin, draft)
    third = await services.engagements.log(
        admin,
        EngagementDraft(
            T.NOTE, hours_ago(world, 1), contact_ids=[ada.id, bob.id], company_ids=[acme.id]
        ),
    )
    assert (third.associated_ids, third.not_associated_ids) == ((bob.id, acme.id), (ada.id,))
    assert await services.engagements.count(admin, ada.id) == 2
    assert world.data.engagement_counts[ada.id] == 2
    # the record past the cap was written too: its dates moved, and the entry names it
    assert world.contact(ada.id).last_activity_at == third.occurred_at
    assert world.data.audit[-1].record_ids == (third.id, ada.id, bob.id, acme.id)


async def test_c6_the_cap_holds_when_logs_race() -> None:
    services, world, admin = await setup(limit=3)
    ada, _, _ = await records(services, admin)
    draft = EngagementDraft(T.MEETING, hours_ago(world, 1), contact_ids=[ada.id])
    logged = await asyncio.gather(*(services.engagements.log(admin, draft) for _ in range(8)))
    assert sum(e.associated_ids == (ada.id,) for e in logged) == 3
    assert sum(e.not_associated_ids == (ada.id,) for e in logged) == 5
    assert await services.engagements.count(admin, ada.id) == 3


@pytest.mark.parametrize(
    ("kind", "contacted"),
    [(T.NOTE, False), (T.TASK, False), (T.CALL, True), (T.EMAIL, True), (T.MEETING, True)],
)
async def test_c12_an_engagement_moves_the_dates_at_once_and_never_back(
    kind: T, contacted: bool
) -> None:
    services, world, admin = await setup()
    ada, _, acme = await records(services, admin)
    at = hours_ago(world, 2)
    await services.engagements.log(
        admin, EngagementDraft(kind, at, contact_ids=[ada.id], company_ids=[acme.id])
    )
    older = EngagementDraft(
        T.CALL, hours_ago(world, 5), contact_ids=[ada.id], company_ids=[acme.id]
    )
    await services.engagements.log(admin, older)
    for record in (world.contact(ada.id), world.data.companies[acme.id]):
        assert record.last_activity_at == at
        assert record.last_contacted_at == (at if contacted else older.occurred_at)


async def test_c12_an_edit_of_the_record_leaves_its_dates() -> None:
    services, world, admin = await setup()
    ada, _, _ = await records(services, admin)
    at = hours_ago(world, 1)
    await services.engagements.log(admin, EngagementDraft(T.CALL, at, contact_ids=[ada.id]))
    await services.contacts.update(admin, ada.id, ContactEdit({"first_name": "Ada"}))
    edited = world.contact(ada.id)
    assert (edited.first_name, edited.last_activity_at, edited.last_contacted_at) == (
        "Ada",
        at,
        at,
    )


async def test_p3_a_record_the_caller_does_not_see_is_not_found_and_nothing_is_written() -> None:
    services, world, admin = await setup()
    ada, _, acme = await records(services, admin)
    user = await services.users.create(
        admin, UserDraft(name="Sam", email="sam@example.com", visibility=RecordVisibility.OWNED)
    )
    _, secret = await services.tokens.issue(user, "tests")
    owned = await services.tokens.authenticate(secret)
    assert owned is not None
    own = await services.contacts.create(owned, ContactDraft(owner_id=user.id))
    stranger = await open_account(services)
    foreign = await services.contacts.create(stranger, ContactDraft(email="eve@example.com"))
    before, entries = world.snapshot(), len(world.data.audit)
    draft = EngagementDraft(
        T.NOTE,
        hours_ago(world, 1),
        contact_ids=[own.id, ada.id, foreign.id, "missing"],
        company_ids=[acme.id],
        deal_ids=["no-deal"],
    )
    assert await refused(services.engagements.log(owned, draft)) == [
        (NOT_FOUND, ("contact_ids", "1")),
        (NOT_FOUND, ("contact_ids", "2")),
        (NOT_FOUND, ("contact_ids", "3")),
        (NOT_FOUND, ("company_ids", "0")),
        (NOT_FOUND, ("deal_ids", "0")),
    ]
    assert world.snapshot() == before
    assert len(world.data.audit) == entries
    assert world.data.companies[acme.id].last_activity_at is None


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({"body": "x" * (MAX_BODY_LENGTH + 1)}, (INVALID, ("body",))),
        ({"body": "bell\x07"}, (INVALID, ("body",))),
        ({"occurred_at": timedelta(minutes=6)}, (INVALID, ("occurred_at",))),
        ({"owner_id": "nobody"}, (NOT_FOUND, ("owner_id",))),
        ({"contact_ids": ["x" * 201]}, (INVALID, ("contact_ids", "0"))),
        (
            {"company_ids": [f"{n:024x}" for n in range(MAX_NAMED_IDS + 1)]},
            (TOO_MANY, ("company_ids",)),
        ),
    ],
)
async def test_bad_input_is_refused_at_its_field_and_nothing_is_written(
    changes: dict[str, Any], refusal: tuple[ErrorCode, tuple[str, ...]]
) -> None:
    services, world, admin = await setup()
    ada, _, _ = await records(services, admin)
    ahead = changes.pop("occurred_at", -timedelta(hours=1))
    fields: dict[str, Any] = {"contact_ids": [ada.id], **changes}
    draft = EngagementDraft(T.NOTE, world.clock.now() + ahead, **fields)
    before, entries = world.snapshot(), len(world.data.audit)
    assert await refused(services.engagements.log(admin, draft)) == [refusal]
    assert world.snapshot() == before
    assert len(world.data.audit) == entries


async def test_c6_a_records_engagements_newest_first_by_when_they_happened() -> None:
    services, world, admin = await setup()
    ada, bob, _ = await records(services, admin)
    logged = {
        hours: await services.engagements.log(
            admin, EngagementDraft(T.NOTE, hours_ago(world, hours), contact_ids=[ada.id])
        )
        for hours in (30, 1, 5)
    }
    page = await services.engagements.page(admin, ada.id, 2, None)
    assert page.items == [logged[1], logged[5]]
    rest = await services.engagements.page(admin, ada.id, 2, page.cursors[-1])
    assert rest.items == [logged[30]]
    firsts = await services.engagements.first_pages(admin, [ada.id, bob.id], 1)
    assert (firsts[ada.id].items, firsts[bob.id].items) == ([logged[1]], [])
    assert await refused(services.engagements.first_pages(admin, [ada.id], 0)) == [
        (INVALID, ("first",))
    ]
    assert await refused(services.engagements.page(admin, ada.id, 2, "not a cursor")) == [
        (INVALID, ("after",))
    ]


async def test_c6_a_deleted_contact_leaves_its_engagements_to_the_others() -> None:
    services, world, admin = await setup()
    ada, bob, _ = await records(services, admin)
    draft = EngagementDraft(T.NOTE, hours_ago(world, 1), contact_ids=[ada.id, bob.id])
    logged = await services.engagements.log(admin, draft)
    await services.contacts.delete(admin, ada.id)
    (kept,) = (await services.engagements.page(admin, bob.id, 20, None)).items
    assert (kept.id, kept.associated_ids) == (logged.id, (bob.id,))

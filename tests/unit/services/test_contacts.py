"""ContactService over the fakes: D1-D4, S5, C3, C8, S2 delete, pages and history."""

from __future__ import annotations

import pytest

from marketing_contacts.domain.alerts import TierAlertKind
from marketing_contacts.domain.contacts import MAX_TEXT_LENGTH, LifecycleStage
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.errors import MAX_ID_LENGTH, DomainError, ErrorCode
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import (
    MarketingState,
    MarketingStatus,
    StatusSource,
    StatusSourceType,
)
from marketing_contacts.domain.tiers import UpgradePolicy
from marketing_contacts.domain.usage import UsageCounts
from marketing_contacts.domain.users import Role
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.contacts import ContactDraft, ContactEdit
from marketing_contacts.services.registry import Services
from marketing_contacts.services.users import UserDraft
from tests.unit.services.fakes import (
    FakeWorld,
    caller_for,
    codes_and_fields,
    fake_services,
    make_contacts,
    open_account,
)

N = MarketingState.NON_MARKETING
M = MarketingState.MARKETING
P = MarketingState.MARKETING_UNTIL_NEXT_UPDATE
MARKETING = MarketingStatus.MARKETING
NON_MARKETING = MarketingStatus.NON_MARKETING


async def opened(*, marketing_access: bool = True) -> tuple[Services, FakeWorld, Caller]:
    services, world = fake_services()
    caller = await open_account(services, marketing_access=marketing_access)
    return services, world, caller


# ---------------------------------------------------------------- D1, D2, D4


@pytest.mark.parametrize("via", [CreationSource.FORM, CreationSource.EXTERNAL_FORM])
async def test_d2_d4_a_form_creates_a_marketing_contact_by_default(via: CreationSource) -> None:
    services, world, caller = await opened()
    contact = await services.contacts.create(caller, ContactDraft(created_via=via, email="a@x.io"))
    stored = world.contact(contact.id)
    assert stored == contact
    assert stored.state is M
    assert stored.status_source.type is StatusSourceType.CREATION_DEFAULT
    assert stored.status_changed_at == world.clock.now()
    (entry,) = world.history_of(contact.id)
    assert (entry.change.from_state, entry.change.to_state) == (N, M)
    assert entry.change.source.type is StatusSourceType.CREATION_DEFAULT
    assert world.account(caller.account_id).counts == UsageCounts(1, 0, 1)


@pytest.mark.parametrize(
    "via",
    [
        CreationSource.API,
        CreationSource.MANUAL,
        CreationSource.IMPORT,
        CreationSource.CHATFLOW,
        CreationSource.INTEGRATION,
        CreationSource.MOBILE_APP,
        CreationSource.SALES_EMAIL,
        CreationSource.MEETINGS_LINK,
        CreationSource.ASSOCIATED_RECORD,
        CreationSource.MULTI_OBJECT_IMPORT,
    ],
)
async def test_d1_d2_these_sources_create_non_marketing_by_default(via: CreationSource) -> None:
    services, world, caller = await opened()
    contact = await services.contacts.create(caller, ContactDraft(created_via=via))
    assert world.contact(contact.id).state is N
    assert world.contact(contact.id).status_source.type is StatusSourceType.CREATION_DEFAULT
    assert world.history_of(contact.id) == []  # created N: no change of state
    assert world.account(caller.account_id).counts == UsageCounts(0, 0, 1)


@pytest.mark.parametrize(
    "via",
    [
        CreationSource.MOBILE_APP,
        CreationSource.SALES_EMAIL,
        CreationSource.MEETINGS_LINK,
        CreationSource.ASSOCIATED_RECORD,
        CreationSource.MULTI_OBJECT_IMPORT,
    ],
)
async def test_d1_asking_marketing_from_an_always_non_marketing_source_is_invalid(
    via: CreationSource,
) -> None:
    services, world, caller = await opened()
    before = world.snapshot()
    with pytest.raises(DomainError) as refused:
        await services.contacts.create(
            caller, ContactDraft(created_via=via, marketing_status=MARKETING)
        )
    assert codes_and_fields(refused.value) == [(ErrorCode.INVALID, ("marketing_status",))]
    assert world.snapshot() == before


@pytest.mark.parametrize(
    ("via", "source_type"),
    [
        (CreationSource.FORM, StatusSourceType.FORM),
        (CreationSource.IMPORT, StatusSourceType.IMPORT),
        (CreationSource.INTEGRATION, StatusSourceType.INTEGRATION),
        (CreationSource.API, StatusSourceType.USER),
    ],
)
async def test_d4_a_marketing_status_the_tool_chose_names_the_tool(
    via: CreationSource, source_type: StatusSourceType
) -> None:
    services, world, caller = await opened()
    contact = await services.contacts.create(
        caller, ContactDraft(created_via=via, marketing_status=MARKETING)
    )
    assert world.contact(contact.id).state is M
    assert world.contact(contact.id).status_source.type is source_type
    assert world.history_of(contact.id)[0].change.source.type is source_type
    assert world.account(caller.account_id).counts == UsageCounts(1, 0, 1)


async def test_d4_a_marketing_contact_created_past_the_tier_upgrades_it() -> None:
    services, world = fake_services()
    caller = await open_account(services, AccountOpening(name="Small", tier_limit=2, tier_step=2))
    await make_contacts(services, caller, 3, MARKETING)
    account = world.account(caller.account_id)
    assert (account.tier_limit, account.counts) == (4, UsageCounts(3, 0, 3))
    (change,) = world.tier_changes_of(caller.account_id)
    assert (change.from_limit, change.to_limit, change.marketing_contacts) == (2, 4, 3)
    kinds = [alert.item.kind for alert in world.raised_alerts(caller.account_id)]
    assert TierAlertKind.TIER_UPGRADED in kinds


# ---------------------------------------------------------------- S5 on create and update


@pytest.mark.parametrize(
    "draft",
    [
        ContactDraft(created_via=CreationSource.API, marketing_status=MARKETING),
        ContactDraft(created_via=CreationSource.FORM),  # the form's default is MARKETING
    ],
)
async def test_s5_creating_a_marketing_contact_without_marketing_access_is_forbidden(
    draft: ContactDraft,
) -> None:
    services, world, caller = await opened(marketing_access=False)
    before = world.snapshot()
    with pytest.raises(DomainError) as refused:
        await services.contacts.create(caller, draft)
    assert codes_and_fields(refused.value) == [(ErrorCode.FORBIDDEN, ("marketing_status",))]
    assert world.snapshot() == before


async def test_s5_creating_a_non_marketing_contact_without_marketing_access_is_allowed() -> None:
    services, world, caller = await opened(marketing_access=False)
    contact = await services.contacts.create(
        caller, ContactDraft(created_via=CreationSource.API, marketing_status=NON_MARKETING)
    )
    assert world.contact(contact.id).state is N
    assert world.contact(contact.id).status_source.type is StatusSourceType.USER


async def test_s5_updating_to_marketing_without_marketing_access_is_forbidden() -> None:
    services, world, owner = await opened()
    (contact,) = await make_contacts(services, owner, 1)
    caller = await caller_for(services, owner.account_id, marketing_access=False)
    before = world.snapshot()
    with pytest.raises(DomainError) as refused:
        await services.contacts.update(
            caller,
            contact.id,
            ContactEdit(changes={"first_name": "Ada"}, marketing_status=MARKETING),
        )
    assert codes_and_fields(refused.value)[0][0] is ErrorCode.FORBIDDEN
    assert world.snapshot() == before


async def test_s2_s4_update_with_a_status_moves_it_with_provenance() -> None:
    services, world, caller = await opened()
    (contact,) = await make_contacts(services, caller, 1)
    world.clock.advance(minutes=3)
    updated = await services.contacts.update(
        caller, contact.id, ContactEdit(changes={"job_title": "CTO"}, marketing_status=MARKETING)
    )
    stored = world.contact(contact.id)
    assert stored == updated
    assert (stored.state, stored.job_title) == (M, "CTO")
    assert stored.status_source == StatusSource(StatusSourceType.USER, caller.user_id)
    assert stored.status_changed_at == world.clock.now()
    assert len(world.history_of(contact.id)) == 1
    assert world.account(caller.account_id).counts == UsageCounts(1, 0, 1)


async def test_t6_an_update_to_marketing_past_a_blocked_tier_changes_nothing() -> None:
    services, world = fake_services()
    opening = AccountOpening(
        name="Small", tier_limit=1, tier_step=1, upgrade_policy=UpgradePolicy.BLOCK
    )
    caller = await open_account(services, opening)
    await make_contacts(services, caller, 1, MARKETING)
    (contact,) = await make_contacts(services, caller, 1, prefix="second")
    with pytest.raises(DomainError) as refused:
        await services.contacts.update(
            caller,
            contact.id,
            ContactEdit(changes={"first_name": "Ada"}, marketing_status=MARKETING),
        )
    assert codes_and_fields(refused.value)[0][0] is ErrorCode.TIER_LIMIT_REACHED
    assert world.contact(contact.id) == contact
    assert world.account(caller.account_id).counts == UsageCounts(1, 0, 2)


# ---------------------------------------------------------------- C8: DUPLICATE


async def test_c8_creating_a_duplicate_email_in_another_case_is_refused() -> None:
    services, world, caller = await opened()
    await services.contacts.create(caller, ContactDraft(email="Ada@Example.com"))
    before = world.snapshot()
    with pytest.raises(DomainError) as refused:
        await services.contacts.create(
            caller, ContactDraft(email="ada@EXAMPLE.COM", marketing_status=MARKETING)
        )
    assert codes_and_fields(refused.value) == [(ErrorCode.DUPLICATE, ("email",))]
    assert world.snapshot() == before
    assert world.account(caller.account_id).counts == UsageCounts(0, 0, 1)


async def test_c8_the_same_email_in_another_account_is_allowed() -> None:
    services, world, caller = await opened()
    other = await open_account(services)
    await services.contacts.create(caller, ContactDraft(email="ada@example.com"))
    await services.contacts.create(other, ContactDraft(email="ADA@example.com"))
    assert len(world.data.contacts) == 2


async def test_c8_updating_to_a_duplicate_email_is_refused() -> None:
    services, world, caller = await opened()
    a, b = await make_contacts(services, caller, 2)
    before = world.snapshot()
    with pytest.raises(DomainError) as refused:
        await services.contacts.update(
            caller, b.id, ContactEdit(changes={"email": a.email.upper() if a.email else None})
        )
    assert codes_and_fields(refused.value) == [(ErrorCode.DUPLICATE, ("email",))]
    assert world.snapshot() == before


async def test_c8_updating_to_a_duplicate_email_with_a_status_change_changes_nothing() -> None:
    services, world, caller = await opened()
    _a, b = await make_contacts(services, caller, 2)
    before = world.snapshot()
    with pytest.raises(DomainError) as refused:
        await services.contacts.update(
            caller,
            b.id,
            ContactEdit(changes={"email": "PERSON-0@example.com"}, marketing_status=MARKETING),
        )
    assert codes_and_fields(refused.value) == [(ErrorCode.DUPLICATE, ("email",))]
    assert world.snapshot() == before
    assert world.contact(b.id).state is N


async def test_c8_changing_the_case_of_ones_own_email_is_allowed() -> None:
    services, world, caller = await opened()
    (a,) = await make_contacts(services, caller, 1)
    await services.contacts.update(caller, a.id, ContactEdit(changes={"email": "Person-0@x.io"}))
    await services.contacts.update(caller, a.id, ContactEdit(changes={"email": "PERSON-0@x.io"}))
    assert world.contact(a.id).email == "PERSON-0@x.io"


# ---------------------------------------------------------------- S2 delete


@pytest.mark.parametrize(
    ("to_pending", "counts_after"),
    [(False, UsageCounts(1, 0, 2)), (True, UsageCounts(1, 0, 2))],
)
async def test_s2_deleting_a_marketing_contact_drops_the_count_at_once(
    to_pending: bool, counts_after: UsageCounts
) -> None:
    services, world, caller = await opened()
    a, _b = await make_contacts(services, caller, 2, MARKETING)
    await make_contacts(services, caller, 1, prefix="other")
    if to_pending:
        await services.statuses.set_marketing_status(caller, [a.id], NON_MARKETING)
        assert world.account(caller.account_id).counts == UsageCounts(2, 1, 3)
    deleted = await services.contacts.delete(caller, a.id)
    assert deleted == a.id
    assert a.id not in world.data.contacts
    assert world.account(caller.account_id).counts == counts_after
    assert (await services.usage.usage(caller)).marketing_contacts == 1
    assert world.recount(caller.account_id) == counts_after


async def test_s2_deleting_an_unknown_contact_is_not_found() -> None:
    services, world, caller = await opened()
    before = world.snapshot()
    with pytest.raises(DomainError) as refused:
        await services.contacts.delete(caller, "nobody")
    assert codes_and_fields(refused.value) == [(ErrorCode.NOT_FOUND, ("id",))]
    assert world.snapshot() == before


# ---------------------------------------------------------------- C3


async def test_c3_a_direct_backward_lifecycle_set_is_invalid_clearing_first_works() -> None:
    services, world, caller = await opened()
    contact = await services.contacts.create(
        caller, ContactDraft(lifecycle_stage=LifecycleStage.MARKETING_QUALIFIED_LEAD)
    )
    with pytest.raises(DomainError) as refused:
        await services.contacts.update(
            caller, contact.id, ContactEdit(changes={"lifecycle_stage": LifecycleStage.LEAD})
        )
    assert codes_and_fields(refused.value) == [(ErrorCode.INVALID, ("lifecycle_stage",))]
    assert world.contact(contact.id).lifecycle_stage is LifecycleStage.MARKETING_QUALIFIED_LEAD

    await services.contacts.update(
        caller, contact.id, ContactEdit(changes={"lifecycle_stage": None})
    )
    assert world.contact(contact.id).lifecycle_stage is None
    await services.contacts.update(
        caller, contact.id, ContactEdit(changes={"lifecycle_stage": LifecycleStage.LEAD})
    )
    assert world.contact(contact.id).lifecycle_stage is LifecycleStage.LEAD


async def test_c3_forward_moves_are_allowed() -> None:
    services, world, caller = await opened()
    contact = await services.contacts.create(
        caller, ContactDraft(lifecycle_stage=LifecycleStage.LEAD)
    )
    await services.contacts.update(
        caller, contact.id, ContactEdit(changes={"lifecycle_stage": LifecycleStage.CUSTOMER})
    )
    assert world.contact(contact.id).lifecycle_stage is LifecycleStage.CUSTOMER


# ---------------------------------------------------------------- pages and history


async def test_pages_hand_out_cursors_and_refuse_a_foreign_one() -> None:
    services, _world, caller = await opened()
    made = await make_contacts(services, caller, 5)
    first = await services.contacts.page(caller, ContactFilter(), 2, None)
    assert [c.id for c in first.items] == [c.id for c in made[:2]]
    assert first.has_next_page
    rest = await services.contacts.page(caller, ContactFilter(), 10, first.cursors[-1])
    assert [c.id for c in rest.items] == [c.id for c in made[2:]]
    assert not rest.has_next_page

    await services.statuses.set_marketing_status(caller, [made[0].id], MARKETING)
    history = await services.contacts.history(caller, made[0].id, 1, None)
    with pytest.raises(DomainError) as refused:
        await services.contacts.page(caller, ContactFilter(), 2, history.cursors[0])
    assert codes_and_fields(refused.value) == [(ErrorCode.INVALID, ("after",))]
    with pytest.raises(DomainError) as refused:
        await services.contacts.page(caller, ContactFilter(), 2, "not a cursor")
    assert codes_and_fields(refused.value) == [(ErrorCode.INVALID, ("after",))]
    with pytest.raises(DomainError) as refused:
        await services.contacts.page(caller, ContactFilter(), 0, None)
    assert codes_and_fields(refused.value) == [(ErrorCode.INVALID, ("first",))]


async def test_pages_filter_by_status() -> None:
    services, _world, caller = await opened()
    _a, b, _c = await make_contacts(services, caller, 3, MARKETING)
    await services.statuses.set_marketing_status(caller, [b.id], NON_MARKETING)
    pending = ContactFilter(marketing_until_next_update=True)
    page = await services.contacts.page(caller, pending, 10, None)
    assert [x.id for x in page.items] == [b.id]
    assert await services.contacts.count(caller, ContactFilter(marketing_status=MARKETING)) == 3


async def test_s4_history_is_newest_first_and_pages() -> None:
    services, world, caller = await opened()
    (contact,) = await make_contacts(services, caller, 1)
    for target in (MARKETING, NON_MARKETING, MARKETING, NON_MARKETING):
        world.clock.advance(minutes=1)
        await services.statuses.set_marketing_status(caller, [contact.id], target)
    page = await services.contacts.history(caller, contact.id, 3, None)
    assert [(e.change.from_state, e.change.to_state) for e in page.items] == [
        (M, P),
        (P, M),
        (M, P),
    ]
    assert page.has_next_page
    rest = await services.contacts.history(caller, contact.id, 3, page.cursors[-1])
    assert [(e.change.from_state, e.change.to_state) for e in rest.items] == [(N, M)]
    assert not rest.has_next_page
    contacts_page = await services.contacts.page(caller, ContactFilter(), 1, None)
    with pytest.raises(DomainError) as refused:
        await services.contacts.history(caller, contact.id, 3, contacts_page.cursors[0])
    assert codes_and_fields(refused.value) == [(ErrorCode.INVALID, ("after",))]


async def test_tokens_authenticate_only_their_own_secret() -> None:
    services, world, caller = await opened()
    draft = UserDraft(name="CI", email=None, marketing_access=False)
    user = await services.users.add(caller.account_id, draft)
    token, secret = await services.tokens.issue(user, "ci")
    assert secret not in repr(world.data.tokens)
    assert await services.tokens.authenticate(secret) == Caller(
        caller.account_id, token.id, user.id, Role.MEMBER, marketing_access=False
    )
    assert await services.tokens.authenticate(secret + "x") is None
    assert await services.tokens.authenticate("nope") is None


# ---------------------------------------------------------------- free text is bounded


async def test_free_text_past_its_limit_is_invalid_on_its_field_and_changes_nothing() -> None:
    services, world, caller = await opened()
    (contact,) = await make_contacts(services, caller, 1)
    before = world.snapshot()
    too_long = "x" * (MAX_TEXT_LENGTH + 1)
    with pytest.raises(DomainError) as refused:
        await services.contacts.create(caller, ContactDraft(job_title=too_long))
    assert codes_and_fields(refused.value) == [(ErrorCode.INVALID, ("job_title",))]
    with pytest.raises(DomainError) as refused:
        await services.contacts.update(
            caller, contact.id, ContactEdit(changes={"first_name": "Ada", "company_name": too_long})
        )
    assert codes_and_fields(refused.value) == [(ErrorCode.INVALID, ("company_name",))]
    assert world.snapshot() == before
    at_limit = "y" * MAX_TEXT_LENGTH
    created = await services.contacts.create(caller, ContactDraft(last_name=at_limit))
    assert created.last_name == at_limit


async def test_a_source_id_past_its_limit_is_invalid_and_changes_nothing() -> None:
    services, world, caller = await opened()
    (contact,) = await make_contacts(services, caller, 1)
    before = world.snapshot()
    with pytest.raises(DomainError) as refused:
        await services.statuses.set_marketing_status(
            caller,
            [contact.id],
            MARKETING,
            StatusSourceType.FORM,
            "f" * (MAX_ID_LENGTH + 1),
        )
    assert codes_and_fields(refused.value) == [(ErrorCode.INVALID, ("source_id",))]
    assert world.snapshot() == before

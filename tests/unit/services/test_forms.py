"""Forms over the fakes (F1, F4, D3, C4, C8, T1, T6, P3, P4): a submission is stored with its
contact and the counts in one commit; the BLOCK policy keeps a lead non-marketing, says so and
raises its alert; a form that sets contacts as marketing needs marketing access to set up, not to
submit; what createForm, updateForm and submitForm refuse, at the field at fault, changing
nothing; each write has its audit entry."""

from __future__ import annotations

from typing import Any

import pytest

from marketing_contacts.domain.alerts import TierAlertKind
from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.errors import ErrorCode
from marketing_contacts.domain.forms import Form, FormKind, FormValue
from marketing_contacts.domain.statuses import (
    MarketingState,
    MarketingStatus,
    StatusSource,
    StatusSourceType,
)
from marketing_contacts.domain.tiers import UpgradePolicy
from marketing_contacts.domain.users import RecordVisibility
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.services.forms import FormDraft
from marketing_contacts.services.registry import Services
from tests.unit.services.fakes import (
    FakeWorld,
    caller_for,
    codes_and_fields,
    fake_services,
    open_account,
)
from tests.unit.services.test_companies import as_user

N, M, P = (
    MarketingState.NON_MARKETING,
    MarketingState.MARKETING,
    MarketingState.MARKETING_UNTIL_NEXT_UPDATE,
)
FORBIDDEN, INVALID, NOT_FOUND = ErrorCode.FORBIDDEN, ErrorCode.INVALID, ErrorCode.NOT_FOUND


async def setup(opening: AccountOpening | None = None) -> tuple[Services, FakeWorld, Caller]:
    services, world = fake_services()
    return services, world, await open_account(services, opening)


async def refused(call: Any) -> list[tuple[ErrorCode, tuple[str, ...]]]:
    with pytest.raises(Exception) as error:
        await call
    return codes_and_fields(error.value)


def email(address: str, **more: str) -> list[FormValue]:
    return [FormValue("email", address), *(FormValue(k, v) for k, v in more.items())]


async def form(services: Services, caller: Caller, **settings: Any) -> Form:
    return await services.forms.create(caller, FormDraft(name="Demo", **settings))


async def test_f1_a_new_submitter_is_created_marketing_and_counted_in_the_same_commit() -> None:
    services, world, admin = await setup()
    demo = await form(services, admin)
    submission = await services.forms.submit(
        admin, demo.id, email("ada@example.com", firstName="Ada")
    )
    assert submission.created_contact and not submission.blocked_by_tier
    assert submission.contact_id is not None
    contact = world.contact(submission.contact_id)
    assert (contact.state, contact.created_via) == (M, CreationSource.FORM)
    assert contact.status_source == StatusSource(StatusSourceType.FORM, demo.id)
    assert (contact.first_name, contact.lifecycle_stage) == ("Ada", LifecycleStage.LEAD)
    account = world.account(admin.account_id)
    assert account.counts == world.recount(admin.account_id)
    assert account.counts.marketing == 1
    assert world.data.form_submissions[submission.id] == submission
    assert world.data.forms[demo.id].submission_count == 1
    assert [e.change.from_state for e in world.history_of(contact.id)] == [N]
    assert world.data.audit[-1].action == "submitForm"
    assert world.data.audit[-1].record_ids == (demo.id, submission.id, contact.id)


@pytest.mark.parametrize(
    ("setting", "state", "after"),
    [(True, N, M), (True, P, M), (True, M, M), (False, N, N), (False, P, P)],
)
async def test_d3_an_existing_submitter_becomes_marketing_with_the_setting_on(
    setting: bool, state: MarketingState, after: MarketingState
) -> None:
    services, world, admin = await setup()
    status = MarketingStatus.NON_MARKETING if state is N else MarketingStatus.MARKETING
    made = await services.contacts.create(
        admin, ContactDraft(email="Ada@Example.com", marketing_status=status)
    )
    if state is P:
        await services.statuses.set_marketing_status(
            admin, [made.id], MarketingStatus.NON_MARKETING
        )
    assert world.contact(made.id).state is state
    demo = await form(services, admin, set_contacts_as_marketing=setting)
    submission = await services.forms.submit(admin, demo.id, email("ada@EXAMPLE.com"))
    assert (submission.contact_id, submission.created_contact) == (made.id, False)
    assert world.contact(made.id).state is after
    assert len(world.contacts_of(admin.account_id)) == 1  # matched whatever the case (C8)
    assert world.account(admin.account_id).counts == world.recount(admin.account_id)


@pytest.mark.parametrize(
    ("sent", "without_email", "creates"),
    [
        (email("not-an-address"), False, False),
        ([FormValue("work_email", "ada@example.com")], False, False),
        ([FormValue("name", "Ada")], False, False),
        ([FormValue("name", "Ada")], True, True),
    ],
)
async def test_c8_a_submission_without_a_valid_email_field_is_stored_creating_no_contact(
    sent: list[FormValue], without_email: bool, creates: bool
) -> None:
    services, world, admin = await setup()
    demo = await form(services, admin, create_without_email=without_email)
    submission = await services.forms.submit(admin, demo.id, sent)
    assert submission.created_contact is creates
    assert len(world.contacts_of(admin.account_id)) == int(creates)
    assert world.data.form_submissions[submission.id].values == tuple(sent)
    assert world.data.forms[demo.id].submission_count == 1
    assert world.data.audit[-1].action == "submitForm"


@pytest.mark.parametrize(
    ("kind", "created_via"),
    [(FormKind.NATIVE, CreationSource.FORM), (FormKind.EXTERNAL, CreationSource.EXTERNAL_FORM)],
)
async def test_f1_c4_the_forms_kind_and_stage_make_the_new_contact(
    kind: FormKind, created_via: CreationSource
) -> None:
    services, world, admin = await setup()
    demo = await form(
        services,
        admin,
        kind=kind,
        set_contacts_as_marketing=False,
        lifecycle_stage=LifecycleStage.SUBSCRIBER,
    )
    submission = await services.forms.submit(admin, demo.id, email("sub@example.com"))
    assert submission.contact_id is not None
    contact = world.contact(submission.contact_id)
    assert (contact.created_via, contact.state) == (created_via, N)
    assert contact.lifecycle_stage is LifecycleStage.SUBSCRIBER


async def blocked_account() -> tuple[Services, FakeWorld, Caller]:
    """A tier of 1 marketing contact, full, under BLOCK."""
    services, world, admin = await setup(
        AccountOpening(name="Full", upgrade_policy=UpgradePolicy.BLOCK, tier_limit=1, tier_step=1)
    )
    await services.contacts.create(
        admin, ContactDraft(email="first@example.com", marketing_status=MarketingStatus.MARKETING)
    )
    return services, world, admin


async def test_f1_t6_under_block_a_new_lead_is_kept_non_marketing_with_its_alert() -> None:
    services, world, admin = await blocked_account()
    demo = await form(services, admin)
    first = await services.forms.submit(admin, demo.id, email("lead@example.com"))
    second = await services.forms.submit(admin, demo.id, email("more@example.com"))
    for submission in (first, second):
        assert submission.blocked_by_tier and submission.created_contact
        assert submission.contact_id is not None
        assert world.contact(submission.contact_id).state is N
    account = world.account(admin.account_id)
    assert account.counts == world.recount(admin.account_id)
    assert (account.counts.marketing, account.counts.total, account.tier_limit) == (1, 3, 1)
    kinds = [alert.kind for alert in world.alerts_of(admin.account_id)]
    assert kinds.count(TierAlertKind.UPGRADE_BLOCKED) == 1  # once per period
    assert world.data.forms[demo.id].submission_count == 2


async def test_f1_t6_under_block_an_existing_submitter_stays_as_it_is() -> None:
    services, world, admin = await blocked_account()
    made = await services.contacts.create(admin, ContactDraft(email="known@example.com"))
    demo = await form(services, admin)
    submission = await services.forms.submit(admin, demo.id, email("known@example.com"))
    assert submission.blocked_by_tier and submission.contact_id == made.id
    assert world.contact(made.id).state is N
    assert TierAlertKind.UPGRADE_BLOCKED in [a.kind for a in world.alerts_of(admin.account_id)]


async def test_f1_t2_under_auto_a_submission_past_the_tier_upgrades_it() -> None:
    services, world, admin = await setup(AccountOpening(name="A", tier_limit=1, tier_step=1))
    demo = await form(services, admin)
    for address in ("a@example.com", "b@example.com"):
        assert not (await services.forms.submit(admin, demo.id, email(address))).blocked_by_tier
    account = world.account(admin.account_id)
    assert (account.counts.marketing, account.tier_limit) == (2, 2)
    assert len(world.tier_changes_of(admin.account_id)) == 1


async def test_f4_a_marketing_form_needs_marketing_access_to_set_up_not_to_submit() -> None:
    services, world, admin = await setup()
    plain = await caller_for(services, admin.account_id, marketing_access=False)
    before = world.snapshot()
    assert await refused(form(services, plain)) == [(FORBIDDEN, ("set_contacts_as_marketing",))]
    off = await form(services, plain, set_contacts_as_marketing=False)
    assert await refused(
        services.forms.update(plain, off.id, {"set_contacts_as_marketing": True})
    ) == [(FORBIDDEN, ("set_contacts_as_marketing",))]
    renamed = await services.forms.update(plain, off.id, {"name": "Renamed"})
    assert renamed.name == "Renamed" and not renamed.set_contacts_as_marketing
    assert world.snapshot() != before
    on = await form(services, admin)
    # set up by a user with marketing access: its submissions make contacts marketing for anyone
    submission = await services.forms.submit(plain, on.id, email("ada@example.com"))
    assert submission.contact_id is not None
    assert world.contact(submission.contact_id).state is M
    # and turning it off, or keeping it on, needs nothing
    assert not (
        await services.forms.update(plain, on.id, {"set_contacts_as_marketing": False})
    ).set_contacts_as_marketing


async def test_p3_a_submitter_the_caller_does_not_see_is_linked_and_left_as_it_is() -> None:
    services, world, admin = await setup()
    hidden = await services.contacts.create(
        admin, ContactDraft(email="hidden@example.com", owner_id=admin.user_id)
    )
    member = await as_user(services, admin, RecordVisibility.OWNED)
    demo = await form(services, admin)
    assert [f.id for f in await services.forms.all(member)] == [demo.id]  # forms are shared
    submission = await services.forms.submit(member, demo.id, email("HIDDEN@example.com"))
    assert (submission.contact_id, submission.created_contact) == (hidden.id, False)
    assert world.contact(hidden.id) == hidden
    assert await services.forms.contacts_seen(member, [hidden.id]) == []
    assert await services.forms.contacts_seen(admin, [hidden.id]) == [hidden]


async def test_f1_submissions_are_listed_newest_first() -> None:
    services, _, admin = await setup()
    demo = await form(services, admin)
    made = [
        await services.forms.submit(admin, demo.id, email(f"p{i}@example.com")) for i in range(3)
    ]
    page = await services.forms.submissions(admin, demo.id, 2, None)
    assert [s.id for s in page.items] == [made[2].id, made[1].id]
    rest = await services.forms.submissions(admin, demo.id, 2, page.cursors[-1])
    assert [s.id for s in rest.items] == [made[0].id] and not rest.has_next_page


async def test_f1_what_the_form_mutations_refuse_changes_nothing() -> None:
    services, world, admin = await setup()
    demo = await form(services, admin)
    other = await open_account(services, AccountOpening(name="Other"))
    before = world.snapshot()
    cases = [
        (services.forms.create(admin, FormDraft(name=" ")), [(INVALID, ("name",))]),
        (services.forms.update(admin, demo.id, {"name": None}), [(INVALID, ("name",))]),
        (services.forms.update(other, demo.id, {"name": "X"}), [(NOT_FOUND, ("id",))]),
        (services.forms.update(admin, "0" * 24, {"name": "X"}), [(NOT_FOUND, ("id",))]),
        (services.forms.submit(other, demo.id, email("a@b.io")), [(NOT_FOUND, ("form_id",))]),
        (
            services.forms.submit(admin, demo.id, [FormValue("a", "x" * 10_001)]),
            [(INVALID, ("values", "0", "value"))],
        ),
        (
            services.forms.submit(admin, demo.id, [FormValue(f"f{i}", "") for i in range(101)]),
            [(ErrorCode.TOO_MANY, ("values",))],
        ),
    ]
    for call, errors in cases:
        assert await refused(call) == errors
    assert world.snapshot() == before
    assert await services.forms.get(other, demo.id) is None


async def test_p4_form_writes_have_their_audit_entries() -> None:
    services, world, admin = await setup()
    demo = await form(services, admin)
    await services.forms.update(admin, demo.id, {"lifecycle_stage": LifecycleStage.SUBSCRIBER})
    await services.forms.update(admin, demo.id, {"lifecycle_stage": LifecycleStage.SUBSCRIBER})
    assert [(e.action, e.record_ids) for e in world.data.audit[-2:]] == [
        ("createForm", (demo.id,)),
        ("updateForm", (demo.id,)),
    ]  # the second update changed nothing and wrote nothing

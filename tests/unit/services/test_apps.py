"""Chatflows and connected apps over the fakes (F2, F3, F4, D2, D4, P1, P4): a contact created
through a channel is marketing only while its setting is on, and toggling the setting changes no
existing contact; a conversation matches the caller's contact by address or creates one; only an
ADMIN creates or changes a channel, and turning its setting on needs marketing access, while the
contacts that come in through it need none; refusals change nothing; under a BLOCK tier a
channel's contact is kept, non-marketing, and the alert raised."""

from __future__ import annotations

from typing import Any

import pytest

from marketing_contacts.domain.alerts import TierAlertKind
from marketing_contacts.domain.apps import App, AppKind
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.errors import ErrorCode
from marketing_contacts.domain.statuses import (
    MarketingState,
    MarketingStatus,
    StatusSource,
    StatusSourceType,
)
from marketing_contacts.domain.tiers import UpgradePolicy
from marketing_contacts.domain.usage import UsageCounts
from marketing_contacts.domain.users import RecordVisibility, Role
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.apps import Conversation
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.services.registry import Services
from marketing_contacts.services.users import UserDraft
from tests.unit.services.fakes import (
    FakeWorld,
    caller_for,
    codes_and_fields,
    fake_services,
    open_account,
)

CHATFLOW, INTEGRATION = AppKind.CHATFLOW, AppKind.INTEGRATION
M, N = MarketingState.MARKETING, MarketingState.NON_MARKETING
FORBIDDEN, NOT_FOUND = ErrorCode.FORBIDDEN, ErrorCode.NOT_FOUND
SETTING = ("set_contacts_as_marketing",)


async def setup() -> tuple[Services, FakeWorld, Caller]:
    services, world = fake_services()
    return services, world, await open_account(services)


async def refused(call: Any) -> list[tuple[ErrorCode, tuple[str, ...]]]:
    with pytest.raises(Exception) as error:
        await call
    return codes_and_fields(error.value)


async def user(
    services: Services, admin: Caller, role: Role, *, access: bool = True, **more: Any
) -> Caller:
    email = f"{role.value.lower()}-{access}@example.com"
    made = await services.users.create(
        admin,
        UserDraft(name="Sam", email=email, role=role, marketing_access=access, **more),
    )
    _, secret = await services.tokens.issue(made, "tests")
    caller = await services.tokens.authenticate(secret)
    assert caller is not None
    return caller


async def no_access_admin(services: Services, admin: Caller) -> Caller:
    return await caller_for(services, admin.account_id, marketing_access=False)


async def channel(services: Services, admin: Caller, kind: AppKind, *, on: bool) -> App:
    return await services.apps.create(admin, kind, "Website", on)


# ---------------------------------------------------------------- F4: who may


@pytest.mark.parametrize("kind", list(AppKind))
@pytest.mark.parametrize(
    ("who", "on", "expected"),
    [
        ("member", False, [(FORBIDDEN, ())]),  # P1: a channel is the account's setting
        ("admin without access", True, [(FORBIDDEN, SETTING)]),  # F4
        ("blank name", False, [(ErrorCode.INVALID, ("name",))]),
    ],
)
async def test_f4_creating_a_channel_needs_an_admin_and_on_marketing_access(
    kind: AppKind, who: str, on: bool, expected: list[tuple[ErrorCode, tuple[str, ...]]]
) -> None:
    services, world, admin = await setup()
    caller = {
        "member": await user(services, admin, Role.MEMBER),
        "admin without access": await no_access_admin(services, admin),
        "blank name": admin,
    }[who]
    before = world.snapshot()
    name = "  " if who == "blank name" else "Website"
    assert await refused(services.apps.create(caller, kind, name, on)) == expected
    assert world.snapshot() == before
    assert await services.apps.all(admin, kind) == []


@pytest.mark.parametrize("kind", list(AppKind))
async def test_f4_an_admin_without_marketing_access_creates_it_off_and_turns_it_off(
    kind: AppKind,
) -> None:
    services, world, admin = await setup()
    limited = await no_access_admin(services, admin)
    made = await channel(services, limited, kind, on=False)
    assert (made.sets_marketing, made.marketing_since) == (False, None)
    before = world.snapshot()
    assert await refused(services.apps.set_marketing(limited, kind, made.id, True)) == [
        (FORBIDDEN, SETTING)
    ]
    assert world.snapshot() == before
    on = await services.apps.set_marketing(admin, kind, made.id, True)
    off = await services.apps.set_marketing(limited, kind, made.id, False)
    assert (on.sets_marketing, off.sets_marketing, off.marketing_since) == (True, False, None)
    assert [e.action for e in world.data.audit[-3:]] == [
        f"create{kind.noun.title()}",
        f"update{kind.noun.title()}",
        f"update{kind.noun.title()}",
    ]


@pytest.mark.parametrize("kind", list(AppKind))
async def test_p3_any_user_reads_the_channels_and_another_accounts_are_not_found(
    kind: AppKind,
) -> None:
    services, world, admin = await setup()
    made = await channel(services, admin, kind, on=True)
    member = await user(services, admin, Role.MEMBER, visibility=RecordVisibility.OWNED)
    assert await services.apps.all(member, kind) == [made]
    stranger = await open_account(services, AccountOpening(name="Elsewhere"))
    assert await services.apps.all(stranger, kind) == []
    before = world.snapshot()
    assert await refused(services.apps.set_marketing(stranger, kind, made.id, False)) == [
        (NOT_FOUND, ("id",))
    ]
    assert world.snapshot() == before


async def test_p4_a_setting_as_it_is_writes_nothing() -> None:
    services, world, admin = await setup()
    made = await channel(services, admin, CHATFLOW, on=True)
    before = world.snapshot(), len(world.data.audit)
    assert await services.apps.set_marketing(admin, CHATFLOW, made.id, True) == made
    assert (world.snapshot(), len(world.data.audit)) == before


# ---------------------------------------------------------------- F3: connected apps


async def test_f3_a_contact_an_app_creates_while_on_is_marketing_and_toggling_changes_none() -> (
    None
):
    services, world, admin = await setup()
    app = await channel(services, admin, INTEGRATION, on=True)
    # F4: the caller creating through the app needs no marketing access
    limited = await user(services, admin, Role.MEMBER, access=False)
    first = await services.contacts.create(
        limited, ContactDraft(email="one@example.com", integration_id=app.id)
    )
    assert (first.created_via, first.state) == (CreationSource.INTEGRATION, M)
    assert first.status_source == StatusSource(StatusSourceType.INTEGRATION, app.id)
    assert world.account(admin.account_id).counts == UsageCounts(1, 0, 1)
    await services.apps.set_marketing(admin, INTEGRATION, app.id, False)
    assert world.contact(first.id) == first  # D2: no existing contact changes
    second = await services.contacts.create(
        limited, ContactDraft(email="two@example.com", integration_id=app.id)
    )
    assert (second.state, second.status_source) == (N, app.status_source)
    await services.apps.set_marketing(admin, INTEGRATION, app.id, True)
    assert (world.contact(first.id), world.contact(second.id)) == (first, second)
    assert world.account(admin.account_id).counts == UsageCounts(1, 0, 2)
    assert [e.action for e in world.data.audit if e.record_ids == (first.id,)] == ["createContact"]


@pytest.mark.parametrize(
    ("on", "asked", "state"),
    [
        (True, MarketingStatus.NON_MARKETING, N),  # the input's status wins over the app's
        (False, MarketingStatus.MARKETING, M),
    ],
)
async def test_f3_a_status_the_input_names_wins_over_the_apps_setting(
    on: bool, asked: MarketingStatus, state: MarketingState
) -> None:
    services, _, admin = await setup()
    app = await channel(services, admin, INTEGRATION, on=on)
    made = await services.contacts.create(
        admin,
        ContactDraft(email="x@example.com", integration_id=app.id, marketing_status=asked),
    )
    assert (made.created_via, made.state) == (CreationSource.INTEGRATION, state)
    assert made.status_source == StatusSource(StatusSourceType.INTEGRATION, app.id)


async def test_f3_what_create_contact_refuses_with_an_app_changes_nothing() -> None:
    services, world, admin = await setup()
    app = await channel(services, admin, INTEGRATION, on=False)
    chat = await channel(services, admin, CHATFLOW, on=False)
    stranger = await open_account(services, AccountOpening(name="Elsewhere"))
    theirs = await channel(services, stranger, INTEGRATION, on=True)
    limited = await user(services, admin, Role.MEMBER, access=False)
    before = world.snapshot()
    cases = [
        (admin, ContactDraft(integration_id=theirs.id), [(NOT_FOUND, ("integration_id",))]),
        (admin, ContactDraft(integration_id=chat.id), [(NOT_FOUND, ("integration_id",))]),
        (
            admin,
            ContactDraft(integration_id=app.id, created_via=CreationSource.FORM),
            [(ErrorCode.INVALID, ("created_via",))],
        ),
        (
            limited,  # an explicit MARKETING still needs marketing access (S5)
            ContactDraft(integration_id=app.id, marketing_status=MarketingStatus.MARKETING),
            [(FORBIDDEN, ("marketing_status",))],
        ),
    ]
    for caller, draft, expected in cases:
        assert await refused(services.contacts.create(caller, draft)) == expected, draft
    assert world.snapshot() == before


# ---------------------------------------------------------------- F2: chatflows


@pytest.mark.parametrize(("on", "state"), [(False, N), (True, M)])
async def test_f2_a_conversation_creates_its_contact_via_chatflow(
    on: bool, state: MarketingState
) -> None:
    services, world, admin = await setup()
    chat = await channel(services, admin, CHATFLOW, on=on)
    limited = await user(services, admin, Role.MEMBER, access=False)
    made = await services.apps.start_conversation(
        limited, Conversation(chat.id, " Ada@Example.com ", "Ada", "Lovelace")
    )
    assert (made.created_via, made.state, made.email) == (
        CreationSource.CHATFLOW,
        state,
        "Ada@example.com",
    )
    assert (made.first_name, made.last_name, made.owner_id) == ("Ada", "Lovelace", None)
    assert made.status_source == StatusSource(StatusSourceType.CHATFLOW, chat.id)
    assert world.account(admin.account_id).counts == UsageCounts(int(on), 0, 1)
    assert len(world.history_of(made.id)) == int(on)
    assert world.data.audit[-1].action == "startConversation"


async def test_f2_an_existing_contact_keeps_its_status_and_fields() -> None:
    services, world, admin = await setup()
    chat = await channel(services, admin, CHATFLOW, on=True)
    known = await services.contacts.create(admin, ContactDraft(email="ada@example.com"))
    before = world.snapshot(), len(world.data.audit)
    found = await services.apps.start_conversation(
        admin, Conversation(chat.id, "ADA@example.com", "Someone", "Else")
    )
    assert found == known
    assert (world.snapshot(), len(world.data.audit)) == before


async def test_f2_c8_an_address_of_a_contact_the_caller_does_not_see_is_duplicate() -> None:
    services, world, admin = await setup()
    chat = await channel(services, admin, CHATFLOW, on=True)
    await services.contacts.create(
        admin, ContactDraft(email="hidden@example.com", owner_id=admin.user_id)
    )
    member = await user(services, admin, Role.MEMBER, visibility=RecordVisibility.OWNED)
    before = world.snapshot()
    conversation = Conversation(chat.id, "hidden@example.com")
    assert await refused(services.apps.start_conversation(member, conversation)) == [
        (ErrorCode.DUPLICATE, ("email",))
    ]
    assert world.snapshot() == before


async def test_f2_what_start_conversation_refuses_changes_nothing() -> None:
    services, world, admin = await setup()
    app = await channel(services, admin, INTEGRATION, on=True)
    chat = await channel(services, admin, CHATFLOW, on=True)
    before = world.snapshot()
    cases = [
        (Conversation("f" * 24, "a@example.com"), [(NOT_FOUND, ("chatflow_id",))]),
        (Conversation(app.id, "a@example.com"), [(NOT_FOUND, ("chatflow_id",))]),
        (Conversation(chat.id, "  "), [(ErrorCode.INVALID, ("email",))]),
        (Conversation(chat.id, "not an address"), [(ErrorCode.INVALID, ("email",))]),
    ]
    for conversation, expected in cases:
        assert await refused(services.apps.start_conversation(admin, conversation)) == expected
    assert world.snapshot() == before


# ---------------------------------------------------------------- D4 under BLOCK


async def blocked_account(services: Services) -> Caller:
    opening = AccountOpening(
        name="Small", tier_limit=1, tier_step=1, upgrade_policy=UpgradePolicy.BLOCK
    )
    caller = await open_account(services, opening)
    await services.contacts.create(
        caller, ContactDraft(email="first@example.com", marketing_status=MarketingStatus.MARKETING)
    )
    return caller


@pytest.mark.parametrize("kind", list(AppKind))
async def test_d4_under_block_a_channels_contact_is_kept_non_marketing_and_the_alert_raised(
    kind: AppKind,
) -> None:
    services, world = fake_services()
    caller = await blocked_account(services)
    app = await channel(services, caller, kind, on=True)
    raised = len(world.alerts_of(caller.account_id))
    if kind is CHATFLOW:
        made = await services.apps.start_conversation(caller, Conversation(app.id, "b@example.com"))
    else:
        made = await services.contacts.create(
            caller, ContactDraft(email="b@example.com", integration_id=app.id)
        )
    assert (made.state, made.status_source) == (N, app.status_source)
    assert world.account(caller.account_id).counts == UsageCounts(1, 0, 2)
    alerts = world.alerts_of(caller.account_id)[raised:]
    assert [alert.kind for alert in alerts] == [TierAlertKind.UPGRADE_BLOCKED]
    assert world.recount(caller.account_id) == UsageCounts(1, 0, 2)


async def test_d4_under_block_a_marketing_status_the_input_names_is_refused_as_today() -> None:
    services, world = fake_services()
    caller = await blocked_account(services)
    app = await channel(services, caller, INTEGRATION, on=False)
    draft = ContactDraft(
        email="b@example.com", integration_id=app.id, marketing_status=MarketingStatus.MARKETING
    )
    assert [code for code, _ in await refused(services.contacts.create(caller, draft))] == [
        ErrorCode.TIER_LIMIT_REACHED
    ]
    assert world.account(caller.account_id).counts == UsageCounts(1, 0, 1)

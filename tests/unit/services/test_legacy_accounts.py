"""K1 over the fakes: an account without marketing contacts counts every contact and lets no
status be set; enableMarketingContacts (an ADMIN's, one-way) flips it once and its background
operation sets every contact NON_MARKETING, after which the usual rules apply."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest

from marketing_contacts.domain.alerts import TierAlertKind
from marketing_contacts.domain.bulk import BulkOperationStatus, Selection
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.forms import FormValue
from marketing_contacts.domain.statuses import (
    MarketingState,
    MarketingStatus,
    StatusSource,
    StatusSourceType,
)
from marketing_contacts.domain.tiers import UpgradePolicy
from marketing_contacts.domain.usage import UsageCounts
from marketing_contacts.domain.users import Role
from marketing_contacts.services.accounts import AccountOpening, AccountSettings
from marketing_contacts.services.bulk import BulkRequest
from marketing_contacts.services.bulk_runner import BulkRunner, BulkRunnerSettings
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.contacts import ContactDraft, ContactEdit
from marketing_contacts.services.forms import FormDraft
from marketing_contacts.services.registry import Services
from tests.unit.services.fakes import (
    FakeWorld,
    codes_and_fields,
    fake_services,
    open_account,
)

N = MarketingState.NON_MARKETING
M = MarketingState.MARKETING
P = MarketingState.MARKETING_UNTIL_NEXT_UPDATE
MARKETING = MarketingStatus.MARKETING
NON_MARKETING = MarketingStatus.NON_MARKETING
LEGACY = StatusSource(StatusSourceType.LEGACY)
FORBIDDEN = ErrorCode.FORBIDDEN


async def legacy(
    tier_limit: int = 1000,
    tier_step: int = 1000,
    policy: UpgradePolicy = UpgradePolicy.AUTO,
    *,
    marketing_access: bool = True,
) -> tuple[Services, FakeWorld, Caller]:
    services, world = fake_services()
    opening = AccountOpening(
        name="Legacy",
        tier_limit=tier_limit,
        tier_step=tier_step,
        upgrade_policy=policy,
        legacy=True,
    )
    caller = await open_account(services, opening, marketing_access=marketing_access)
    return services, world, caller


async def created(services: Services, caller: Caller, count: int) -> list[str]:
    made = [
        await services.contacts.create(caller, ContactDraft(email=f"c{i}@example.com"))
        for i in range(count)
    ]
    return [c.id for c in made]


def recounted(world: FakeWorld, caller: Caller) -> UsageCounts:
    """T1: the account's counters, asserted equal to a recount of its contacts."""
    counts = world.account(caller.account_id).counts
    assert counts == world.recount(caller.account_id)
    return counts


async def enable_and_run(services: Services, caller: Caller, chunk: int = 2) -> str:
    """enableMarketingContacts, then a worker runs its operation to the end; its id."""
    await services.accounts.enable_marketing_contacts(caller)
    (operation,) = (await services.bulk.page(caller, 50, None)).items
    runner = BulkRunner(services.ports, BulkRunnerSettings(chunk=chunk))
    done = await runner.run(operation.id, "worker-1")
    assert done is not None and done.status is BulkOperationStatus.COMPLETED
    return operation.id


def test_k1_accounts_open_with_marketing_contacts_unless_legacy() -> None:
    assert AccountOpening(name="A").legacy is False


@pytest.mark.parametrize(("legacy_flag", "enabled"), [(False, True), (True, False)])
async def test_k1_an_account_is_opened_with_or_without_marketing_contacts(
    legacy_flag: bool, enabled: bool
) -> None:
    services, world = fake_services()
    account = await services.accounts.open(AccountOpening(name="A", legacy=legacy_flag))
    assert world.account(account.id).marketing_contacts_enabled is enabled


@pytest.mark.parametrize(
    ("draft", "marketing_access"),
    [
        (ContactDraft(email="api@example.com"), True),
        (ContactDraft(email="manual@example.com", created_via=CreationSource.MANUAL), True),
        # D1's always-non-marketing sources count too: every contact does
        (ContactDraft(email="sales@example.com", created_via=CreationSource.SALES_EMAIL), True),
        # nobody chooses the status, so no marketing access is needed (P2)
        (ContactDraft(email="plain@example.com"), False),
    ],
)
async def test_k1_every_contact_of_a_legacy_account_is_created_marketing_and_counts(
    draft: ContactDraft, marketing_access: bool
) -> None:
    services, world, caller = await legacy(marketing_access=marketing_access)
    contact = await services.contacts.create(caller, draft)
    assert (contact.state, contact.status_source) == (M, LEGACY)
    assert recounted(world, caller) == UsageCounts(marketing=1, pending=0, total=1)


async def test_k1_a_legacy_account_upgrades_its_tier_on_its_total_contacts() -> None:
    services, world, caller = await legacy(tier_limit=2, tier_step=2)
    await created(services, caller, 3)
    assert recounted(world, caller) == UsageCounts(marketing=3, pending=0, total=3)
    assert world.account(caller.account_id).tier_limit == 4


async def test_k1_a_full_block_tier_of_a_legacy_account_takes_no_new_contact() -> None:
    services, world, caller = await legacy(tier_limit=1, policy=UpgradePolicy.BLOCK)
    await created(services, caller, 1)
    with pytest.raises(DomainError) as error:
        await services.contacts.create(caller, ContactDraft(email="late@example.com"))
    assert codes_and_fields(error.value) == [(ErrorCode.TIER_LIMIT_REACHED, ())]
    assert recounted(world, caller).total == 1


@pytest.mark.parametrize("setting", [True, False])
async def test_k1_a_form_submitter_of_a_legacy_account_is_created_marketing(
    setting: bool,
) -> None:
    services, world, caller = await legacy()
    form = await services.forms.create(
        caller, FormDraft(name="Signup", set_contacts_as_marketing=setting)
    )
    submission = await services.forms.submit(
        caller, form.id, [FormValue("email", "form@example.com")]
    )
    assert submission.contact_id is not None
    contact = world.contact(submission.contact_id)
    assert (contact.state, contact.status_source) == (M, LEGACY)
    assert recounted(world, caller) == UsageCounts(marketing=1, pending=0, total=1)


Refused = Callable[[Services, Caller, str], Awaitable[object]]
REFUSALS: list[tuple[str, Refused, tuple[str, ...]]] = [
    (
        "setMarketingStatus",
        lambda s, c, cid: s.statuses.set_marketing_status(c, [cid], NON_MARKETING),
        ("status",),
    ),
    (
        "setMarketingStatus to MARKETING",
        lambda s, c, cid: s.statuses.set_marketing_status(c, [cid], MARKETING),
        ("status",),
    ),
    (
        "startBulkStatusChange",
        lambda s, c, cid: s.bulk.start(c, BulkRequest(Selection(ids=(cid,)), NON_MARKETING)),
        ("status",),
    ),
    (
        "previewBulkStatusChange",
        lambda s, c, cid: s.bulk.preview(c, Selection(filter=ContactFilter()), NON_MARKETING),
        ("status",),
    ),
    (
        "createContact with a status",
        lambda s, c, cid: s.contacts.create(
            c, ContactDraft(email="n@example.com", marketing_status=NON_MARKETING)
        ),
        ("marketing_status",),
    ),
    (
        "updateContact with a status",
        lambda s, c, cid: s.contacts.update(c, cid, ContactEdit(marketing_status=NON_MARKETING)),
        ("marketing_status",),
    ),
    (
        "updateAccountSettings creation defaults",
        lambda s, c, cid: s.accounts.update_settings(
            c, AccountSettings(creation_defaults=((CreationSource.API, MARKETING),))
        ),
        ("creation_defaults",),
    ),
]


@pytest.mark.parametrize(("name", "call", "field"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_k1_no_status_is_set_in_a_legacy_account(
    name: str, call: Refused, field: tuple[str, ...]
) -> None:
    services, world, caller = await legacy()
    (contact_id,) = await created(services, caller, 1)
    before = (world.account(caller.account_id), world.contact(contact_id), len(world.data.audit))
    with pytest.raises(DomainError) as error:
        await call(services, caller, contact_id)
    assert codes_and_fields(error.value) == [(FORBIDDEN, field)]
    assert "without marketing contacts (K1)" in error.value.errors[0].message
    after = (world.account(caller.account_id), world.contact(contact_id), len(world.data.audit))
    assert after == before
    assert world.data.operations == {}


async def test_k1_other_edits_and_settings_of_a_legacy_account_still_apply() -> None:
    services, _, caller = await legacy()
    (contact_id,) = await created(services, caller, 1)
    edited = await services.contacts.update(caller, contact_id, ContactEdit({"first_name": "E"}))
    assert (edited.first_name, edited.state) == ("E", M)
    account = await services.accounts.update_settings(caller, AccountSettings(name="Renamed"))
    assert (account.name, account.marketing_contacts_enabled) == ("Renamed", False)


async def test_k1_only_an_admin_enables_marketing_contacts() -> None:
    services, world, caller = await legacy()
    member = replace(caller, role=Role.MEMBER)
    with pytest.raises(DomainError) as error:
        await services.accounts.enable_marketing_contacts(member)
    assert [code for code, _ in codes_and_fields(error.value)] == [FORBIDDEN]
    assert world.account(caller.account_id).marketing_contacts_enabled is False
    assert world.data.operations == {}


async def test_k1_enabling_flips_the_flag_once_and_queues_one_operation() -> None:
    services, world, caller = await legacy()
    await created(services, caller, 3)
    account = await services.accounts.enable_marketing_contacts(caller)
    assert account.marketing_contacts_enabled is True
    assert world.account(caller.account_id) == account
    (operation,) = world.data.operations.values()
    assert (operation.status, operation.target, operation.progress.matched) == (
        BulkOperationStatus.QUEUED,
        NON_MARKETING,
        3,
    )
    assert operation.requested_by == caller.user_id
    assert [e.action for e in world.data.audit].count("enableMarketingContacts") == 1
    assert world.jobs.enqueued  # the account's turn is queued for a worker
    audit_entries = len(world.data.audit)
    again = await services.accounts.enable_marketing_contacts(caller)
    assert again == account  # one-way and idempotent: the second call changes nothing
    assert len(world.data.operations) == 1
    assert len(world.data.audit) == audit_entries


async def test_k1_an_account_with_marketing_contacts_is_left_as_it_is() -> None:
    services, world = fake_services()
    caller = await open_account(services)
    before = world.account(caller.account_id)
    assert await services.accounts.enable_marketing_contacts(caller) == before
    assert world.data.operations == {}


@pytest.mark.parametrize("count", [0, 1, 5])
async def test_k1_the_operation_sets_every_contact_non_marketing_at_once(count: int) -> None:
    """Straight to N, not pending (S3 applies from then on): counts stay exact (T1)."""
    services, world, caller = await legacy(tier_limit=2, tier_step=2)
    ids = await created(services, caller, count)
    tier_before = world.account(caller.account_id).tier_limit
    operation_id = await enable_and_run(services, caller)
    assert [world.contact(i).state for i in ids] == [N] * count
    assert {world.contact(i).status_source for i in ids} <= {
        StatusSource(StatusSourceType.LEGACY, operation_id)
    }
    assert recounted(world, caller) == UsageCounts(marketing=0, pending=0, total=count)
    assert world.account(caller.account_id).tier_limit == tier_before  # never down by itself
    done = world.data.operations[operation_id]
    assert (done.progress.changed_now, done.progress.became_pending) == (count, 0)


async def test_k1_after_enabling_every_rule_applies() -> None:
    services, world, caller = await legacy()
    (old,) = await created(services, caller, 1)
    await enable_and_run(services, caller)
    # D2: a new API contact is non-marketing; statuses are set as anywhere (S2, S3)
    new = await services.contacts.create(caller, ContactDraft(email="new@example.com"))
    assert (new.state, new.status_source.type) == (N, StatusSourceType.CREATION_DEFAULT)
    await services.statuses.set_marketing_status(caller, [old, new.id], MARKETING)
    await services.statuses.set_marketing_status(caller, [old], NON_MARKETING)
    assert [world.contact(old).state, world.contact(new.id).state] == [P, M]
    assert recounted(world, caller) == UsageCounts(marketing=2, pending=1, total=2)


async def test_k1_a_contact_created_while_the_operation_waits_is_not_selected() -> None:
    """B1: the operation selects what existed when it started; the new contact is made by the
    enabled account's rules."""
    services, world, caller = await legacy()
    (old,) = await created(services, caller, 1)
    await services.accounts.enable_marketing_contacts(caller)
    world.clock.advance(seconds=1)
    late = await services.contacts.create(
        caller, ContactDraft(email="late@example.com", marketing_status=MARKETING)
    )
    (operation,) = world.data.operations.values()
    runner = BulkRunner(services.ports, BulkRunnerSettings(chunk=2))
    await runner.run(operation.id, "worker-1")
    assert [world.contact(old).state, world.contact(late.id).state] == [N, M]
    assert recounted(world, caller) == UsageCounts(marketing=1, pending=0, total=2)


async def test_k1_f1_a_full_block_tier_of_a_legacy_account_stores_the_submission_alone() -> None:
    """No non-marketing contact exists to keep the lead as (F1's BLOCK fallback): the submission
    is stored, blocked, without a contact, and the UPGRADE_BLOCKED alert is raised."""
    services, world, caller = await legacy(tier_limit=1, policy=UpgradePolicy.BLOCK)
    await created(services, caller, 1)
    form = await services.forms.create(caller, FormDraft(name="Signup"))
    submission = await services.forms.submit(
        caller, form.id, [FormValue("email", "late@example.com")]
    )
    assert (submission.contact_id, submission.created_contact) == (None, False)
    assert submission.blocked_by_tier
    assert recounted(world, caller).total == 1
    kinds = [stored.item.kind for _, stored in world.data.alerts]
    assert kinds[-1:] == [TierAlertKind.UPGRADE_BLOCKED]

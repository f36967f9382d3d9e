"""StatusService.set_marketing_status over the fakes: B6, S2, S4, S5, S7, T2, T6, A3."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from marketing_contacts.domain.alerts import TierAlertKind
from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.statuses import (
    MarketingState,
    MarketingStatus,
    StatusSource,
    StatusSourceType,
)
from marketing_contacts.domain.tiers import Edition, UpgradePolicy
from marketing_contacts.domain.usage import UsageCounts
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.ports.events import AlertRaised, UsageChanged
from marketing_contacts.services.registry import Services
from tests.unit.services.fakes import (
    DEFAULT_NOW,
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


async def small_tier(
    policy: UpgradePolicy = UpgradePolicy.AUTO, edition: Edition = Edition.STARTER
) -> tuple[Services, FakeWorld, Caller]:
    """An account whose ladder is 2, 4, 6, ... marketing contacts."""
    services, world = fake_services()
    opening = AccountOpening(
        name="Small", edition=edition, upgrade_policy=policy, tier_limit=2, tier_step=2
    )
    caller = await open_account(services, opening)
    return services, world, caller


# ---------------------------------------------------------------- B6


async def test_b6_set_marketing_status_refuses_more_than_100_ids_and_changes_nothing() -> None:
    services, world, caller = await small_tier()
    contacts = await make_contacts(services, caller, 101)
    before = world.snapshot()
    ids = [c.id for c in contacts]
    with pytest.raises(DomainError) as refused:
        await services.statuses.set_marketing_status(caller, ids, MARKETING)
    assert codes_and_fields(refused.value) == [(ErrorCode.TOO_MANY, ("contact_ids",))]
    assert world.snapshot() == before


async def test_b6_set_marketing_status_takes_exactly_100_ids() -> None:
    services, world, caller = await open_account_with_contacts(100)
    ids = [c.id for c in world.contacts_of(caller.account_id)]
    result = await services.statuses.set_marketing_status(caller, ids, MARKETING)
    assert [c.state for c in result.contacts] == [M] * 100
    assert world.account(caller.account_id).counts == UsageCounts(100, 0, 100)


async def test_b6_the_limit_counts_contacts_not_repeated_ids() -> None:
    services, world, caller = await open_account_with_contacts(100)
    ids = [c.id for c in world.contacts_of(caller.account_id)]
    result = await services.statuses.set_marketing_status(caller, ids + ids[:5], MARKETING)
    assert len(result.contacts) == 100
    assert world.account(caller.account_id).counts == UsageCounts(100, 0, 100)


async def open_account_with_contacts(count: int) -> tuple[Services, FakeWorld, Caller]:
    services, world = fake_services()
    caller = await open_account(services)
    await make_contacts(services, caller, count)
    return services, world, caller


async def test_b6_set_marketing_status_is_all_or_nothing_on_unknown_id() -> None:
    services, world, caller = await small_tier()
    contacts = await make_contacts(services, caller, 2)
    before = world.snapshot()
    published = len(world.events.published)
    ids = [contacts[0].id, "no-such-contact", contacts[1].id, "another-unknown"]
    with pytest.raises(DomainError) as refused:
        await services.statuses.set_marketing_status(caller, ids, MARKETING)
    assert codes_and_fields(refused.value) == [
        (ErrorCode.NOT_FOUND, ("contact_ids", "1")),
        (ErrorCode.NOT_FOUND, ("contact_ids", "3")),
    ]
    assert world.snapshot() == before
    assert len(world.events.published) == published


async def test_b6_a_contact_of_another_account_is_not_found() -> None:
    services, world, caller = await small_tier()
    other = await open_account(services, AccountOpening(name="Other"))
    (foreign,) = await make_contacts(services, other, 1)
    (own,) = await make_contacts(services, caller, 1)
    before = world.snapshot()
    with pytest.raises(DomainError) as refused:
        await services.statuses.set_marketing_status(caller, [own.id, foreign.id], MARKETING)
    assert codes_and_fields(refused.value) == [(ErrorCode.NOT_FOUND, ("contact_ids", "1"))]
    assert world.snapshot() == before


async def test_b6_duplicate_ids_are_counted_once() -> None:
    services, world, caller = await small_tier()
    a, b = await make_contacts(services, caller, 2)
    result = await services.statuses.set_marketing_status(
        caller, [a.id, b.id, a.id, a.id], MARKETING
    )
    assert [c.id for c in result.contacts] == [a.id, b.id]
    assert result.usage.counts == UsageCounts(marketing=2, pending=0, total=2)
    assert world.account(caller.account_id).counts == UsageCounts(2, 0, 2)
    assert world.account(caller.account_id).tier_limit == 2  # 2 of 2: no upgrade
    assert len(world.history_of(a.id)) == 1


async def test_b6_all_or_nothing_when_the_tier_blocks_part_of_the_ids() -> None:
    services, world, caller = await small_tier(UpgradePolicy.BLOCK)
    a, b, c = await make_contacts(services, caller, 3)
    await services.statuses.set_marketing_status(caller, [a.id], MARKETING)
    with pytest.raises(DomainError) as refused:
        await services.statuses.set_marketing_status(caller, [b.id, c.id], MARKETING)
    assert codes_and_fields(refused.value)[0][0] is ErrorCode.TIER_LIMIT_REACHED
    assert [world.contact(x.id).state for x in (a, b, c)] == [M, N, N]
    assert world.account(caller.account_id).counts == UsageCounts(1, 0, 3)


# ---------------------------------------------------------------- S2, S4


async def test_s2_s4_set_marketing_moves_n_to_m_with_provenance_and_one_history_entry() -> None:
    services, world, caller = await small_tier()
    (contact,) = await make_contacts(services, caller, 1)
    world.clock.advance(minutes=5)
    now = world.clock.now()
    result = await services.statuses.set_marketing_status(caller, [contact.id], MARKETING)
    stored = world.contact(contact.id)
    assert result.contacts == [stored]
    assert stored.state is M
    assert stored.status_source == StatusSource(StatusSourceType.USER, caller.user_id)
    assert stored.status_changed_at == now
    assert stored.status_seq == contact.status_seq + 1
    (entry,) = world.history_of(contact.id)
    assert (entry.change.from_state, entry.change.to_state) == (N, M)
    assert entry.change.source == StatusSource(StatusSourceType.USER, caller.user_id)
    assert entry.change.at == now
    assert not entry.change.pending
    assert entry.seq == stored.status_seq
    assert result.usage.counts == UsageCounts(marketing=1, pending=0, total=1)


async def test_s2_s4_a_tool_source_is_stored_with_its_id() -> None:
    services, world, caller = await small_tier()
    (contact,) = await make_contacts(services, caller, 1)
    await services.statuses.set_marketing_status(
        caller, [contact.id], MARKETING, StatusSourceType.INTEGRATION, "salesforce-sync"
    )
    expected = StatusSource(StatusSourceType.INTEGRATION, "salesforce-sync")
    assert world.contact(contact.id).status_source == expected
    assert world.history_of(contact.id)[-1].change.source == expected


async def test_s2_m_to_non_marketing_becomes_pending_and_still_counts() -> None:
    services, world, caller = await small_tier()
    (contact,) = await make_contacts(services, caller, 1, MARKETING)
    world.clock.advance(hours=1)
    result = await services.statuses.set_marketing_status(caller, [contact.id], NON_MARKETING)
    stored = world.contact(contact.id)
    assert stored.state is P
    assert stored.marketing_status is MARKETING
    assert stored.marketing_until_next_update
    assert stored.pending_since == world.clock.now()
    assert result.usage.counts == UsageCounts(marketing=1, pending=1, total=1)
    assert result.usage.projected_after_next_update == 0
    last = world.history_of(contact.id)[-1].change
    assert (last.from_state, last.to_state, last.pending) == (M, P, True)
    assert last.to_status is NON_MARKETING


async def test_s2_set_marketing_on_pending_clears_the_flag_without_changing_the_count() -> None:
    services, world, caller = await small_tier()
    (contact,) = await make_contacts(services, caller, 1, MARKETING)
    await services.statuses.set_marketing_status(caller, [contact.id], NON_MARKETING)
    result = await services.statuses.set_marketing_status(caller, [contact.id], MARKETING)
    stored = world.contact(contact.id)
    assert stored.state is M
    assert stored.pending_since is None
    assert result.usage.counts == UsageCounts(marketing=1, pending=0, total=1)
    assert [(e.change.from_state, e.change.to_state) for e in world.history_of(contact.id)] == [
        (N, M),
        (M, P),
        (P, M),
    ]


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (MARKETING, MARKETING),  # M stays M
        (NON_MARKETING, NON_MARKETING),  # N stays N
    ],
)
async def test_s2_s4_a_no_op_stores_nothing_and_publishes_nothing(
    start: MarketingStatus, target: MarketingStatus
) -> None:
    services, world, caller = await small_tier()
    (contact,) = await make_contacts(services, caller, 1, start)
    before = world.snapshot()
    published = len(world.events.published)
    world.clock.advance(hours=1)
    result = await services.statuses.set_marketing_status(caller, [contact.id], target)
    assert result.contacts == [contact]
    assert world.snapshot() == before
    assert len(world.events.published) == published


async def test_s2_s4_non_marketing_on_pending_is_a_no_op() -> None:
    services, world, caller = await small_tier()
    (contact,) = await make_contacts(services, caller, 1, MARKETING)
    await services.statuses.set_marketing_status(caller, [contact.id], NON_MARKETING)
    before = world.snapshot()
    published = len(world.events.published)
    await services.statuses.set_marketing_status(caller, [contact.id], NON_MARKETING)
    assert world.snapshot() == before
    assert len(world.events.published) == published


async def test_s2_a_mixed_request_changes_only_those_that_move() -> None:
    services, world, caller = await small_tier()
    a, b = await make_contacts(services, caller, 2)
    await services.statuses.set_marketing_status(caller, [a.id], MARKETING)
    await services.statuses.set_marketing_status(caller, [a.id, b.id], MARKETING)
    assert len(world.history_of(a.id)) == 1
    assert len(world.history_of(b.id)) == 1
    assert world.account(caller.account_id).counts == UsageCounts(2, 0, 2)


# ---------------------------------------------------------------- S5, S7, sources


async def test_s5_set_marketing_without_marketing_access_is_forbidden() -> None:
    services, world, owner = await small_tier()
    (contact,) = await make_contacts(services, owner, 1)
    caller = await caller_for(services, owner.account_id, marketing_access=False)
    before = world.snapshot()
    with pytest.raises(DomainError) as refused:
        await services.statuses.set_marketing_status(caller, [contact.id], MARKETING)
    assert codes_and_fields(refused.value) == [(ErrorCode.FORBIDDEN, ("status",))]
    assert world.snapshot() == before


async def test_s5_non_marketing_needs_only_write_access() -> None:
    services, world, owner = await small_tier()
    (contact,) = await make_contacts(services, owner, 1, MARKETING)
    caller = await caller_for(services, owner.account_id, marketing_access=False)
    await services.statuses.set_marketing_status(caller, [contact.id], NON_MARKETING)
    assert world.contact(contact.id).state is P


async def test_s7_workflow_non_marketing_is_forbidden_on_starter() -> None:
    services, world, caller = await small_tier(edition=Edition.STARTER)
    (contact,) = await make_contacts(services, caller, 1, MARKETING)
    before = world.snapshot()
    with pytest.raises(DomainError) as refused:
        await services.statuses.set_marketing_status(
            caller, [contact.id], NON_MARKETING, StatusSourceType.WORKFLOW, "wf-1"
        )
    assert codes_and_fields(refused.value)[0][0] is ErrorCode.FORBIDDEN
    assert world.snapshot() == before


@pytest.mark.parametrize("edition", [Edition.PROFESSIONAL, Edition.ENTERPRISE])
async def test_s7_workflow_non_marketing_is_allowed_on_professional_and_enterprise(
    edition: Edition,
) -> None:
    services, world, caller = await small_tier(edition=edition)
    (contact,) = await make_contacts(services, caller, 1, MARKETING)
    await services.statuses.set_marketing_status(
        caller, [contact.id], NON_MARKETING, StatusSourceType.WORKFLOW, "wf-1"
    )
    stored = world.contact(contact.id)
    assert stored.state is P
    assert stored.status_source == StatusSource(StatusSourceType.WORKFLOW, "wf-1")


async def test_s7_workflow_marketing_is_allowed_on_starter() -> None:
    services, world, caller = await small_tier(edition=Edition.STARTER)
    (contact,) = await make_contacts(services, caller, 1)
    await services.statuses.set_marketing_status(
        caller, [contact.id], MARKETING, StatusSourceType.WORKFLOW, "wf-1"
    )
    assert world.contact(contact.id).state is M


@pytest.mark.parametrize(
    "source_type",
    [
        StatusSourceType.UPDATE_DATE,
        StatusSourceType.CREATION_DEFAULT,
        StatusSourceType.BULK_OPERATION,
        StatusSourceType.MERGE,
    ],
)
async def test_s4_claiming_a_service_source_is_invalid(source_type: StatusSourceType) -> None:
    services, world, caller = await small_tier()
    (contact,) = await make_contacts(services, caller, 1, MARKETING)
    before = world.snapshot()
    with pytest.raises(DomainError) as refused:
        await services.statuses.set_marketing_status(
            caller, [contact.id], NON_MARKETING, source_type, "2025-02-01"
        )
    assert codes_and_fields(refused.value) == [(ErrorCode.INVALID, ("source_type",))]
    assert world.snapshot() == before


# ---------------------------------------------------------------- T2, A2, A3


async def test_t2_upgrade_is_recorded_and_its_alerts_published_after_the_commit() -> None:
    services, world, caller = await small_tier()
    a, b, c = await make_contacts(services, caller, 3)
    await services.statuses.set_marketing_status(caller, [a.id, b.id], MARKETING)
    assert world.tier_changes_of(caller.account_id) == []
    alerts_before = len(world.alerts_of(caller.account_id))
    published_before = len(world.published_to(caller.account_id))
    world.clock.advance(minutes=1)
    result = await services.statuses.set_marketing_status(caller, [c.id], MARKETING)

    account = world.account(caller.account_id)
    assert account.tier_limit == 4
    assert result.usage.tier_limit == 4
    assert account.counts == UsageCounts(3, 0, 3)
    (change,) = world.tier_changes_of(caller.account_id)
    assert (change.from_limit, change.to_limit, change.marketing_contacts) == (2, 4, 3)
    assert change.at == world.clock.now()
    assert change.charge_date == world.clock.now().date() + timedelta(days=1)

    new_alerts = world.alerts_of(caller.account_id)[alerts_before:]
    assert [alert.kind for alert in new_alerts] == [
        TierAlertKind.TIER_EXCEEDED,
        TierAlertKind.TIER_UPGRADED,
        TierAlertKind.THRESHOLD_REACHED,  # 3 of 4 is 75%
    ]
    (published,) = world.published_to(caller.account_id)[published_before:]
    raised = [e.alert for e in published.events if isinstance(e, AlertRaised)]
    assert [stored.item for stored in raised] == new_alerts
    stored_page = await services.accounts.alerts(caller, 3, None)
    assert {s.id for s in raised} == {s.id for s in stored_page.items}
    # published after the commit: each alert was stored when it went out
    assert {s.id for s in raised} <= published.stored_alert_ids
    usage = [e.usage for e in published.events if isinstance(e, UsageChanged)]
    assert usage == [account.usage]


async def test_t2_tier_changes_are_listed_newest_first() -> None:
    services, world, caller = await small_tier()
    contacts = await make_contacts(services, caller, 7)
    for contact in contacts:
        await services.statuses.set_marketing_status(caller, [contact.id], MARKETING)
    page = await services.accounts.tier_changes(caller, 10, None)
    assert [(s.item.from_limit, s.item.to_limit) for s in page.items] == [(6, 8), (4, 6), (2, 4)]
    assert world.account(caller.account_id).tier_limit == 8
    rest = await services.accounts.tier_changes(caller, 1, page.cursors[0])
    assert [s.item.to_limit for s in rest.items] == [6]
    assert rest.has_next_page


async def test_t3_deleting_never_lowers_the_tier() -> None:
    services, world, caller = await small_tier()
    contacts = await make_contacts(services, caller, 3, MARKETING)
    assert world.account(caller.account_id).tier_limit == 4
    for contact in contacts:
        await services.contacts.delete(caller, contact.id)
    assert world.account(caller.account_id).tier_limit == 4
    assert world.account(caller.account_id).counts == UsageCounts(0, 0, 0)


# ---------------------------------------------------------------- T6


async def test_t6_block_refuses_a_change_past_the_tier_and_alerts_once_per_period() -> None:
    services, world, caller = await small_tier(UpgradePolicy.BLOCK)
    a, b, c, d = await make_contacts(services, caller, 4)
    await services.statuses.set_marketing_status(caller, [a.id, b.id], MARKETING)
    counts = world.account(caller.account_id).counts

    for attempt in ([c.id], [c.id, d.id]):
        with pytest.raises(DomainError) as refused:
            await services.statuses.set_marketing_status(caller, attempt, MARKETING)
        assert codes_and_fields(refused.value)[0][0] is ErrorCode.TIER_LIMIT_REACHED
        assert [world.contact(x.id).state for x in (a, b, c, d)] == [M, M, N, N]
        assert world.account(caller.account_id).counts == counts
        assert world.history_of(c.id) == []

    blocked = [
        alert
        for alert in world.alerts_of(caller.account_id)
        if alert.kind is TierAlertKind.UPGRADE_BLOCKED
    ]
    assert len(blocked) == 1
    assert (blocked[0].marketing_contacts, blocked[0].tier_limit) == (3, 2)
    assert world.account(caller.account_id).tier_limit == 2
    assert world.tier_changes_of(caller.account_id) == []
    raised = [s.item.kind for s in world.raised_alerts(caller.account_id)]
    assert raised.count(TierAlertKind.UPGRADE_BLOCKED) == 1


async def test_t6_block_also_refuses_creating_a_marketing_contact_past_the_tier() -> None:
    services, world, caller = await small_tier(UpgradePolicy.BLOCK)
    await make_contacts(services, caller, 2, MARKETING)
    with pytest.raises(DomainError) as refused:
        await make_contacts(services, caller, 1, MARKETING, prefix="third")
    assert codes_and_fields(refused.value)[0][0] is ErrorCode.TIER_LIMIT_REACHED
    assert len(world.contacts_of(caller.account_id)) == 2
    assert world.account(caller.account_id).counts == UsageCounts(2, 0, 2)


async def test_t6_block_lets_changes_that_fit_through() -> None:
    services, world, caller = await small_tier(UpgradePolicy.BLOCK)
    a, b, c = await make_contacts(services, caller, 3)
    await services.statuses.set_marketing_status(caller, [a.id, b.id], MARKETING)
    await services.statuses.set_marketing_status(caller, [a.id], NON_MARKETING)  # P still counts
    with pytest.raises(DomainError):
        await services.statuses.set_marketing_status(caller, [c.id], MARKETING)
    await services.statuses.set_marketing_status(caller, [a.id], MARKETING)  # P -> M: same count
    await services.contacts.delete(caller, b.id)
    await services.statuses.set_marketing_status(caller, [c.id], MARKETING)
    assert world.account(caller.account_id).counts == UsageCounts(2, 0, 2)


# ---------------------------------------------------------------- A3: publishing


async def test_a3_a_publishing_failure_neither_fails_nor_undoes_the_change() -> None:
    services, world, caller = await small_tier()
    contacts = await make_contacts(services, caller, 3)
    published = len(world.events.published)
    world.events.failure = ConnectionError("broker down")
    result = await services.statuses.set_marketing_status(
        caller, [c.id for c in contacts], MARKETING
    )
    assert [c.state for c in result.contacts] == [M, M, M]
    assert [world.contact(c.id).state for c in contacts] == [M, M, M]
    assert world.account(caller.account_id).counts == UsageCounts(3, 0, 3)
    assert world.account(caller.account_id).tier_limit == 4
    kinds = [alert.kind for alert in world.alerts_of(caller.account_id)]
    assert TierAlertKind.TIER_UPGRADED in kinds  # stored, readable by clients
    assert len(world.events.published) == published


async def test_a3_usage_changes_are_published_for_count_changes_only() -> None:
    services, world, caller = await small_tier()
    (contact,) = await make_contacts(services, caller, 1)
    await services.statuses.set_marketing_status(caller, [contact.id], MARKETING)
    last = world.published_to(caller.account_id)[-1]
    assert [e.usage.marketing_contacts for e in last.events if isinstance(e, UsageChanged)] == [1]
    before = len(world.events.published)
    world.clock.set(DEFAULT_NOW + timedelta(hours=1))
    await services.statuses.set_marketing_status(caller, [contact.id], NON_MARKETING)
    last = world.published_to(caller.account_id)[-1]
    assert len(world.events.published) == before + 1
    assert [e.usage.pending_non_marketing for e in last.events if isinstance(e, UsageChanged)] == [
        1
    ]
    assert world.account(caller.account_id).next_update_date == date(2025, 2, 1)

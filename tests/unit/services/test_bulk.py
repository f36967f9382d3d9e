"""BulkService and BulkRunner over the fakes: B1-B5, T2 and T6 for bulk status changes.

The runner runs with small chunks so that every operation takes several chunks; a test steps in
between two chunks through `FakeChangeWriter.interfere`, whose action runs inside the next chunk's
commit, before its conditions are checked (as a concurrent writer would land).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from marketing_contacts.domain.alerts import TierAlertKind
from marketing_contacts.domain.bulk import (
    BulkOperation,
    BulkOperationStatus,
    Selection,
    StatusChangePreview,
)
from marketing_contacts.domain.contacts import Contact
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
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.bulk import BulkRequest
from marketing_contacts.services.bulk_runner import BulkRunner, BulkRunnerSettings
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.services.ports.events import BulkProgressed, UsageChanged
from marketing_contacts.services.registry import Services
from tests.unit.services.fakes import (
    FakeWorld,
    caller_for,
    codes_and_fields,
    fake_services,
    make_contacts,
    never_transient,
    open_account,
)

N = MarketingState.NON_MARKETING
M = MarketingState.MARKETING
P = MarketingState.MARKETING_UNTIL_NEXT_UPDATE
MARKETING = MarketingStatus.MARKETING
NON_MARKETING = MarketingStatus.NON_MARKETING
EVERYONE = Selection(filter=ContactFilter())
LEASE = timedelta(seconds=60)
QUEUED = BulkOperationStatus.QUEUED
COMPLETED = BulkOperationStatus.COMPLETED


async def opened(
    policy: UpgradePolicy = UpgradePolicy.AUTO, tier_limit: int = 1000, tier_step: int = 1000
) -> tuple[Services, FakeWorld, Caller]:
    services, world = fake_services()
    opening = AccountOpening(
        name="Acme", upgrade_policy=policy, tier_limit=tier_limit, tier_step=tier_step
    )
    return services, world, await open_account(services, opening)


def runner_of(services: Services, chunk: int = 2) -> BulkRunner:
    """A worker of the same process (it shares the account locks) with small chunks."""
    return BulkRunner(services.ports, BulkRunnerSettings(chunk=chunk, lease=LEASE))


async def make_pending(services: Services, caller: Caller, count: int, prefix: str) -> list[str]:
    made = await make_contacts(services, caller, count, MARKETING, prefix)
    ids = [c.id for c in made]
    await services.statuses.set_marketing_status(caller, ids, NON_MARKETING)
    return ids


async def make_one(services: Services, caller: Caller, draft: ContactDraft) -> str:
    return (await services.contacts.create(caller, draft)).id


def states(world: FakeWorld, ids: list[str]) -> list[MarketingState]:
    return [world.contact(i).state for i in ids]


def counters(operation: BulkOperation) -> tuple[int, int, int, int, int, int]:
    """(matched, processed, changedNow, becamePending, unchanged, failed)"""
    p = operation.progress
    return (p.matched, p.processed, p.changed_now, p.became_pending, p.unchanged, p.failed)


def stored(world: FakeWorld, operation_id: str) -> BulkOperation:
    return world.data.operations[operation_id]


def by_operation(world: FakeWorld, contact_id: str, operation_id: str) -> int:
    """How many history entries of the contact name the bulk operation as their source."""
    source = StatusSource(StatusSourceType.BULK_OPERATION, operation_id)
    return sum(e.change.source == source for e in world.history_of(contact_id))


def progressed(world: FakeWorld, account_id: str, operation_id: str) -> int:
    """How many BulkProgressed events were published for the operation."""
    return sum(
        event == BulkProgressed(operation_id)
        for published in world.published_to(account_id)
        for event in published.events
    )


def assert_counts_exact(world: FakeWorld, account_id: str) -> None:
    """T1: the account's counters equal a recount of its contacts."""
    assert world.account(account_id).counts == world.recount(account_id)


async def nothing() -> None:
    """An interference that does nothing (lets one commit pass untouched)."""


@dataclass
class Population:
    """A mixed account: tier 6 (AUTO, step 6); 4 N, 3 M and 2 P contacts, 2 of them unengaged."""

    services: Services
    world: FakeWorld
    caller: Caller
    n: list[str]
    m: list[str]
    p: list[str]
    bounced_m: str
    unsubscribed_p: str
    bounced_n: str
    list_id: str

    @property
    def all_ids(self) -> list[str]:
        return sorted(
            [*self.n, *self.m, *self.p, self.bounced_m, self.unsubscribed_p, self.bounced_n]
        )


async def population() -> Population:
    services, world, caller = await opened(tier_limit=6, tier_step=6)
    n = [c.id for c in await make_contacts(services, caller, 3, NON_MARKETING, "n")]
    m = [c.id for c in await make_contacts(services, caller, 2, MARKETING, "m")]
    p = await make_pending(services, caller, 1, "p")
    bounced_m = await make_one(
        services,
        caller,
        ContactDraft(marketing_status=MARKETING, email="bm@example.com", email_hard_bounced=True),
    )
    unsubscribed_p = await make_one(
        services,
        caller,
        ContactDraft(
            marketing_status=MARKETING, email="up@example.com", unsubscribed_from_all=True
        ),
    )
    await services.statuses.set_marketing_status(caller, [unsubscribed_p], NON_MARKETING)
    bounced_n = await make_one(
        services,
        caller,
        ContactDraft(
            marketing_status=NON_MARKETING, email="bn@example.com", email_hard_bounced=True
        ),
    )
    contact_list = await services.lists.create(caller, "Some", [n[1], n[2], m[1]])
    assert world.account(caller.account_id).counts == UsageCounts(marketing=5, pending=2, total=9)
    return Population(
        services, world, caller, n, m, p, bounced_m, unsubscribed_p, bounced_n, contact_list.id
    )


# ---------------------------------------------------------------- B2 preview


def selection_of(kind: str, pop: Population, foreign_id: str) -> Selection:
    if kind == "ids":  # an id twice and another account's id: 3 contacts
        return Selection(ids=(pop.n[0], pop.m[0], pop.p[0], pop.n[0], foreign_id))
    if kind == "filter":  # marketing: M and P
        return Selection(filter=ContactFilter(marketing_status=MARKETING))
    if kind == "list":
        return Selection(list_id=pop.list_id)
    assert kind == "unengaged"  # marketing contacts that bounced or unsubscribed
    return Selection(unengaged=True)


@pytest.mark.parametrize(
    ("kind", "target", "expected"),
    [
        # (matched, change now, become pending, unchanged)
        ("ids", MARKETING, (3, 2, 0, 1)),
        ("ids", NON_MARKETING, (3, 0, 1, 2)),
        ("filter", MARKETING, (5, 2, 0, 3)),
        ("filter", NON_MARKETING, (5, 0, 3, 2)),
        ("list", MARKETING, (3, 2, 0, 1)),
        ("list", NON_MARKETING, (3, 0, 1, 2)),
        ("unengaged", MARKETING, (2, 1, 0, 1)),
        ("unengaged", NON_MARKETING, (2, 0, 1, 1)),
    ],
)
async def test_b2_preview_counts_each_selection_kind_and_changes_nothing(
    kind: str, target: MarketingStatus, expected: tuple[int, int, int, int]
) -> None:
    pop = await population()
    stranger = await open_account(pop.services, AccountOpening(name="Stranger"))
    (foreign,) = await make_contacts(pop.services, stranger, 1)
    before = pop.world.snapshot()
    published = len(pop.world.events.published)
    preview = await pop.services.bulk.preview(
        pop.caller, selection_of(kind, pop, foreign.id), target
    )
    assert (
        preview.matched,
        preview.change_now,
        preview.become_pending,
        preview.unchanged,
    ) == expected
    assert pop.world.snapshot() == before
    assert len(pop.world.events.published) == published
    assert pop.world.jobs.enqueued == []


async def test_b2_preview_tells_the_counts_after_and_the_upgrade() -> None:
    pop = await population()
    # the list holds 2 N and 1 M: 5 + 2 = 7 marketing, past the tier of 6
    preview = await pop.services.bulk.preview(pop.caller, Selection(list_id=pop.list_id), MARKETING)
    assert preview == StatusChangePreview(
        matched=3,
        change_now=2,
        become_pending=0,
        unchanged=1,
        marketing_contacts_after=7,
        projected_after_next_update=5,
        tier_limit_after=12,
        would_upgrade=True,
        would_be_blocked=False,
    )
    # setting the 5 marketing ones non-marketing: all still count until the update date
    pending = await pop.services.bulk.preview(
        pop.caller, Selection(filter=ContactFilter(marketing_status=MARKETING)), NON_MARKETING
    )
    assert (pending.marketing_contacts_after, pending.projected_after_next_update) == (5, 0)
    assert (pending.tier_limit_after, pending.would_upgrade) == (6, False)


async def test_b2_preview_of_an_unknown_or_foreign_list_is_not_found() -> None:
    services, world, caller = await opened()
    stranger = await open_account(services, AccountOpening(name="Stranger"))
    foreign = await services.lists.create(stranger, "Theirs")
    before = world.snapshot()
    for list_id in ("no-such-list", foreign.id):
        with pytest.raises(DomainError) as refused:
            await services.bulk.preview(caller, Selection(list_id=list_id), NON_MARKETING)
        assert codes_and_fields(refused.value) == [(ErrorCode.NOT_FOUND, ("selection", "list_id"))]
    assert world.snapshot() == before


# ---------------------------------------------------------------- start, B3


async def test_start_persists_a_queued_operation_and_enqueues_one_job() -> None:
    services, world, caller = await opened()
    made = await make_contacts(services, caller, 3)
    world.clock.advance(minutes=5)
    operation = await services.bulk.start(
        caller, BulkRequest(EVERYONE, MARKETING, confirm_count=3, source_id="campaign-7")
    )
    assert operation.status is BulkOperationStatus.QUEUED
    assert (operation.account_id, operation.target) == (caller.account_id, MARKETING)
    assert operation.progress.matched == 3
    assert operation.created_at == world.clock.now()
    assert operation.requested_by == caller.user_id
    assert operation.source_id == "campaign-7"
    assert stored(world, operation.id).status is BulkOperationStatus.QUEUED
    assert world.jobs.enqueued == [world.jobs.bulk_job(caller.account_id)]
    # B4: queued, not applied: the contacts are still as they were
    assert states(world, [c.id for c in made]) == [N, N, N]
    assert world.account(caller.account_id).counts == UsageCounts(0, 0, 3)
    assert await services.bulk.get(caller, operation.id) == stored(world, operation.id)


@pytest.mark.parametrize(
    ("request_of", "field"),
    [
        (
            lambda long: BulkRequest(EVERYONE, NON_MARKETING, idempotency_key=long),
            "idempotency_key",
        ),
        (lambda long: BulkRequest(EVERYONE, NON_MARKETING, source_id=long), "source_id"),
    ],
)
async def test_b5_keys_and_source_ids_past_their_limit_are_invalid_and_nothing_is_queued(
    request_of: Callable[[str], BulkRequest], field: str
) -> None:
    services, world, caller = await opened()
    await make_contacts(services, caller, 2)
    before = world.snapshot()
    with pytest.raises(DomainError) as refused:
        await services.bulk.start(caller, request_of("k" * (MAX_ID_LENGTH + 1)))
    assert codes_and_fields(refused.value) == [(ErrorCode.INVALID, (field,))]
    assert world.snapshot() == before
    assert world.jobs.enqueued == []


async def test_b3_marketing_without_the_matched_count_is_refused_and_nothing_is_queued() -> None:
    services, world, caller = await opened()
    await make_contacts(services, caller, 4)
    before = world.snapshot()
    for confirm in (None, 3, 5, 0):
        with pytest.raises(DomainError) as refused:
            await services.bulk.start(
                caller, BulkRequest(EVERYONE, MARKETING, confirm_count=confirm)
            )
        assert codes_and_fields(refused.value) == [
            (ErrorCode.CONFIRMATION_MISMATCH, ("confirm_count",))
        ]
        assert world.snapshot() == before
        assert world.jobs.enqueued == []


async def test_b3_non_marketing_needs_no_confirmation() -> None:
    services, world, caller = await opened()
    await make_contacts(services, caller, 2, MARKETING)
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, NON_MARKETING))
    assert operation.progress.matched == 2
    assert world.jobs.enqueued == [world.jobs.bulk_job(caller.account_id)]


async def test_b3_a_confirmation_counts_only_the_contacts_matched() -> None:
    services, _, caller = await opened()
    a, b = await make_contacts(services, caller, 2)
    # an id twice and an unknown id: 2 contacts matched
    selection = Selection(ids=(a.id, b.id, a.id, "no-such-contact"))
    with pytest.raises(DomainError) as refused:
        await services.bulk.start(caller, BulkRequest(selection, MARKETING, confirm_count=4))
    assert codes_and_fields(refused.value)[0][0] is ErrorCode.CONFIRMATION_MISMATCH
    operation = await services.bulk.start(
        caller, BulkRequest(selection, MARKETING, confirm_count=2)
    )
    assert operation.progress.matched == 2


async def test_start_on_an_unknown_list_is_not_found_and_nothing_is_queued() -> None:
    services, world, caller = await opened()
    await make_contacts(services, caller, 2)
    before = world.snapshot()
    with pytest.raises(DomainError) as refused:
        await services.bulk.start(caller, BulkRequest(Selection(list_id="nope"), NON_MARKETING))
    assert codes_and_fields(refused.value) == [(ErrorCode.NOT_FOUND, ("selection", "list_id"))]
    assert world.snapshot() == before
    assert world.jobs.enqueued == []


async def test_s5_bulk_marketing_without_marketing_access_is_forbidden() -> None:
    services, world, owner = await opened()
    await make_contacts(services, owner, 2)
    caller = await caller_for(services, owner.account_id, marketing_access=False)
    before = world.snapshot()
    with pytest.raises(DomainError) as refused:
        await services.bulk.start(caller, BulkRequest(EVERYONE, MARKETING, confirm_count=2))
    assert codes_and_fields(refused.value) == [(ErrorCode.FORBIDDEN, ("status",))]
    assert world.snapshot() == before
    assert world.jobs.enqueued == []
    # setting non-marketing needs only write access
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, NON_MARKETING))
    assert stored(world, operation.id).status is BulkOperationStatus.QUEUED


async def test_start_when_the_job_queue_is_down_still_persists_the_operation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    services, world, caller = await opened()
    await make_contacts(services, caller, 2)
    world.jobs.failing = True
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, NON_MARKETING))
    assert operation.status is BulkOperationStatus.QUEUED
    assert stored(world, operation.id).status is BulkOperationStatus.QUEUED
    assert world.jobs.enqueued == []
    assert f"enqueueing bulk operation {operation.id} failed" in caplog.text


async def test_operations_are_listed_newest_first_and_only_the_callers() -> None:
    services, _, caller = await opened()
    stranger = await open_account(services, AccountOpening(name="Stranger"))
    first = await services.bulk.start(caller, BulkRequest(EVERYONE, NON_MARKETING))
    theirs = await services.bulk.start(stranger, BulkRequest(EVERYONE, NON_MARKETING))
    second = await services.bulk.start(caller, BulkRequest(EVERYONE, NON_MARKETING))
    page = await services.bulk.page(caller, 10, None)
    assert [o.id for o in page.items] == [second.id, first.id]
    assert not page.has_next_page
    one = await services.bulk.page(caller, 1, None)
    assert [o.id for o in one.items] == [second.id] and one.has_next_page
    rest = await services.bulk.page(caller, 10, one.cursors[0])
    assert [o.id for o in rest.items] == [first.id]
    assert await services.bulk.get(caller, theirs.id) is None


# ---------------------------------------------------------------- B5 idempotency


async def test_b5_same_key_and_input_returns_the_same_operation_and_enqueues_once() -> None:
    services, world, caller = await opened()
    await make_contacts(services, caller, 3)
    request = BulkRequest(EVERYONE, MARKETING, confirm_count=3, idempotency_key="k-1")
    first = await services.bulk.start(caller, request)
    world.clock.advance(hours=1)
    again = await services.bulk.start(caller, request)
    assert again.id == first.id
    assert again == stored(world, first.id)
    assert list(world.data.operations) == [first.id]
    assert world.jobs.enqueued == [world.jobs.bulk_job(caller.account_id)]


@pytest.mark.parametrize(
    "other",
    [
        BulkRequest(EVERYONE, NON_MARKETING, idempotency_key="k-1"),
        BulkRequest(
            Selection(filter=ContactFilter(marketing_status=NON_MARKETING)),
            MARKETING,
            confirm_count=3,
            idempotency_key="k-1",
        ),
        BulkRequest(EVERYONE, MARKETING, confirm_count=3, idempotency_key="k-1", source_id="x"),
    ],
    ids=["another-target", "another-selection", "another-source"],
)
async def test_b5_same_key_with_another_input_is_a_conflict_and_stores_nothing(
    other: BulkRequest,
) -> None:
    services, world, caller = await opened()
    await make_contacts(services, caller, 3)
    first = await services.bulk.start(
        caller, BulkRequest(EVERYONE, MARKETING, confirm_count=3, idempotency_key="k-1")
    )
    before = world.snapshot()
    with pytest.raises(DomainError) as refused:
        await services.bulk.start(caller, other)
    assert codes_and_fields(refused.value) == [(ErrorCode.CONFLICT, ("idempotency_key",))]
    assert world.snapshot() == before
    assert world.jobs.enqueued == [world.jobs.bulk_job(first.account_id)]


async def test_b5_the_key_is_held_for_24_hours_then_free() -> None:
    services, world, caller = await opened()
    await make_contacts(services, caller, 2)
    request = BulkRequest(EVERYONE, NON_MARKETING, idempotency_key="nightly")
    first = await services.bulk.start(caller, request)
    world.clock.advance(hours=23, minutes=59, seconds=59)
    assert (await services.bulk.start(caller, request)).id == first.id
    world.clock.advance(seconds=1)  # 24 hours after the first start
    later = await services.bulk.start(caller, request)
    assert later.id != first.id
    # one job for the account's operations: still waiting, it takes the later one too
    assert world.jobs.enqueued == [world.jobs.bulk_job(caller.account_id)]
    # the key now names the new operation, and another input is a conflict again
    assert (await services.bulk.start(caller, request)).id == later.id
    with pytest.raises(DomainError) as refused:
        await services.bulk.start(
            caller, BulkRequest(EVERYONE, MARKETING, confirm_count=2, idempotency_key="nightly")
        )
    assert codes_and_fields(refused.value)[0][0] is ErrorCode.CONFLICT


async def test_b5_keys_are_per_account() -> None:
    services, world, caller = await opened()
    stranger = await open_account(services, AccountOpening(name="Stranger"))
    request = BulkRequest(EVERYONE, NON_MARKETING, idempotency_key="shared-key")
    ours = await services.bulk.start(caller, request)
    theirs = await services.bulk.start(stranger, request)
    assert theirs.id != ours.id
    assert theirs.account_id == stranger.account_id
    assert world.jobs.enqueued == [
        world.jobs.bulk_job(ours.account_id),
        world.jobs.bulk_job(theirs.account_id),
    ]
    # another input under a key another account holds is no conflict
    newcomer = await open_account(services, AccountOpening(name="Newcomer"))
    other = BulkRequest(Selection(unengaged=True), NON_MARKETING, idempotency_key="shared-key")
    own = await services.bulk.start(newcomer, other)
    assert own.account_id == newcomer.account_id
    # and each account's retry finds its own operation
    assert (await services.bulk.start(caller, request)).id == ours.id
    assert (await services.bulk.start(stranger, request)).id == theirs.id
    assert (await services.bulk.start(newcomer, other)).id == own.id
    assert len(world.data.operations) == 3


async def test_b5_without_a_key_every_start_is_a_new_operation() -> None:
    services, world, caller = await opened()
    request = BulkRequest(EVERYONE, NON_MARKETING)
    first = await services.bulk.start(caller, request)
    second = await services.bulk.start(caller, request)
    assert first.id != second.id
    assert [stored(world, o.id).status for o in (first, second)] == [QUEUED, QUEUED]
    assert world.jobs.enqueued == [world.jobs.bulk_job(caller.account_id)]  # one per account


async def test_b5_a_retry_after_a_contact_joined_the_selection_returns_the_operation() -> None:
    """The answer to the first request was lost; meanwhile the selection grew by one contact.
    The retry must not be judged again (B3 would refuse it): it gets the operation."""
    services, world, caller = await opened()
    await make_contacts(services, caller, 3)
    request = BulkRequest(EVERYONE, MARKETING, confirm_count=3, idempotency_key="k-1")
    first = await services.bulk.start(caller, request)
    world.clock.advance(seconds=5)
    await make_contacts(services, caller, 1, prefix="late")
    again = await services.bulk.start(caller, request)
    assert again.id == first.id
    assert world.jobs.enqueued == [world.jobs.bulk_job(caller.account_id)]


async def test_b5_a_retry_after_the_operation_ran_or_its_list_went_returns_the_operation() -> None:
    services, _, caller = await opened()
    made = await make_contacts(services, caller, 3)
    created = await services.lists.create(caller, "Fair", [c.id for c in made])
    request = BulkRequest(
        Selection(list_id=created.id), MARKETING, confirm_count=3, idempotency_key="k-1"
    )
    first = await services.bulk.start(caller, request)
    await runner_of(services).run(first.id, "worker-1")  # the 3 are marketing now
    await services.lists.delete(caller, created.id)
    again = await services.bulk.start(caller, request)
    assert again.id == first.id and again.status is BulkOperationStatus.COMPLETED


# ---------------------------------------------------------------- B4 the runner


async def test_b4_a_run_to_marketing_applies_s2_in_chunks_and_upgrades_the_tier() -> None:
    pop = await population()
    services, world, caller = pop.services, pop.world, pop.caller
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, MARKETING, confirm_count=9))
    world.clock.advance(minutes=1)
    seen: list[int] = []

    async def record() -> None:  # before each chunk's commit: what earlier chunks recorded
        seen.append(stored(world, operation.id).progress.processed)

    world.writer.always = record
    done = await runner_of(services, chunk=3).run(operation.id, "worker-1")
    world.writer.always = None
    assert done is not None and done == stored(world, operation.id)
    assert done.status is BulkOperationStatus.COMPLETED
    # 4 N and 2 P became M, the 3 M stayed: all 9 are marketing now
    assert counters(done) == (9, 9, 6, 0, 3, 0)
    assert done.progress.progress == 1.0
    assert done.progress.errors() == []
    assert (done.started_at, done.finished_at) == (world.clock.now(), world.clock.now())
    assert states(world, pop.all_ids) == [M] * 9
    assert world.account(caller.account_id).counts == UsageCounts(9, 0, 9)
    assert_counts_exact(world, caller.account_id)
    # T2: 9 marketing, past the tier of 6: one upgrade, to 12
    assert world.account(caller.account_id).tier_limit == 12
    assert [(t.from_limit, t.to_limit) for t in world.tier_changes_of(caller.account_id)] == [
        (6, 12)
    ]
    # 3 chunks of 3, progress recorded after each of them
    assert seen == [0, 3, 6]
    assert progressed(world, caller.account_id, operation.id) == 3 + 1  # each chunk, the end
    changed = [*pop.n, *pop.p, pop.unsubscribed_p, pop.bounced_n]
    for contact_id in pop.all_ids:
        assert by_operation(world, contact_id, operation.id) == (contact_id in changed)
    entry = world.history_of(pop.n[0])[-1]
    assert (entry.change.from_state, entry.change.to_state) == (N, M)
    assert entry.change.at == world.clock.now()
    assert operation.id not in world.data.pages  # the resolved selection is dropped at the end


async def test_b4_a_run_to_non_marketing_makes_marketing_contacts_pending() -> None:
    pop = await population()
    services, world, caller = pop.services, pop.world, pop.caller
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, NON_MARKETING))
    done = await runner_of(services, chunk=4).run(operation.id, "worker-1")
    assert done is not None and done.status is BulkOperationStatus.COMPLETED
    # 3 M became P; 4 N and 2 P stay as they are
    assert counters(done) == (9, 9, 0, 3, 6, 0)
    assert states(world, [*pop.m, pop.bounced_m]) == [P, P, P]
    assert states(world, [*pop.n, pop.bounced_n]) == [N] * 4
    # S3: nobody left the count; all 5 wait for the update date
    assert world.account(caller.account_id).counts == UsageCounts(5, 5, 9)
    assert_counts_exact(world, caller.account_id)
    for contact_id in [*pop.m, pop.bounced_m]:
        assert by_operation(world, contact_id, operation.id) == 1
        assert world.contact(contact_id).status_source == StatusSource(
            StatusSourceType.BULK_OPERATION, operation.id
        )
    for contact_id in [*pop.n, *pop.p, pop.unsubscribed_p, pop.bounced_n]:
        assert by_operation(world, contact_id, operation.id) == 0
    assert progressed(world, caller.account_id, operation.id) == 3 + 1  # chunks of 4, 4, 1
    usage = [
        e.usage.counts
        for published in world.published_to(caller.account_id)
        for e in published.events
        if isinstance(e, UsageChanged)
    ]
    assert usage[-1] == UsageCounts(5, 5, 9)


async def test_b4_a_finished_operation_does_not_run_twice() -> None:
    services, world, caller = await opened()
    await make_contacts(services, caller, 3)
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, MARKETING, confirm_count=3))
    runner = runner_of(services)
    assert await runner.run(operation.id, "worker-1") is not None
    before = world.snapshot()
    published = len(world.events.published)
    assert await runner.run(operation.id, "worker-1") is None
    assert await runner.run(operation.id, "worker-2") is None
    assert world.snapshot() == before
    assert len(world.events.published) == published


async def test_b4_an_empty_selection_completes_at_once() -> None:
    services, world, caller = await opened()
    await make_contacts(services, caller, 2)
    nobody = Selection(filter=ContactFilter(email_domain="nobody.example"))
    operation = await services.bulk.start(caller, BulkRequest(nobody, NON_MARKETING))
    done = await runner_of(services).run(operation.id, "worker-1")
    assert done is not None and done.status is BulkOperationStatus.COMPLETED
    assert counters(done) == (0, 0, 0, 0, 0, 0)
    assert done.progress.progress == 1.0
    assert world.account(caller.account_id).counts == UsageCounts(0, 0, 2)


async def test_b1_another_accounts_contact_named_by_id_is_left_alone() -> None:
    services, world, caller = await opened()
    stranger = await open_account(services, AccountOpening(name="Stranger"))
    (foreign,) = await make_contacts(services, stranger, 1)
    (own,) = await make_contacts(services, caller, 1)
    selection = Selection(ids=(own.id, foreign.id))
    operation = await services.bulk.start(
        caller, BulkRequest(selection, MARKETING, confirm_count=1)
    )
    done = await runner_of(services).run(operation.id, "worker-1")
    assert done is not None and counters(done) == (1, 1, 1, 0, 0, 0)
    assert world.contact(foreign.id) == foreign
    assert world.account(stranger.account_id).counts == UsageCounts(0, 0, 1)


async def test_b1_contacts_created_while_it_runs_are_not_included() -> None:
    services, world, caller = await opened()
    made = await make_contacts(services, caller, 4)
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, MARKETING, confirm_count=4))
    other = world.another_process()
    late: list[Contact] = []

    async def create_late() -> None:
        world.clock.advance(seconds=1)
        late.extend(await make_contacts(other, caller, 2, prefix="late"))

    world.writer.interfere(create_late)  # lands in the first chunk's commit
    done = await runner_of(services).run(operation.id, "worker-1")
    assert done is not None and counters(done) == (4, 4, 4, 0, 0, 0)
    assert states(world, [c.id for c in made]) == [M] * 4
    assert states(world, [c.id for c in late]) == [N, N]
    assert world.account(caller.account_id).counts == UsageCounts(4, 0, 6)
    assert_counts_exact(world, caller.account_id)


async def test_b1_contacts_created_while_it_waits_in_the_queue_are_not_included() -> None:
    """B1/B3: the user confirmed what the selection matched when they started it; a queue
    backlog must not let later contacts in."""
    services, world, caller = await opened()
    made = await make_contacts(services, caller, 2)
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, MARKETING, confirm_count=2))
    world.clock.advance(seconds=1)
    late = await make_contacts(services, caller, 3, prefix="late")
    world.clock.advance(seconds=1)
    done = await runner_of(services).run(operation.id, "worker-1")
    assert done is not None and counters(done) == (2, 2, 2, 0, 0, 0)
    assert states(world, [c.id for c in made]) == [M, M]
    assert states(world, [c.id for c in late]) == [N, N, N]
    assert_counts_exact(world, caller.account_id)


async def test_b1_contacts_created_after_a_worker_started_it_are_not_included() -> None:
    services, world, caller = await opened()
    made = await make_contacts(services, caller, 3)
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, MARKETING, confirm_count=3))
    # a worker takes it and dies before resolving the selection
    now = world.clock.now()
    claimed = await services.ports.operations.claim(operation.id, "job-1", now, now + LEASE)
    assert claimed is not None and claimed.started_at == now
    world.clock.advance(seconds=1)
    late = await make_contacts(services, caller, 2, prefix="late")
    done = await runner_of(services).run(operation.id, "job-1")  # the job's retry
    assert done is not None and counters(done) == (3, 3, 3, 0, 0, 0)
    assert done.started_at == now
    assert states(world, [c.id for c in made]) == [M] * 3
    assert states(world, [c.id for c in late]) == [N, N]
    assert_counts_exact(world, caller.account_id)


async def test_b4_a_contact_deleted_after_resolution_counts_as_failed_not_found() -> None:
    services, world, caller = await opened()
    made = await make_contacts(services, caller, 5, MARKETING)
    ids = [c.id for c in made]
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, NON_MARKETING))
    other = world.another_process()

    async def delete_the_fourth() -> None:
        await other.contacts.delete(caller, ids[3])

    world.writer.interfere(delete_the_fourth)  # lands in the first chunk's commit
    done = await runner_of(services).run(operation.id, "worker-1")
    assert done is not None and done.status is BulkOperationStatus.COMPLETED
    assert counters(done) == (5, 5, 0, 4, 0, 1)
    assert dict(done.progress.failures) == {ErrorCode.NOT_FOUND: 1}
    assert [e.code for e in done.progress.errors()] == [ErrorCode.NOT_FOUND]
    assert ids[3] not in world.data.contacts
    assert states(world, ids[:3] + ids[4:]) == [P] * 4
    assert world.account(caller.account_id).counts == UsageCounts(4, 4, 4)
    assert_counts_exact(world, caller.account_id)


async def test_b4_a_page_whose_contacts_were_all_deleted_does_not_end_the_run() -> None:
    services, world, caller = await opened()
    made = await make_contacts(services, caller, 6, MARKETING)
    ids = [c.id for c in made]
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, NON_MARKETING))
    other = world.another_process()

    async def delete_the_second_page() -> None:
        for contact_id in ids[2:4]:
            await other.contacts.delete(caller, contact_id)

    world.writer.interfere(delete_the_second_page)  # lands in the first page's commit
    done = await runner_of(services).run(operation.id, "worker-1")
    assert done is not None and done.status is BulkOperationStatus.COMPLETED
    assert counters(done) == (6, 6, 0, 4, 0, 2)
    assert states(world, ids[:2] + ids[4:]) == [P] * 4
    assert_counts_exact(world, caller.account_id)


async def test_b4_a_crashed_run_is_resumed_without_applying_a_contact_twice() -> None:
    services, world, caller = await opened()
    made = await make_contacts(services, caller, 7)
    ids = [c.id for c in made]
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, MARKETING, confirm_count=7))

    async def crash() -> None:
        raise RuntimeError("worker killed")

    world.writer.interfere(nothing, crash)  # the first chunk commits, the second dies
    runner = runner_of(services)
    job = world.jobs.take()  # worker-1's job, which dies with it
    with pytest.raises(RuntimeError):
        await runner.run(operation.id, job)
    halfway = stored(world, operation.id)
    assert halfway.status is BulkOperationStatus.RUNNING
    assert counters(halfway) == (7, 2, 2, 0, 0, 0)
    assert states(world, ids) == [M, M, N, N, N, N, N]
    assert_counts_exact(world, caller.account_id)
    # another worker finds it held while the lease lasts
    before = world.snapshot()
    assert await runner_of(world.another_process()).run(operation.id, "worker-2") is None
    assert world.snapshot() == before
    # the lease runs out: the sweeper hands it over and another worker finishes it
    world.clock.advance(seconds=61)
    assert await runner.sweep() == [operation.id]
    assert world.jobs.enqueued == [job, world.jobs.bulk_job(caller.account_id)] != [job, job]
    done = await runner_of(world.another_process()).run(operation.id, "worker-2")
    assert done is not None and done.status is BulkOperationStatus.COMPLETED
    assert counters(done) == (7, 7, 7, 0, 0, 0)
    assert states(world, ids) == [M] * 7
    assert world.account(caller.account_id).counts == UsageCounts(7, 0, 7)
    assert_counts_exact(world, caller.account_id)
    assert [by_operation(world, i, operation.id) for i in ids] == [1] * 7


async def test_b4_a_worker_stalled_past_its_lease_stops_for_the_new_holder() -> None:
    services, world, caller = await opened()
    made = await make_contacts(services, caller, 7)
    ids = [c.id for c in made]
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, MARKETING, confirm_count=7))
    runner = runner_of(services)
    world.jobs.take()  # worker-1 runs the account's job

    async def stall_past_the_lease() -> None:
        # worker-1 pauses (a long GC or database pause) after its first page; meanwhile the
        # lease runs out, and the sweeper's new job claims the operation
        world.clock.advance(seconds=61)
        assert await runner.sweep() == [operation.id]
        assert await world.operations.claim(
            operation.id, "worker-2", world.clock.now(), world.clock.now() + LEASE
        )

    world.writer.interfere(nothing, stall_past_the_lease)
    # worker-1 stops at its next page instead of going on beside worker-2
    assert await runner.run(operation.id, "worker-1") is None
    held = stored(world, operation.id)
    assert (held.status, held.next_page, held.lease_owner) == (
        BulkOperationStatus.RUNNING,
        1,
        "worker-2",
    )
    assert counters(held)[1] == 2  # one page of two contacts, by worker-1
    done = await runner_of(world.another_process()).run(operation.id, "worker-2")
    assert done is not None and done.status is BulkOperationStatus.COMPLETED
    assert counters(done) == (7, 7, 7, 0, 0, 0)
    assert states(world, ids) == [M] * 7
    assert [by_operation(world, i, operation.id) for i in ids] == [1] * 7
    assert_counts_exact(world, caller.account_id)


async def test_b4_the_same_worker_resumes_its_own_operation_within_the_lease() -> None:
    services, world, caller = await opened()
    made = await make_contacts(services, caller, 5)
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, MARKETING, confirm_count=5))

    async def crash() -> None:
        raise ConnectionError("database away")

    world.writer.interfere(nothing, crash)
    runner = runner_of(services)
    with pytest.raises(ConnectionError):
        await runner.run(operation.id, "job-1")
    # the job's retry (same job id, lease still live) takes it up again at once
    done = await runner.run(operation.id, "job-1")
    assert done is not None and counters(done) == (5, 5, 5, 0, 0, 0)
    assert [by_operation(world, c.id, operation.id) for c in made] == [1] * 5


async def test_b4_two_workers_started_together_apply_each_contact_once() -> None:
    services, world, caller = await opened()
    made = await make_contacts(services, caller, 6)
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, MARKETING, confirm_count=6))
    one = runner_of(services)
    two = runner_of(world.another_process())
    results = await asyncio.gather(one.run(operation.id, "w-1"), two.run(operation.id, "w-2"))
    assert sorted(r is None for r in results) == [False, True]
    assert counters(stored(world, operation.id)) == (6, 6, 6, 0, 0, 0)
    assert [by_operation(world, c.id, operation.id) for c in made] == [1] * 6
    assert_counts_exact(world, caller.account_id)


async def test_fail_ends_the_operation_failed_and_keeps_what_was_applied() -> None:
    services, world, caller = await opened()
    made = await make_contacts(services, caller, 5, MARKETING)
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, NON_MARKETING))

    async def crash() -> None:
        raise ValueError("a document the codec cannot read")

    world.writer.interfere(nothing, crash)
    runner = runner_of(services)
    with pytest.raises(ValueError):
        await runner.run(operation.id, "worker-1")
    events = progressed(world, caller.account_id, operation.id)
    world.clock.advance(seconds=5)
    await runner.fail(operation.id, "ValueError: a document the codec cannot read")
    failed = stored(world, operation.id)
    assert failed.status is BulkOperationStatus.FAILED
    assert failed.failure == "ValueError: a document the codec cannot read"
    assert failed.finished_at == world.clock.now()
    assert counters(failed) == (5, 2, 0, 2, 0, 0)
    assert states(world, [c.id for c in made]) == [P, P, M, M, M]
    assert operation.id not in world.data.pages
    assert progressed(world, caller.account_id, operation.id) == events + 1
    # it is over: neither a worker nor the sweeper takes it up again
    world.clock.advance(hours=1)
    assert await runner.run(operation.id, "worker-2") is None
    assert await runner.sweep() == []


# ---------------------------------------------------------------- B4 cancel


async def test_b4_cancel_stops_after_the_current_chunk_and_keeps_what_was_applied() -> None:
    services, world, caller = await opened()
    made = await make_contacts(services, caller, 6)
    ids = [c.id for c in made]
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, MARKETING, confirm_count=6))
    api = world.another_process()
    cancelled: list[BulkOperation] = []

    async def cancel() -> None:
        world.clock.advance(seconds=3)
        cancelled.append(await api.bulk.cancel(caller, operation.id))

    world.writer.interfere(nothing, cancel)  # lands while the second chunk commits
    done = await runner_of(services).run(operation.id, "worker-1")
    assert done is not None and done.status is BulkOperationStatus.CANCELLED
    assert cancelled[0].status is BulkOperationStatus.CANCELLED
    assert done.finished_at == world.clock.now()
    assert counters(done) == (6, 2, 2, 0, 0, 0)
    assert states(world, ids) == [M, M, N, N, N, N]
    assert world.account(caller.account_id).counts == UsageCounts(2, 0, 6)
    assert_counts_exact(world, caller.account_id)
    assert operation.id not in world.data.pages
    # one event for the chunk, one for the cancellation, one when the run stopped
    assert progressed(world, caller.account_id, operation.id) == 3
    assert await runner_of(services).run(operation.id, "worker-2") is None
    assert states(world, ids) == [M, M, N, N, N, N]


async def test_b4_cancelled_before_a_worker_took_it_changes_nothing() -> None:
    services, world, caller = await opened()
    await make_contacts(services, caller, 3)
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, MARKETING, confirm_count=3))
    world.clock.advance(seconds=10)
    cancelled = await services.bulk.cancel(caller, operation.id)
    assert cancelled.status is BulkOperationStatus.CANCELLED
    assert cancelled.finished_at == world.clock.now()
    assert progressed(world, caller.account_id, operation.id) == 1
    before = world.snapshot()
    assert await runner_of(services).run(operation.id, "worker-1") is None
    world.clock.advance(minutes=5)
    assert await runner_of(services).sweep() == []
    assert world.snapshot() == before


async def test_b4_a_finished_operation_cannot_be_cancelled() -> None:
    services, world, caller = await opened()
    await make_contacts(services, caller, 2)
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, NON_MARKETING))
    await runner_of(services).run(operation.id, "worker-1")
    cancelled = await services.bulk.start(caller, BulkRequest(EVERYONE, NON_MARKETING))
    await services.bulk.cancel(caller, cancelled.id)
    for operation_id in (operation.id, cancelled.id):
        before = world.snapshot()
        with pytest.raises(DomainError) as refused:
            await services.bulk.cancel(caller, operation_id)
        assert codes_and_fields(refused.value) == [(ErrorCode.INVALID, ("id",))]
        assert world.snapshot() == before
    assert stored(world, operation.id).status is BulkOperationStatus.COMPLETED


async def test_b4_another_accounts_operation_reads_as_not_found() -> None:
    services, world, caller = await opened()
    stranger = await open_account(services, AccountOpening(name="Stranger"))
    await make_contacts(services, caller, 2)
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, NON_MARKETING))
    before = world.snapshot()
    for operation_id in (operation.id, "no-such-operation"):
        with pytest.raises(DomainError) as refused:
            await services.bulk.cancel(stranger, operation_id)
        assert codes_and_fields(refused.value) == [(ErrorCode.NOT_FOUND, ("id",))]
        assert await services.bulk.get(stranger, operation_id) is None
    assert world.snapshot() == before
    assert stored(world, operation.id).status is BulkOperationStatus.QUEUED


# ---------------------------------------------------------------- T6 under BLOCK


async def test_t6_under_block_it_applies_what_fits_in_id_order_and_fails_the_rest() -> None:
    services, world, caller = await opened(UpgradePolicy.BLOCK, tier_limit=4, tier_step=4)
    m = [c.id for c in await make_contacts(services, caller, 2, MARKETING, "m")]
    n = [c.id for c in await make_contacts(services, caller, 4, NON_MARKETING, "n")]
    p = await make_pending(services, caller, 1, "p")  # already counts: P to M fits always
    assert world.account(caller.account_id).counts == UsageCounts(3, 1, 7)
    preview = await services.bulk.preview(caller, EVERYONE, MARKETING)
    assert (preview.would_be_blocked, preview.would_upgrade) == (True, False)
    assert preview.marketing_contacts_after == 4
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, MARKETING, confirm_count=7))
    marketing_seen: list[int] = []

    async def record() -> None:
        marketing_seen.append(world.account(caller.account_id).counts.marketing)

    world.writer.always = record
    done = await runner_of(services, chunk=2).run(operation.id, "worker-1")
    world.writer.always = None
    assert done is not None and done.status is BulkOperationStatus.COMPLETED
    # the first N fits (4 of 4), the 3 after it fail; the P becomes M without a new seat
    assert counters(done) == (7, 7, 2, 0, 2, 3)
    # B2: the preview told exactly this
    progress = done.progress
    assert (preview.change_now, preview.unchanged, preview.blocked_by_tier) == (
        progress.changed_now,
        progress.unchanged,
        progress.failed,
    )
    assert dict(done.progress.failures) == {ErrorCode.TIER_LIMIT_REACHED: 3}
    assert [e.code for e in done.progress.errors()] == [ErrorCode.TIER_LIMIT_REACHED]
    assert states(world, n) == [M, N, N, N]
    assert states(world, m + p) == [M, M, M]
    account = world.account(caller.account_id)
    assert (account.counts, account.tier_limit) == (UsageCounts(4, 0, 7), 4)
    assert_counts_exact(world, caller.account_id)
    assert max(marketing_seen) <= 4
    assert world.tier_changes_of(caller.account_id) == []
    blocked = [
        a for a in world.alerts_of(caller.account_id) if a.kind is TierAlertKind.UPGRADE_BLOCKED
    ]
    assert len(blocked) == 1
    # refused contacts keep no trace of the operation
    assert [by_operation(world, i, operation.id) for i in n] == [1, 0, 0, 0]


async def test_t6_under_block_an_ids_selection_applies_in_the_order_its_ids_were_given() -> None:
    services, world, caller = await opened(UpgradePolicy.BLOCK, tier_limit=4, tier_step=4)
    await make_contacts(services, caller, 2, MARKETING, "m")
    n = [c.id for c in await make_contacts(services, caller, 4, NON_MARKETING, "n")]
    given = list(reversed(n))
    selection = Selection(ids=tuple(given))
    preview = await services.bulk.preview(caller, selection, MARKETING)
    assert (preview.change_now, preview.blocked_by_tier, preview.marketing_contacts_after) == (
        2,
        2,
        4,
    )
    operation = await services.bulk.start(
        caller, BulkRequest(selection, MARKETING, confirm_count=4)
    )
    done = await runner_of(services, chunk=3).run(operation.id, "worker-1")
    assert done is not None and counters(done) == (4, 4, 2, 0, 0, 2)
    assert states(world, given) == [M, M, N, N]  # the first two given, not the lowest ids


# ---------------------------------------------------------------- sweep


async def test_sweep_enqueues_an_operation_persisted_but_never_enqueued() -> None:
    services, world, caller = await opened()
    await make_contacts(services, caller, 2)
    world.jobs.failing = True
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, NON_MARKETING))
    world.jobs.failing = False
    runner = runner_of(services)
    world.clock.advance(seconds=29)
    assert await runner.sweep() == []  # within 30 s a start may still be enqueueing it
    world.clock.advance(seconds=2)
    assert await runner.sweep() == [operation.id]
    assert world.jobs.enqueued == [world.jobs.bulk_job(caller.account_id)]
    turn = await runner.take_turn(caller.account_id, world.jobs.take(), never_transient)
    assert [(o.id, o.status) for o in turn.ended] == [(operation.id, COMPLETED)]


async def test_sweep_gives_an_operation_left_running_by_a_dead_worker_a_new_job() -> None:
    services, world, caller = await opened()
    await make_contacts(services, caller, 5)
    operation = await services.bulk.start(caller, BulkRequest(EVERYONE, MARKETING, confirm_count=5))

    async def crash() -> None:
        raise RuntimeError("worker killed")

    world.writer.interfere(crash)
    runner = runner_of(services)
    dead = world.jobs.take()  # arq holds the dead worker's job as running for minutes
    with pytest.raises(RuntimeError):
        await runner.run(operation.id, dead)
    world.clock.advance(seconds=59)
    assert await runner.sweep() == []  # the lease lasts
    assert world.jobs.enqueued == [dead]
    world.clock.advance(seconds=2)  # past the lease
    assert await runner.sweep() == [operation.id]
    successor = world.jobs.bulk_job(caller.account_id)
    assert world.jobs.enqueued == [dead, successor] and successor != dead
    turn = await runner.take_turn(caller.account_id, world.jobs.take(), never_transient)
    assert [(o.id, o.status) for o in turn.ended] == [(operation.id, COMPLETED)]
    assert counters(turn.ended[0]) == (5, 5, 5, 0, 0, 0)


async def test_sweep_leaves_finished_operations_alone() -> None:
    services, world, caller = await opened()
    await make_contacts(services, caller, 2)
    completed = await services.bulk.start(caller, BulkRequest(EVERYONE, NON_MARKETING))
    await runner_of(services).run(completed.id, "worker-1")
    cancelled = await services.bulk.start(caller, BulkRequest(EVERYONE, NON_MARKETING))
    await services.bulk.cancel(caller, cancelled.id)
    world.jobs.lose()
    world.clock.advance(days=2)
    assert await runner_of(services).sweep() == []
    assert world.jobs.line == []


async def test_sweep_gives_a_backlog_no_second_job_while_its_job_waits() -> None:
    """Every worker is busy and the account's job waits; the sweeper adds none per minute."""
    services, world, caller = await opened()
    await make_contacts(services, caller, 2)
    operations = [
        await services.bulk.start(caller, BulkRequest(EVERYONE, NON_MARKETING)) for _ in range(3)
    ]
    runner = runner_of(services)
    for _ in range(5):
        world.clock.advance(minutes=1)
        assert await runner.sweep() == []
    job = world.jobs.bulk_job(caller.account_id)
    assert world.jobs.enqueued == [job]
    world.jobs.lose()  # e.g. Redis restarted without its data
    assert await runner.sweep() == [o.id for o in operations]
    assert world.jobs.enqueued == [job, job]  # nothing held the id: the same job again


async def test_t6_a_page_decided_on_an_account_that_moved_is_decided_again_on_it_now() -> None:
    """A run decides each page on the account as its last commit left it; a page decided on
    seats that were freed meanwhile does not commit (the account moved past its revision) and
    is decided again on the account as it is now."""
    services, world, caller = await opened(UpgradePolicy.BLOCK, tier_limit=4, tier_step=4)
    m = [c.id for c in await make_contacts(services, caller, 4, MARKETING, "m")]
    n = [c.id for c in await make_contacts(services, caller, 2, NON_MARKETING, "n")]
    with pytest.raises(DomainError):  # the tier is full: UPGRADE_BLOCKED is raised now
        await services.statuses.set_marketing_status(caller, n[:1], MARKETING)
    assert [a.kind for a in world.alerts_of(caller.account_id)][-1:] == [
        TierAlertKind.UPGRADE_BLOCKED
    ]
    selection = Selection(ids=(m[0], m[1], *n))  # page 1 changes nothing, page 2 needs seats
    operation = await services.bulk.start(
        caller, BulkRequest(selection, MARKETING, confirm_count=4)
    )

    other = world.another_process()

    async def free_two_seats() -> None:
        for contact_id in m[2:]:
            await other.contacts.delete(caller, contact_id)

    world.writer.interfere(free_two_seats)  # lands in the first page's commit
    done = await runner_of(services, chunk=2).run(operation.id, "worker-1")
    assert done is not None and counters(done) == (4, 4, 2, 0, 2, 0)
    assert states(world, n) == [M, M]
    assert_counts_exact(world, caller.account_id)


# ---------------------------------------------------------------- P5 active operations


async def test_p5_past_the_accounts_active_operations_a_start_is_too_many_and_queues_nothing() -> (
    None
):
    services, world, caller = await opened()
    await make_contacts(services, caller, 2)
    started = [
        await services.bulk.start(caller, BulkRequest(EVERYONE, NON_MARKETING)) for _ in range(5)
    ]
    with pytest.raises(DomainError) as refused:
        await services.bulk.start(caller, BulkRequest(EVERYONE, NON_MARKETING, idempotency_key="k"))
    assert codes_and_fields(refused.value) == [(ErrorCode.TOO_MANY, ())]
    assert len(world.data.operations) == 5
    assert world.data.idempotency == {}
    await services.bulk.cancel(caller, started[0].id)
    assert (await services.bulk.start(caller, BulkRequest(EVERYONE, NON_MARKETING))).status is (
        BulkOperationStatus.QUEUED
    )

"""S7 workflows over the fakes: a bulk operation started with sourceType WORKFLOW.

Its changes name the workflow (WORKFLOW, sourceId) instead of the operation; it sets contacts
NON_MARKETING on PROFESSIONAL and ENTERPRISE accounts only; and a transient failure never ends
it FAILED: the turn raises, the job (played here as arq plays it: the same job again after a
backoff) takes the turn again, and the operation ends COMPLETED with every contact changed once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from marketing_contacts.domain.bulk import BulkOperation, BulkOperationStatus, Selection
from marketing_contacts.domain.errors import DomainError, ErrorCode, refuse
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import (
    MarketingState,
    MarketingStatus,
    StatusSource,
    StatusSourceType,
)
from marketing_contacts.domain.tiers import Edition
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.bulk import BulkRequest
from marketing_contacts.services.bulk_runner import BulkRunner, BulkRunnerSettings
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.ports.changes import StaleWrite, StoreBusy
from marketing_contacts.services.registry import Services
from tests.unit.services.fake_bulk import account_of
from tests.unit.services.fakes import (
    FakeWorld,
    codes_and_fields,
    fake_services,
    make_contacts,
    never_transient,
    open_account,
)

WORKFLOW = StatusSourceType.WORKFLOW
BULK = StatusSourceType.BULK_OPERATION
MARKETING = MarketingStatus.MARKETING
NON_MARKETING = MarketingStatus.NON_MARKETING
COMPLETED = BulkOperationStatus.COMPLETED
FAILED = BulkOperationStatus.FAILED
EVERYONE = Selection(filter=ContactFilter())
WORKFLOW_ID = "workflow-7"
#: what each target does to a contact in the other status (S2, S3)
OTHER = {MARKETING: NON_MARKETING, NON_MARKETING: MARKETING}
AFTER = {
    MARKETING: MarketingState.MARKETING,
    NON_MARKETING: MarketingState.MARKETING_UNTIL_NEXT_UPDATE,
}


def request(
    target: MarketingStatus,
    source_type: StatusSourceType = WORKFLOW,
    source_id: str | None = WORKFLOW_ID,
    matched: int = 0,
) -> BulkRequest:
    return BulkRequest(
        EVERYONE,
        target,
        confirm_count=matched if target is MARKETING else None,
        source_type=source_type,
        source_id=source_id,
    )


async def account(
    edition: Edition = Edition.PROFESSIONAL, *, marketing_access: bool = True
) -> tuple[Services, FakeWorld, Caller]:
    services, world = fake_services()
    opening = AccountOpening(name="Acme", edition=edition)
    caller = await open_account(services, opening, marketing_access=marketing_access)
    return services, world, caller


def runner_of(services: Services, turn_pages: int = 20) -> BulkRunner:
    settings = BulkRunnerSettings(
        chunk=2, lease=timedelta(seconds=60), turn_pages=turn_pages, turn_length=timedelta(1)
    )
    return BulkRunner(services.ports, settings)


async def drain(
    world: FakeWorld, runner: BulkRunner, transient: Callable[[Exception], bool]
) -> tuple[int, int]:
    """Play arq's workers until no job is left: a turn that raises CONFLICT (the worker's
    transient failure) is the same job taken again after its backoff. The (turns, retries)."""
    turns = retries = 0
    while world.jobs.line:
        job = world.jobs.take()
        while world.jobs.is_current(job):
            turns += 1
            try:
                await runner.take_turn(account_of(job), job, transient)
                break
            except DomainError as error:
                assert [e.code for e in error.errors] == [ErrorCode.CONFLICT]
                retries += 1
        world.jobs.end(job)
        await runner.next_turn(account_of(job), job)
    return turns, retries


def changed_once_by(world: FakeWorld, contact_id: str) -> list[StatusSource]:
    """The sources of the contact's history entries that a bulk operation wrote."""
    return [
        entry.change.source
        for entry in world.history_of(contact_id)
        if entry.change.source.type in (WORKFLOW, BULK)
    ]


# ---------------------------------------------------------------- S7: who may start one


@pytest.mark.parametrize(
    ("edition", "target", "source_type", "forbidden"),
    [
        (Edition.STARTER, NON_MARKETING, WORKFLOW, True),
        (Edition.PROFESSIONAL, NON_MARKETING, WORKFLOW, False),
        (Edition.ENTERPRISE, NON_MARKETING, WORKFLOW, False),
        (Edition.STARTER, MARKETING, WORKFLOW, False),
        (Edition.PROFESSIONAL, MARKETING, WORKFLOW, False),
        (Edition.ENTERPRISE, MARKETING, WORKFLOW, False),
        (Edition.STARTER, NON_MARKETING, BULK, False),
        (Edition.PROFESSIONAL, NON_MARKETING, BULK, False),
        (Edition.ENTERPRISE, NON_MARKETING, BULK, False),
        (Edition.STARTER, MARKETING, BULK, False),
        (Edition.PROFESSIONAL, MARKETING, BULK, False),
        (Edition.ENTERPRISE, MARKETING, BULK, False),
    ],
)
async def test_s7_a_workflow_sets_non_marketing_on_professional_and_enterprise_only(
    edition: Edition, target: MarketingStatus, source_type: StatusSourceType, forbidden: bool
) -> None:
    services, world, caller = await account(edition)
    await make_contacts(services, caller, 2, OTHER[target])
    wanted = request(target, source_type, matched=2)
    if forbidden:
        with pytest.raises(DomainError) as refused:
            await services.bulk.start(caller, wanted)
        assert codes_and_fields(refused.value) == [(ErrorCode.FORBIDDEN, ("source_type",))]
        assert world.data.operations == {} and world.jobs.line == []  # nothing queued
        return
    operation = await services.bulk.start(caller, wanted)
    assert (operation.source_type, operation.source_id) == (source_type, WORKFLOW_ID)
    assert world.data.operations[operation.id].source_type is source_type
    assert len(world.jobs.line) == 1


@pytest.mark.parametrize("edition", list(Edition))
async def test_s7_s5_a_workflow_making_contacts_marketing_needs_marketing_access(
    edition: Edition,
) -> None:
    services, world, caller = await account(edition, marketing_access=False)
    with pytest.raises(DomainError) as refused:
        await services.bulk.start(caller, request(MARKETING, matched=0))
    assert codes_and_fields(refused.value) == [(ErrorCode.FORBIDDEN, ("status",))]
    assert world.data.operations == {} and world.jobs.line == []


@pytest.mark.parametrize(
    ("source_type", "source_id", "field"),
    [
        (WORKFLOW, None, ("source_id",)),
        (WORKFLOW, "", ("source_id",)),
        (WORKFLOW, "   ", ("source_id",)),
        (WORKFLOW, "w" * 201, ("source_id",)),
        *(
            (other, WORKFLOW_ID, ("source_type",))
            for other in StatusSourceType
            if other not in (WORKFLOW, BULK)
        ),
    ],
)
async def test_s7_a_bulk_operation_names_bulk_operation_or_a_workflow_by_its_id(
    source_type: StatusSourceType, source_id: str | None, field: tuple[str, ...]
) -> None:
    services, world, caller = await account()
    with pytest.raises(DomainError) as refused:
        await services.bulk.start(caller, request(NON_MARKETING, source_type, source_id))
    assert codes_and_fields(refused.value) == [(ErrorCode.INVALID, field)]
    assert world.data.operations == {} and world.jobs.line == []


async def test_s7_b5_the_source_type_is_part_of_the_idempotent_input() -> None:
    services, _, caller = await account()
    workflow = replace(request(NON_MARKETING), idempotency_key="key-1")
    first = await services.bulk.start(caller, workflow)
    assert (await services.bulk.start(caller, workflow)).id == first.id
    with pytest.raises(DomainError) as refused:  # the same, but the operation's own source
        await services.bulk.start(caller, replace(workflow, source_type=BULK))
    assert codes_and_fields(refused.value) == [(ErrorCode.CONFLICT, ("idempotency_key",))]


# ---------------------------------------------------------------- S7: what its changes name


@pytest.mark.parametrize("target", [MARKETING, NON_MARKETING])
@pytest.mark.parametrize("source_type", [WORKFLOW, BULK])
async def test_s7_s4_a_workflow_operations_changes_name_the_workflow(
    target: MarketingStatus, source_type: StatusSourceType
) -> None:
    services, world, caller = await account(Edition.ENTERPRISE)
    made = await make_contacts(services, caller, 3, OTHER[target])
    operation = await services.bulk.start(caller, request(target, source_type, matched=3))
    await drain(world, runner_of(services), never_transient)
    assert world.data.operations[operation.id].status is COMPLETED
    named = operation.id if source_type is BULK else WORKFLOW_ID
    source = StatusSource(source_type, named)
    for contact in made:
        assert world.contact(contact.id).state is AFTER[target]
        assert world.contact(contact.id).status_source == source
        assert changed_once_by(world, contact.id) == [source]


# ---------------------------------------------------------------- S7: retried, never dropped


def store_busy() -> Exception:
    return StoreBusy("another transaction holds these documents")


def database_away() -> Exception:
    return ConnectionError("database away")


def rate_limited() -> Exception:
    return refuse(ErrorCode.RATE_LIMITED, "too many requests: retry shortly")


def stale() -> Exception:
    return StaleWrite("the account moved on")


@pytest.mark.parametrize(
    ("failure", "times", "turn_retries"),
    [
        (store_busy, 1, 1),  # the ledger answers CONFLICT: the account is busy
        (store_busy, 3, 3),
        (database_away, 2, 2),
        (rate_limited, 2, 2),
        (stale, 3, 0),  # the page's own retries decide it again at once
    ],
)
async def test_s7_a_workflow_page_that_fails_transiently_is_retried_until_it_applies(
    failure: Callable[[], Exception], times: int, turn_retries: int
) -> None:
    services, world, caller = await account()
    made = await make_contacts(services, caller, 5, MarketingStatus.MARKETING)
    operation = await services.bulk.start(caller, request(NON_MARKETING))

    async def fail() -> None:
        raise failure()

    world.writer.interfere(*[fail] * times)
    # the worker's classification counts none of these: the workflow's own does
    _, retries = await drain(world, runner_of(services), never_transient)
    assert retries == turn_retries
    stored = world.data.operations[operation.id]
    assert (stored.status, stored.failure) == (COMPLETED, None)
    assert (stored.progress.processed, stored.progress.became_pending) == (5, 5)
    for contact in made:
        assert changed_once_by(world, contact.id) == [StatusSource(WORKFLOW, WORKFLOW_ID)]


async def test_s7_a_workflow_operation_whose_end_meets_a_busy_store_ends_on_a_later_try(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services, world, caller = await account()
    made = await make_contacts(services, caller, 3, MarketingStatus.MARKETING)
    operation = await services.bulk.start(caller, request(NON_MARKETING))
    finish = world.operations.finish
    failures = [store_busy(), store_busy()]

    async def busy_then_finish(*args: object, **kwargs: object) -> BulkOperation | None:
        if failures:
            raise failures.pop()
        return await finish(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(world.operations, "finish", busy_then_finish)
    _, retries = await drain(world, runner_of(services), never_transient)
    assert retries == 2
    assert world.data.operations[operation.id].status is COMPLETED
    for contact in made:
        assert changed_once_by(world, contact.id) == [StatusSource(WORKFLOW, WORKFLOW_ID)]


async def test_s7_a_workflow_operation_past_its_turns_budget_is_resumed_not_dropped() -> None:
    services, world, caller = await account()
    made = await make_contacts(services, caller, 7, MarketingStatus.MARKETING)
    operation = await services.bulk.start(caller, request(NON_MARKETING))
    # one page a turn: resolving takes the first turn, then four pages of two contacts
    turns, retries = await drain(world, runner_of(services, turn_pages=1), never_transient)
    assert (turns, retries) == (5, 0)
    assert world.data.operations[operation.id].status is COMPLETED
    for contact in made:
        assert changed_once_by(world, contact.id) == [StatusSource(WORKFLOW, WORKFLOW_ID)]


@pytest.mark.parametrize(
    ("source_type", "failure", "ends"),
    [
        # the operation's own source: the worker's classification decides, as before S7
        (BULK, store_busy, FAILED),
        (WORKFLOW, store_busy, COMPLETED),
        # a permanent failure (a document the codec cannot read) retried would hold the
        # account's later operations forever: it ends FAILED with its reason, workflow or not
        (WORKFLOW, lambda: ValueError("a document the codec cannot read"), FAILED),
    ],
)
async def test_s7_only_a_workflows_transient_failure_is_taken_as_passing(
    source_type: StatusSourceType, failure: Callable[[], Exception], ends: BulkOperationStatus
) -> None:
    services, world, caller = await account()
    await make_contacts(services, caller, 2, MarketingStatus.MARKETING)
    operation = await services.bulk.start(caller, request(NON_MARKETING, source_type))

    async def fail() -> None:
        raise failure()

    world.writer.interfere(fail)
    await drain(world, runner_of(services), never_transient)
    stored = world.data.operations[operation.id]
    assert stored.status is ends
    assert (stored.failure is not None) == (ends is FAILED)

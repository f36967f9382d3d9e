"""ContactMerger over the fakes (C10, T1): the primary stays as merged, the secondary leaves the
count in the same write, its history, lists, companies and email activity come along; a merge
decided on contacts that changed meanwhile is decided again; refusals write nothing."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from marketing_contacts.domain.associations import Association, RecordType
from marketing_contacts.domain.bulk import BulkOperation, Selection
from marketing_contacts.domain.deals import DealStage
from marketing_contacts.domain.email_events import EmailEventType
from marketing_contacts.domain.engagements import EngagementType
from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import (
    MarketingState,
    MarketingStatus,
    StatusSource,
    StatusSourceType,
)
from marketing_contacts.domain.usage import UsageCounts
from marketing_contacts.domain.users import RecordVisibility
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.bulk import BulkRequest
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.companies import CompanyDraft
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.services.deals import DealDraft
from marketing_contacts.services.email_events import EmailEventDraft
from marketing_contacts.services.engagements import EngagementDraft
from marketing_contacts.services.ports.events import UsageChanged
from marketing_contacts.services.registry import Services
from marketing_contacts.services.users import UserDraft
from tests.unit.services.fakes import (
    FakeWorld,
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


async def opened() -> tuple[Services, FakeWorld, Caller]:
    services, world = fake_services()
    return services, world, await open_account(services)


async def contact_in(services: Services, caller: Caller, email: str, state: MarketingState) -> str:
    """A contact created in `state` (P: made marketing, then set NON_MARKETING)."""
    status = NON_MARKETING if state is N else MARKETING
    made = await services.contacts.create(
        caller, ContactDraft(email=email, marketing_status=status)
    )
    if state is P:
        await services.statuses.set_marketing_status(caller, [made.id], NON_MARKETING)
    return made.id


async def size_of(services: Services, caller: Caller, list_id: str) -> int:
    found = await services.lists.get(caller, list_id)
    assert found is not None
    return found.size


def recount(world: FakeWorld, caller: Caller) -> UsageCounts:
    return world.recount(caller.account_id)


@pytest.mark.parametrize(
    ("primary", "secondary", "merged"),
    [(N, M, M), (M, N, M), (N, P, P), (P, N, P), (P, M, M), (P, P, P), (N, N, N)],
)
async def test_c10_t1_the_primary_takes_the_stronger_state_and_the_secondary_leaves_the_count(
    primary: MarketingState, secondary: MarketingState, merged: MarketingState
) -> None:
    services, world, caller = await opened()
    p = await contact_in(services, caller, "ada@example.com", primary)
    s = await contact_in(services, caller, "augusta@example.com", secondary)
    await make_contacts(services, caller, 2, MARKETING, prefix="other")
    history = world.history_of(p) + world.history_of(s)

    contact = await services.merger.merge(caller, p, s)

    assert world.contact(p) == contact and contact.state is merged
    assert s not in world.data.contacts and contact.merged_ids == (s,)
    assert world.account(caller.account_id).counts == recount(world, caller)
    # the histories combined, numbered one after another, the merge's entry last
    entries = world.history_of(p)
    assert [e.seq for e in entries] == list(range(1, contact.status_seq + 1))
    assert [e.change for e in entries[: len(history)]] == [e.change for e in history]
    if merged is not primary:
        assert entries[-1].change.source == StatusSource(StatusSourceType.MERGE, s)
        assert (entries[-1].change.from_state, entries[-1].change.to_state) == (primary, merged)
    assert world.history_of(s) == []
    # P4: one entry naming both, in the same write
    entry = world.data.audit[-1]
    assert (entry.action, entry.record_ids) == ("mergeContacts", (p, s))
    # A3: the usage changed (the secondary left the count)
    published = world.published_to(caller.account_id)[-1].events
    assert any(isinstance(event, UsageChanged) for event in published)


async def test_c10_the_secondarys_id_is_not_found_and_its_address_is_free_after() -> None:
    services, _, caller = await opened()
    p = await contact_in(services, caller, "ada@example.com", N)
    s = await contact_in(services, caller, "augusta@example.com", M)
    await services.merger.merge(caller, p, s)
    assert await services.contacts.get(caller, s) is None
    again = await services.contacts.create(caller, ContactDraft(email="Augusta@Example.com"))
    assert again.email == "Augusta@example.com"
    with pytest.raises(DomainError) as refused:
        await services.merger.merge(caller, p, s)
    assert codes_and_fields(refused.value) == [(ErrorCode.NOT_FOUND, ("secondary_id",))]


async def test_c10_lists_companies_and_email_activity_come_with_the_secondary() -> None:
    services, _, caller = await opened()
    p = await contact_in(services, caller, "ada@example.com", N)
    s = await contact_in(services, caller, "augusta@example.com", N)
    both = await services.lists.create(caller, "Both", [p, s])
    theirs = await services.lists.create(caller, "Theirs", [s])
    company = await services.companies.create(caller, CompanyDraft(name="Engines"))
    link = Association(RecordType.CONTACT, s, RecordType.COMPANY, company.id)
    await services.associations.associate(caller, link)
    for email, at in (("ada@example.com", 1), ("augusta@example.com", 2)):
        sent = datetime(2025, 1, at, tzinfo=UTC)
        await services.email_activity.record(
            caller, EmailEventDraft(email=email, type=EmailEventType.SENT, occurred_at=sent)
        )

    contact = await services.merger.merge(caller, p, s)

    assert contact.list_ids == {both.id, theirs.id}
    assert [await size_of(services, caller, one.id) for one in (both, theirs)] == [1, 1]
    assert contact.company_ids == {company.id} and contact.primary_company_id == company.id
    assert contact.merged_emails == {"augusta@example.com"}
    page = await services.email_activity.page(
        caller, "ada@example.com", 10, None, merged=tuple(contact.merged_emails)
    )
    assert [e.email for e in page.items] == ["augusta@example.com", "ada@example.com"]


async def test_c10_refusals_write_nothing() -> None:
    services, world, caller = await opened()
    p, s = [c.id for c in await make_contacts(services, caller, 2, MARKETING)]
    other = await open_account(services, AccountOpening(name="Elsewhere"))
    (foreign,) = [c.id for c in await make_contacts(services, other, 1, prefix="foreign")]
    user = await services.users.create(
        caller,
        UserDraft(name="Olive", email="olive@example.com", visibility=RecordVisibility.OWNED),
    )
    _, secret = await services.tokens.issue(user, "olive")
    olive = await services.tokens.authenticate(secret)
    assert olive is not None
    hers = await services.contacts.create(
        caller, ContactDraft(email="hers@example.com", owner_id=user.id)
    )
    before = world.snapshot()
    refusals = [
        (caller, p, p, [(ErrorCode.INVALID, ("secondary_id",))]),
        (caller, p, "nothere", [(ErrorCode.NOT_FOUND, ("secondary_id",))]),
        (
            caller,
            "gone",
            "nothere",
            [(ErrorCode.NOT_FOUND, ("primary_id",)), (ErrorCode.NOT_FOUND, ("secondary_id",))],
        ),
        (caller, foreign, p, [(ErrorCode.NOT_FOUND, ("primary_id",))]),
        (caller, p, "x" * 201, [(ErrorCode.INVALID, ("secondary_id",))]),
        # C9: an OWNED user sees her own contact only
        (olive, hers.id, p, [(ErrorCode.NOT_FOUND, ("secondary_id",))]),
        (olive, s, hers.id, [(ErrorCode.NOT_FOUND, ("primary_id",))]),
    ]
    for who, primary, secondary, errors in refusals:
        with pytest.raises(DomainError) as refused:
            await services.merger.merge(who, primary, secondary)
        assert codes_and_fields(refused.value) == errors, (primary, secondary)
    assert world.snapshot() == before


async def started(services: Services, caller: Caller, selection: Selection) -> BulkOperation:
    return await services.bulk.start(caller, BulkRequest(selection, NON_MARKETING))


async def resolved(world: FakeWorld, operation: BulkOperation) -> BulkOperation:
    """The operation claimed by a run that resolved its selection, one contact a page, and
    applied none of them yet."""
    now = world.clock.now()
    claimed = await world.operations.claim(operation.id, "run-1", now, now + timedelta(minutes=1))
    assert claimed is not None
    return await world.bulk_pages.resolve(claimed, 1)


@pytest.mark.parametrize("by_ids", [True, False])
async def test_c10_a_contact_waiting_in_a_bulk_page_is_not_merged_until_the_page_is_applied(
    by_ids: bool,
) -> None:
    services, world, caller = await opened()
    p, s, t = [c.id for c in await make_contacts(services, caller, 3, MARKETING)]
    selection = Selection(ids=(t, s)) if by_ids else Selection(filter=ContactFilter())
    operation = await started(services, caller, selection)
    if by_ids:  # named by id: waiting for it already before its run resolves it
        with pytest.raises(DomainError) as refused:
            await services.merger.merge(caller, p, s)
        assert codes_and_fields(refused.value) == [(ErrorCode.CONFLICT, ("secondary_id",))]
    running = await resolved(world, operation)
    before = world.snapshot()
    with pytest.raises(DomainError) as refused:
        await services.merger.merge(caller, s, p)
    waiting = [("primary_id",)] if by_ids else [("primary_id",), ("secondary_id",)]
    assert codes_and_fields(refused.value) == [(ErrorCode.CONFLICT, f) for f in waiting]
    assert operation.id in str(refused.value)
    assert world.snapshot() == before
    await services.bulk_runner.run(running.id, "run-1")  # applied: the contacts are free
    merged = await services.merger.merge(caller, p, s)
    # the operation made s pending (and p, when it selected every contact): M over P
    assert merged.state is (M if by_ids else P)
    assert world.account(caller.account_id).counts == recount(world, caller)


async def test_c10_a_contact_outside_every_waiting_page_is_merged() -> None:
    services, world, caller = await opened()
    p, s, t = [c.id for c in await make_contacts(services, caller, 3, MARKETING)]
    await resolved(world, await started(services, caller, Selection(ids=(t,))))
    everyone = await resolved(
        world, await started(services, caller, Selection(filter=ContactFilter()))
    )
    # its pages hold p, then s, then t, in id order: the first two applied, only t waits
    world.data.operations[everyone.id] = replace(everyone, next_page=2)
    # and a selection not resolved yet resolves later, on the merged contact
    await started(services, caller, Selection(filter=ContactFilter()))
    merged = await services.merger.merge(caller, p, s)
    assert merged.merged_ids == (s,)


async def test_c10_a_merge_decided_on_contacts_that_changed_meanwhile_is_decided_again() -> None:
    services, world, caller = await opened()
    p = await contact_in(services, caller, "ada@example.com", N)
    s = await contact_in(services, caller, "augusta@example.com", N)
    listed = await services.lists.create(caller, "Late", [])
    other = world.another_process()

    async def meanwhile() -> None:
        await other.statuses.set_marketing_status(caller, [s], MARKETING)
        await other.lists.add(caller, listed.id, [p, s])

    world.writer.interfere(meanwhile)
    contact = await services.merger.merge(caller, p, s)
    assert contact.state is M and contact.list_ids == {listed.id}
    assert await size_of(services, caller, listed.id) == 1
    assert world.account(caller.account_id).counts == recount(world, caller)


async def test_c10_t1_merges_racing_status_changes_keep_the_counts_exact() -> None:
    services, world, caller = await opened()
    contacts = [c.id for c in await make_contacts(services, caller, 12)]
    other = world.another_process()
    pairs = list(zip(contacts[0:6:2], contacts[1:6:2], strict=True))

    async def merge(primary: str, secondary: str) -> None:
        await services.merger.merge(caller, primary, secondary)

    async def toggle(contact_id: str) -> None:
        for status in (MARKETING, NON_MARKETING, MARKETING):
            await other.statuses.set_marketing_status(caller, [contact_id], status)

    await asyncio.gather(
        *(merge(*pair) for pair in pairs), *(toggle(c) for c in contacts[:1] + contacts[6:])
    )
    assert world.account(caller.account_id).counts == recount(world, caller)
    assert len(world.contacts_of(caller.account_id)) == 9
    reconciled = await services.usage.reconcile(caller.account_id)
    assert not reconciled.drifted


async def test_c10_c6_deals_and_engagements_name_the_primary_once() -> None:
    services, world, caller = await opened()
    p, s = [c.id for c in await make_contacts(services, caller, 2)]
    both = await services.deals.create(
        caller, DealDraft(name="Both", stage=DealStage.QUALIFIED_TO_BUY, contact_ids=[p, s])
    )
    theirs = await services.deals.create(
        caller, DealDraft(name="Theirs", stage=DealStage.QUALIFIED_TO_BUY, contact_ids=[s])
    )
    at = datetime(2025, 1, 2, tzinfo=UTC)
    for ids in ([p, s], [s]):
        await services.engagements.log(
            caller, EngagementDraft(type=EngagementType.CALL, occurred_at=at, contact_ids=ids)
        )
    await services.merger.merge(caller, p, s)
    assert [world.data.deals[d.id].contact_ids for d in (both, theirs)] == [(p,), (p,)]
    engaged = await services.engagements.page(caller, p, 10, None)
    assert [e.associated_ids for e in engaged.items] == [(p,), (p,)]
    assert world.data.engagement_counts[p] == 2 and s not in world.data.engagement_counts

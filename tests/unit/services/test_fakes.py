"""The fakes keep the promises of the real adapters (storage/writer.py and friends)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from marketing_contacts.domain.contacts import change_status, history_of
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import MarketingStatus, StatusSource, StatusSourceType
from marketing_contacts.services.paging import BadCursor
from marketing_contacts.services.ports.changes import ChangeBatch, StaleWrite
from marketing_contacts.services.ports.contacts import DuplicateEmail
from tests.unit.services.fakes import fake_services, make_contacts, open_account

MARKETING = MarketingStatus.MARKETING
USER = StatusSource(StatusSourceType.USER, "tester")


async def test_commit_is_all_or_nothing_when_one_status_update_is_stale() -> None:
    services, world = fake_services()
    caller = await open_account(services)
    a, b = await make_contacts(services, caller, 2)
    account = world.account(caller.account_id)
    now = world.clock.now()
    stale_b = replace(b, status_seq=b.status_seq + 5)
    updates = [change_status(c, MARKETING, USER, now) for c in (a, stale_b)]
    assert updates[0] is not None and updates[1] is not None
    batch = ChangeBatch(
        account_before=account,
        account_after=replace(account, revision=account.revision + 1),
        status_updates=(updates[0], updates[1]),
        history=history_of([updates[0], updates[1]]),
    )
    before = world.snapshot()
    with pytest.raises(StaleWrite):
        await world.writer.commit(batch)
    assert world.snapshot() == before


async def test_commit_refuses_a_stale_account_revision_and_a_stale_delete() -> None:
    services, world = fake_services()
    caller = await open_account(services)
    (a,) = await make_contacts(services, caller, 1)
    account = world.account(caller.account_id)
    stale_account = replace(account, revision=account.revision - 1)
    before = world.snapshot()
    with pytest.raises(StaleWrite):
        await world.writer.commit(ChangeBatch(stale_account, account, deleted=(a,)))
    gone = replace(a, status_seq=a.status_seq + 1)
    with pytest.raises(StaleWrite):
        await world.writer.commit(ChangeBatch(account, account, deleted=(gone,)))
    assert world.snapshot() == before


async def test_commit_refuses_a_duplicate_email_in_any_case_and_writes_nothing() -> None:
    services, world = fake_services()
    caller = await open_account(services)
    (a,) = await make_contacts(services, caller, 1)
    account = world.account(caller.account_id)
    twin = replace(a, id=world.ids.new_id(), email=(a.email or "").upper())
    before = world.snapshot()
    with pytest.raises(DuplicateEmail):
        await world.writer.commit(ChangeBatch(account, account, created=(twin,)))
    assert world.snapshot() == before
    await world.contacts.update_fields(twin, twin)  # not stored: nothing to edit
    (b,) = await make_contacts(services, caller, 1, prefix="other")
    before = world.snapshot()
    with pytest.raises(DuplicateEmail):
        await world.contacts.update_fields(b, replace(b, email=twin.email))
    assert world.snapshot() == before


async def test_update_fields_leaves_the_status_to_the_writer() -> None:
    services, world = fake_services()
    caller = await open_account(services)
    (a,) = await make_contacts(services, caller, 1)
    stale = replace(a, first_name="Ada")
    await services.statuses.set_marketing_status(caller, [a.id], MARKETING)
    await world.contacts.update_fields(a, stale)
    stored = world.contact(a.id)
    assert (stored.first_name, stored.state.status) == ("Ada", MARKETING)


async def test_record_update_date_holds_once() -> None:
    services, world = fake_services()
    caller = await open_account(services)
    account = world.account(caller.account_id)
    moved = replace(account, next_update_date=date(2025, 3, 1), revision=account.revision + 1)
    at = world.clock.now()
    assert await world.writer.record_update_date(account, moved, date(2025, 2, 1), 0, at)
    assert not await world.writer.record_update_date(moved, moved, date(2025, 2, 1), 0, at)
    with pytest.raises(StaleWrite):
        await world.writer.record_update_date(account, moved, date(2025, 3, 1), 0, at)


async def test_cursors_are_opaque_and_foreign_ones_refused() -> None:
    services, world = fake_services()
    caller = await open_account(services)
    made = await make_contacts(services, caller, 3)
    page = await world.contacts.page(caller.account_id, ContactFilter(), 2, None)
    assert made[0].id not in page.cursors[0]
    with pytest.raises(BadCursor):
        await world.history.page(caller.account_id, made[0].id, 2, page.cursors[0])
    with pytest.raises(BadCursor):
        await world.tier_records.alerts(caller.account_id, 2, page.cursors[0])
    with pytest.raises(BadCursor):
        await world.contacts.page(caller.account_id, ContactFilter(), 2, "%%%")
    assert (
        await world.contacts.count(caller.account_id, ContactFilter(created_via=CreationSource.API))
        == 3
    )

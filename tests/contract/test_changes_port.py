"""ChangeWriter (design principle 3): a batch is written whole or not at all, only while the
account, each contact and the bulk operation are still as they were read; taken addresses fail
it; counts are read and repaired at a revision; an update date is recorded once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.bulk import (
    BulkOperation,
    BulkProgress,
)
from marketing_contacts.domain.changes import plan_usage_change
from marketing_contacts.domain.contacts import Contact, history_of, move_to
from marketing_contacts.domain.errors import ErrorCode
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.merge import merge_contacts
from marketing_contacts.domain.statuses import MarketingState
from marketing_contacts.domain.usage import UsageCounts
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.ports.alerts import UndeliveredAlert
from marketing_contacts.services.ports.changes import (
    BulkChunk,
    ChangeBatch,
    ContactMerge,
    StaleWrite,
)
from marketing_contacts.services.ports.contacts import DuplicateEmail
from marketing_contacts.services.ports.lists import ContactList
from marketing_contacts.services.wiring import Ports
from tests.contract.records import (
    LATER,
    USER,
    alert,
    contacts_of,
    holdings,
    moved,
    new_contact,
    now,
    queued_operation,
    store,
    stored_account,
    stored_contacts,
    tier_change,
)

N = MarketingState.NON_MARKETING
M = MarketingState.MARKETING
P = MarketingState.MARKETING_UNTIL_NEXT_UPDATE
MINUTE = timedelta(minutes=1)


async def test_a_batch_writes_everything_it_holds(ports: Ports) -> None:
    account = await stored_account(ports)
    kept, gone = await stored_contacts(ports, account, 2)
    created = new_contact(ports, account, email="new@example.com", state=M)
    update = move_to(kept, M, USER, now(ports))
    change = tier_change(ports, 2000)
    raised = (alert(now(ports), 75), alert(now(ports), 90))
    after = replace(account, counts=UsageCounts(2, 0, 2), tier_limit=2000, revision=1)

    committed = await ports.writer.commit(
        ChangeBatch(
            account_before=account,
            account_after=after,
            created=(created,),
            status_updates=(update,),
            deleted=(gone,),
            history=history_of([update]),
            tier_change=change,
            alerts=raised,
        )
    )

    assert await ports.accounts.get(account.id) == after
    assert sorted(await contacts_of(ports, account.id), key=lambda c: c.id) == sorted(
        [update.after, created], key=lambda c: c.id
    )
    history = await ports.history.page(account.id, kept.id, 10, None)
    assert history.items == list(history_of([update]))
    assert committed.tier_change is not None and committed.tier_change.item == change
    tier_changes = await ports.tier_records.tier_changes(account.id, 10, None)
    assert tier_changes.items == [committed.tier_change]
    assert [stored.item for stored in committed.alerts] == list(raised)
    assert len({stored.id for stored in committed.alerts}) == 2
    alerts = await ports.tier_records.alerts(account.id, 10, None)
    assert alerts.items == list(committed.alerts)[::-1]  # newest first
    awaiting = await ports.alert_outbox.awaiting(now(ports) + LATER, 10)
    assert awaiting == [UndeliveredAlert(account.id, stored) for stored in committed.alerts]


async def test_a_commit_tells_when_the_database_acknowledged_it(ports: Ports) -> None:
    account = await stored_account(ports)
    after = replace(account, counts=UsageCounts(1, 0, 1), revision=1)
    created = new_contact(ports, account, state=M)
    before_commit = datetime.now(UTC)

    committed = await ports.writer.commit(
        ChangeBatch(account_before=account, account_after=after, created=(created,))
    )

    assert before_commit <= committed.at <= datetime.now(UTC)


async def test_a_status_update_decided_on_an_old_status_fails_the_whole_batch(
    ports: Ports,
) -> None:
    account = await stored_account(ports)
    a, b = await stored_contacts(ports, account, 2)
    account, _ = await moved(ports, account, b, M)  # b moved on since it was read
    updates = [move_to(c, M, USER, now(ports)) for c in (a, b)]
    before = await holdings(ports, account.id)
    with pytest.raises(StaleWrite):
        await ports.writer.commit(
            ChangeBatch(
                account,
                replace(account, revision=account.revision + 1),
                created=(new_contact(ports, account),),
                status_updates=tuple(updates),
                history=history_of(updates),
                alerts=(alert(now(ports)),),
            )
        )
    assert await holdings(ports, account.id) == before


async def test_a_batch_decided_on_an_old_account_revision_writes_nothing(ports: Ports) -> None:
    account = await stored_account(ports)
    (contact,) = await stored_contacts(ports, account, 1)
    current, _ = await moved(ports, account, contact, M)
    before = await holdings(ports, account.id)
    for stale in (account, replace(account, id=ports.ids.new_id())):
        with pytest.raises(StaleWrite):
            await ports.writer.commit(
                ChangeBatch(
                    stale,
                    replace(stale, revision=stale.revision + 1),
                    created=(new_contact(ports, account),),
                    tier_change=tier_change(ports, 2000),
                )
            )
    assert await holdings(ports, account.id) == before
    assert (await ports.accounts.get(account.id)) == current


async def test_a_delete_of_a_contact_that_changed_or_went_writes_nothing(ports: Ports) -> None:
    account = await stored_account(ports)
    changed, ghost, kept = await stored_contacts(ports, account, 3)
    await ports.writer.commit(ChangeBatch(account, account, deleted=(ghost,)))
    account, _ = await moved(ports, account, changed, M)
    before = await holdings(ports, account.id)
    for gone in (changed, ghost):
        with pytest.raises(StaleWrite):
            await ports.writer.commit(
                ChangeBatch(
                    account, replace(account, revision=account.revision + 1), deleted=(kept, gone)
                )
            )
    assert await holdings(ports, account.id) == before


async def test_an_address_taken_in_the_account_fails_the_batch(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    await store(ports, account, new_contact(ports, account, email="ann@example.com"))
    before = await holdings(ports, account.id)
    for emails in (["ANN@Example.com"], ["bob@example.com", "Bob@example.com"]):
        with pytest.raises(DuplicateEmail):
            await ports.writer.commit(
                ChangeBatch(
                    account,
                    replace(account, revision=account.revision + 1),
                    created=tuple(new_contact(ports, account, email=e) for e in emails),
                )
            )
    assert await holdings(ports, account.id) == before
    await store(
        ports,
        account,
        new_contact(ports, account),
        new_contact(ports, account),
        new_contact(ports, account, email="eve@example.com"),
    )
    await store(ports, other, new_contact(ports, other, email="ann@example.com"))
    assert await ports.contacts.count(Scope(account.id), ContactFilter()) == 4
    assert await ports.contacts.count(Scope(other.id), ContactFilter()) == 1


async def test_a_batch_that_leaves_the_account_as_it_is_does_not_wait_on_its_revision(
    ports: Ports,
) -> None:
    account = await stored_account(ports)
    (contact,) = await stored_contacts(ports, account, 1)
    current, _ = await moved(ports, account, contact, M)
    late = new_contact(ports, account)
    await ports.writer.commit(ChangeBatch(account, account, created=(late,)))
    assert await ports.contacts.get(Scope(account.id), late.id) == late
    assert await ports.accounts.get(account.id) == current


# ---------------------------------------------------------------- bulk pages


async def running_operation(ports: Ports, owner: str) -> BulkOperation:
    operation = await queued_operation(ports, await stored_account(ports))
    claimed = await ports.operations.claim(operation.id, owner, now(ports), now(ports) + MINUTE)
    assert claimed is not None
    return claimed


def chunk_of(operation: BulkOperation, owner: str, page: int) -> BulkChunk:
    return BulkChunk(
        operation_id=operation.id,
        owner=owner,
        page=page,
        progress=BulkProgress(
            processed=3,
            changed_now=1,
            unchanged=1,
            failed=1,
            failures={ErrorCode.TIER_LIMIT_REACHED: 1},
        ),
        lease_until=lease_of(operation),
    )


def lease_of(operation: BulkOperation) -> datetime:
    assert operation.lease_until is not None
    return operation.lease_until


async def test_a_bulk_page_moves_its_operation_past_it_once(ports: Ports) -> None:
    operation = await running_operation(ports, "run-1")
    account = await ports.accounts.get(operation.account_id)
    assert account is not None
    renewed = now(ports) + 5 * MINUTE
    chunk = replace(chunk_of(operation, "run-1", 0), lease_until=renewed)
    await ports.writer.commit(ChangeBatch(account, account, bulk=chunk))
    await ports.writer.commit(ChangeBatch(account, account, bulk=replace(chunk, page=1)))
    after = await ports.operations.load(operation.id)
    assert after is not None
    assert (after.next_page, after.lease_until) == (2, renewed)
    assert after.progress == BulkProgress(
        processed=6,
        changed_now=2,
        unchanged=2,
        failed=2,
        failures={ErrorCode.TIER_LIMIT_REACHED: 2},
    )
    with pytest.raises(StaleWrite):
        await ports.writer.commit(ChangeBatch(account, account, bulk=chunk))


async def test_a_bulk_page_commits_only_under_the_run_that_holds_the_operation(
    ports: Ports,
) -> None:
    operation = await running_operation(ports, "run-1")
    account = await ports.accounts.get(operation.account_id)
    assert account is not None
    (contact,) = await stored_contacts(ports, account, 1)
    update = move_to(contact, M, USER, now(ports))
    before = await holdings(ports, account.id)
    for chunk in (chunk_of(operation, "run-2", 0), chunk_of(operation, "run-1", 1)):
        with pytest.raises(StaleWrite):
            await ports.writer.commit(
                ChangeBatch(
                    account,
                    replace(account, revision=account.revision + 1),
                    status_updates=(update,),
                    history=history_of([update]),
                    bulk=chunk,
                )
            )
    await ports.operations.cancel(Scope(account.id), operation.id, now(ports))
    cancelled = ChangeBatch(account, account, bulk=chunk_of(operation, "run-1", 0))
    with pytest.raises(StaleWrite):
        await ports.writer.commit(cancelled)
    assert await holdings(ports, account.id) == before
    stopped = await ports.operations.load(operation.id)
    assert stopped is not None and (stopped.next_page, stopped.progress) == (0, BulkProgress())


# ---------------------------------------------------------------- counts and update dates


async def test_counts_are_read_with_a_recount_of_the_contacts(ports: Ports) -> None:
    account = await stored_account(ports, counts=UsageCounts(9, 9, 9))
    await stored_contacts(ports, account, 2, state=M)
    await stored_contacts(ports, account, 1, state=P, pending_since=now(ports))
    await stored_contacts(ports, account, 3)
    await stored_contacts(ports, await stored_account(ports), 4, state=M)
    assert await ports.writer.read_counts(account.id) == (account, UsageCounts(3, 1, 6))
    assert await ports.writer.read_counts(ports.ids.new_id()) is None


async def test_counts_are_repaired_at_the_revision_they_were_read_at(ports: Ports) -> None:
    account = await stored_account(ports, counts=UsageCounts(9, 9, 9))
    actual = UsageCounts(1, 0, 1)
    await ports.writer.repair_counts(account, actual)
    repaired = replace(account, counts=actual, revision=account.revision + 1)
    assert await ports.accounts.get(account.id) == repaired
    with pytest.raises(StaleWrite):
        await ports.writer.repair_counts(account, UsageCounts())
    assert await ports.accounts.get(account.id) == repaired


async def test_an_update_date_is_recorded_once(ports: Ports) -> None:
    account = await stored_account(ports, next_update_date=date(2025, 2, 1))
    after = replace(account, next_update_date=date(2025, 3, 1), revision=account.revision + 1)
    record = ports.writer.record_update_date
    assert await record(account, after, date(2025, 2, 1), 4, now(ports))
    assert await ports.accounts.get(account.id) == after
    assert not await record(after, replace(after, revision=9), date(2025, 2, 1), 4, now(ports))
    assert not await record(account, after, date(2025, 2, 1), 4, now(ports))
    assert await ports.accounts.get(account.id) == after


async def test_an_update_date_decided_on_an_old_revision_is_not_recorded(ports: Ports) -> None:
    account = await stored_account(ports, next_update_date=date(2025, 2, 1))
    current = replace(account, name="Renamed", revision=account.revision + 1)
    await ports.accounts.replace_settings(account, current)
    moved_on = replace(account, next_update_date=date(2025, 3, 1), revision=account.revision + 1)
    with pytest.raises(StaleWrite):
        await ports.writer.record_update_date(account, moved_on, date(2025, 2, 1), 0, now(ports))
    assert await ports.accounts.get(account.id) == current
    fresh = replace(current, next_update_date=date(2025, 3, 1), revision=current.revision + 1)
    assert await ports.writer.record_update_date(current, fresh, date(2025, 2, 1), 0, now(ports))
    assert await ports.accounts.get(account.id) == fresh


# ---------------------------------------------------------------- merges (C10)


async def listed(ports: Ports, account: Account, *members: Contact) -> ContactList:
    made = ContactList(ports.ids.new_id(), account.id, f"list-{len(members)}", now(ports))
    return await ports.lists.insert(made, [c.id for c in members])


async def as_stored(ports: Ports, contact: Contact) -> Contact:
    found = await ports.contacts.get(Scope(contact.account_id), contact.id)
    assert found is not None
    return found


def merge_batch(account: Account, primary: Contact, secondary: Contact) -> ChangeBatch:
    merge = merge_contacts(primary, secondary, primary.updated_at)
    change = plan_usage_change(account, merge.transitions, primary.updated_at)
    return ChangeBatch(
        account,
        change.account,
        deleted=(secondary,),
        history=merge.history,
        tier_change=change.tier_change,
        alerts=change.alerts,
        merge=ContactMerge(primary, secondary, merge.contact),
    )


async def test_c10_a_merge_writes_the_primary_as_merged_with_the_secondarys_history_and_lists(
    ports: Ports,
) -> None:
    # the counts the contacts will be in: two N, one P
    account = await stored_account(ports, counts=UsageCounts(1, 1, 3))
    primary, secondary, third = await stored_contacts(ports, account, 3)
    account, _ = await moved(ports, account, secondary, M)
    account, _ = await moved(ports, account, await as_stored(ports, secondary), P)
    both = await listed(ports, account, primary, secondary)
    theirs = await listed(ports, account, secondary, third)
    primary, secondary = await as_stored(ports, primary), await as_stored(ports, secondary)
    batch = merge_batch(account, primary, secondary)
    assert batch.merge is not None
    merged = batch.merge.merged
    assert (merged.state, merged.status_seq, len(batch.history)) == (P, 3, 1)

    await ports.writer.commit(batch)

    assert await as_stored(ports, primary) == merged
    assert await ports.contacts.get(Scope(account.id), secondary.id) is None
    history = (await ports.history.page(account.id, primary.id, 10, None)).items
    assert [(e.contact_id, e.seq) for e in history] == [(primary.id, n) for n in (3, 2, 1)]
    assert [(e.change.from_state, e.change.to_state) for e in history] == [(N, P), (M, P), (N, M)]
    assert (await ports.history.page(account.id, secondary.id, 10, None)).items == []
    sizes = [await ports.lists.get(account.id, one.id) for one in (both, theirs)]
    assert [found.size for found in sizes if found is not None] == [1, 2]
    assert await ports.accounts.get(account.id) == batch.account_after


async def test_c10_a_primary_without_an_address_takes_the_secondarys(ports: Ports) -> None:
    account = await stored_account(ports)
    primary, secondary = await store(
        ports,
        account,
        new_contact(ports, account),
        new_contact(ports, account, email="ada@example.com"),
    )
    await ports.writer.commit(merge_batch(account, primary, secondary))
    assert (await as_stored(ports, primary)).email == "ada@example.com"
    with pytest.raises(DuplicateEmail):  # the address is the primary's now
        await store(ports, account, new_contact(ports, account, email="Ada@example.com"))


async def test_c10_the_secondarys_address_is_free_once_merged(ports: Ports) -> None:
    account = await stored_account(ports)
    primary, secondary = await stored_contacts(ports, account, 2)
    await ports.writer.commit(merge_batch(account, primary, secondary))
    assert secondary.email is not None
    (again,) = await store(ports, account, new_contact(ports, account, email=secondary.email))
    assert await as_stored(ports, again) == again


async def test_c10_a_merge_decided_on_contacts_that_changed_writes_nothing(ports: Ports) -> None:
    account = await stored_account(ports, counts=UsageCounts(0, 0, 3))
    primary, secondary, other = await stored_contacts(ports, account, 3)
    batch = merge_batch(account, primary, secondary)
    later = await listed(ports, account, secondary)  # a membership the merge did not see
    before = await holdings(ports, account.id)
    with pytest.raises(StaleWrite):
        await ports.writer.commit(batch)
    assert await holdings(ports, account.id) == before
    secondary = await as_stored(ports, secondary)
    await ports.lists.add_members(account.id, later.id, [primary.id])
    stale_primary = merge_batch(account, primary, secondary)
    with pytest.raises(StaleWrite):
        await ports.writer.commit(stale_primary)
    primary = await as_stored(ports, primary)
    current, _ = await moved(ports, account, other, M)
    with pytest.raises(StaleWrite):  # the account moved on
        await ports.writer.commit(merge_batch(account, primary, secondary))
    await ports.writer.commit(merge_batch(current, primary, secondary))
    assert (await as_stored(ports, primary)).merged_ids == (secondary.id,)
    assert [found.size for found in [await ports.lists.get(account.id, later.id)] if found] == [1]

"""Exports over the fakes (I6, P3, P4, P5): an export writes the selection's contacts within
its requester's scope as CSV and COMPLETES with its row count; what it may not see is never in
the file; a start past 5 active background operations (bulk changes and exports together) is
TOO_MANY and stores nothing; a run again does nothing, a run after a crash starts the file
over; the file is downloadable by who sees the export until its 7 days are over, when the
sweep deletes it; each start has its audit entry."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from marketing_contacts.domain.bulk import BulkOperationStatus, Selection
from marketing_contacts.domain.errors import ErrorCode
from marketing_contacts.domain.exports import COLUMNS, Export
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import MarketingStatus
from marketing_contacts.domain.users import RecordVisibility
from marketing_contacts.services.bulk import BulkRequest
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.services.registry import Services
from tests.unit.services.fakes import (
    FakeWorld,
    codes_and_fields,
    fake_services,
    make_contacts,
    open_account,
)
from tests.unit.services.test_companies import as_user

RUNNING, COMPLETED = BulkOperationStatus.RUNNING, BulkOperationStatus.COMPLETED
QUEUED, FAILED = BulkOperationStatus.QUEUED, BulkOperationStatus.FAILED


async def setup() -> tuple[Services, FakeWorld, Caller]:
    services, world = fake_services()
    return services, world, await open_account(services)


async def refused(call: Any) -> list[tuple[ErrorCode, tuple[str, ...]]]:
    with pytest.raises(Exception) as error:
        await call
    return codes_and_fields(error.value)


def rows_of(world: FakeWorld, export_id: str) -> list[dict[str, str]]:
    text = b"".join(world.data.export_files[export_id]).decode()
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


async def exported(services: Services, caller: Caller, selection: Selection) -> Export:
    started = await services.exports.start(caller, selection)
    done = await services.exports.run(started.id)
    assert done is not None
    return done


async def test_i6_an_export_writes_the_selection_as_csv_and_completes_with_its_rows() -> None:
    services, world, admin = await setup()
    people = await make_contacts(services, admin, 3)
    started = await services.exports.start(admin, Selection(filter=ContactFilter()))
    assert (started.status, started.rows, started.expires_at) == (QUEUED, 0, None)
    assert world.jobs.enqueued == [f"export:{started.id}"]
    assert await services.exports.downloadable(admin, started.id) is None  # not written yet
    world.clock.advance(minutes=2)
    done = await services.exports.run(started.id)
    assert done is not None
    assert (done.status, done.rows) == (COMPLETED, 3)
    assert done.finished_at == world.clock.now()
    assert done.expires_at == world.clock.now() + timedelta(days=7)
    assert [r["email"] for r in rows_of(world, done.id)] == [p.email for p in people]
    assert [r["id"] for r in rows_of(world, done.id)] == [p.id for p in people]
    assert services.exports.download_path(done) == f"/exports/{done.id}/file"
    assert await services.exports.downloadable(admin, done.id) == done


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (lambda ids: Selection(ids=(ids[2], ids[0])), [0, 2]),  # in id order
        (
            lambda ids: Selection(filter=ContactFilter(marketing_status=MarketingStatus.MARKETING)),
            [3],
        ),
        (lambda ids: Selection(unengaged=True), []),
        (lambda ids: Selection(filter=ContactFilter()), [0, 1, 2, 3]),
    ],
)
async def test_i6_b1_the_export_holds_what_the_selection_selects(
    selection: Any, expected: list[int]
) -> None:
    services, world, admin = await setup()
    people = await make_contacts(services, admin, 3)
    people += await make_contacts(services, admin, 1, MarketingStatus.MARKETING, prefix="m")
    done = await exported(services, admin, selection([p.id for p in people]))
    assert [r["id"] for r in rows_of(world, done.id)] == [people[i].id for i in expected]
    assert done.rows == len(expected)


async def test_i6_b1_a_contact_created_after_the_start_is_not_exported() -> None:
    services, world, admin = await setup()
    before = await make_contacts(services, admin, 2)
    started = await services.exports.start(admin, Selection(filter=ContactFilter()))
    world.clock.advance(seconds=5)
    await make_contacts(services, admin, 1, prefix="later")
    done = await services.exports.run(started.id)
    assert done is not None and done.rows == 2
    assert [r["id"] for r in rows_of(world, done.id)] == [c.id for c in before]


async def test_i6_p3_an_export_holds_only_what_its_requester_sees_and_is_its_record() -> None:
    services, world, admin = await setup()
    member = await as_user(services, admin, RecordVisibility.OWNED)
    theirs = await services.contacts.create(admin, ContactDraft(email="a@x.io"))
    own = await services.contacts.create(
        admin, ContactDraft(email="own@x.io", owner_id=member.user_id)
    )
    done = await exported(services, member, Selection(ids=(theirs.id, own.id)))
    assert [r["email"] for r in rows_of(world, done.id)] == ["own@x.io"]
    assert await services.exports.get(member, done.id) == done
    assert await services.exports.get(admin, done.id) == done  # the admin sees the member's
    admins = await exported(services, admin, Selection(filter=ContactFilter()))
    assert admins.rows == 2
    # the admin's export is not the member's to see: NOT_FOUND as a missing one
    assert await services.exports.get(member, admins.id) is None
    assert await services.exports.downloadable(member, admins.id) is None
    stranger = await open_account(services)
    assert await services.exports.get(stranger, done.id) is None
    assert await services.exports.downloadable(stranger, done.id) is None


@pytest.mark.parametrize(
    ("bulk_active", "exports_active", "finished", "refused_code"),
    [
        (0, 4, 0, None),
        (0, 5, 0, ErrorCode.TOO_MANY),
        (3, 2, 0, ErrorCode.TOO_MANY),  # bulk changes and exports count together
        (4, 0, 0, None),
        (0, 4, 3, None),  # finished exports do not count
    ],
)
async def test_p5_at_most_5_background_operations_are_active_per_account(
    bulk_active: int, exports_active: int, finished: int, refused_code: ErrorCode | None
) -> None:
    services, world, admin = await setup()
    people = await make_contacts(services, admin, 1)
    selection = Selection(ids=(people[0].id,))
    for _ in range(bulk_active):
        await services.bulk.start(admin, BulkRequest(selection, MarketingStatus.NON_MARKETING))
    for _ in range(finished):
        await exported(services, admin, selection)
    for _ in range(exports_active):
        await services.exports.start(admin, selection)
    other = await open_account(services)  # another account's are its own
    for _ in range(5):
        await services.exports.start(other, Selection(filter=ContactFilter()))
    before = world.snapshot()
    if refused_code is None:
        assert (await services.exports.start(admin, selection)).status is QUEUED
        return
    assert await refused(services.exports.start(admin, selection)) == [(refused_code, ())]
    assert world.snapshot() == before


@pytest.mark.parametrize(("exports_active", "accepted"), [(4, True), (5, False)])
async def test_p5_a_bulk_change_counts_the_active_exports_too(
    exports_active: int, accepted: bool
) -> None:
    services, world, admin = await setup()
    people = await make_contacts(services, admin, 1)
    selection = Selection(ids=(people[0].id,))
    for _ in range(exports_active):
        await services.exports.start(admin, selection)
    change = services.bulk.start(admin, BulkRequest(selection, MarketingStatus.NON_MARKETING))
    if accepted:
        assert (await change).status is QUEUED
        return
    before = world.snapshot()
    assert [code for code, _ in await refused(change)] == [ErrorCode.TOO_MANY]
    assert world.snapshot() == before


@pytest.mark.parametrize(
    ("selection", "field"),
    [
        (lambda list_id: Selection(list_id=list_id), ("selection", "list_id")),
        (
            lambda list_id: Selection(filter=ContactFilter(list_id=list_id)),
            ("selection", "filter", "list_id"),
        ),
    ],
)
async def test_i6_a_selection_of_a_deleted_list_is_not_found_and_starts_nothing(
    selection: Any, field: tuple[str, ...]
) -> None:
    services, world, admin = await setup()
    listed = await services.lists.create(admin, "Gone", [])
    await services.lists.delete(admin, listed.id)
    before = world.snapshot()
    assert await refused(services.exports.start(admin, selection(listed.id))) == [
        (ErrorCode.NOT_FOUND, field)
    ]
    assert world.snapshot() == before


async def test_p4_a_start_writes_its_audit_entry() -> None:
    services, world, admin = await setup()
    started = await services.exports.start(admin, Selection(filter=ContactFilter()))
    entry = world.data.audit[-1]
    assert (entry.action, entry.record_ids, entry.actor.user_id) == (
        "startExport",
        (started.id,),
        admin.user_id,
    )


async def test_i6_a_finished_export_runs_no_more_and_a_crashed_run_starts_the_file_over() -> None:
    services, world, admin = await setup()
    await make_contacts(services, admin, 2)
    started = await services.exports.start(admin, Selection(filter=ContactFilter()))
    # a run that crashed mid-file: RUNNING, with a partial file
    assert (await world.exports.claim(started.id, world.clock.now())) is not None
    world.data.export_files[started.id] = [b"id,email\r\npartial"]
    done = await services.exports.run(started.id)
    assert done is not None and done.rows == 2
    assert len(rows_of(world, started.id)) == 2  # rewritten, nothing of the partial one
    file = list(world.data.export_files[started.id])
    assert await services.exports.run(started.id) is None  # a job run again does nothing
    assert world.data.exports[started.id] == done
    assert world.data.export_files[started.id] == file


async def test_i6_a_failed_export_has_its_reason_and_no_file() -> None:
    services, world, admin = await setup()
    started = await services.exports.start(admin, Selection(filter=ContactFilter()))
    await world.exports.claim(started.id, world.clock.now())
    world.data.export_files[started.id] = [b"partial"]
    failed = await services.exports.fail(started.id, "broken")
    assert failed is not None and (failed.status, failed.failure) == (FAILED, "broken")
    assert started.id not in world.data.export_files
    assert await services.exports.run(started.id) is None
    assert await services.exports.downloadable(admin, started.id) is None


async def test_i6_the_file_goes_after_7_days_and_the_sweep_deletes_it() -> None:
    services, world, admin = await setup()
    await make_contacts(services, admin, 1)
    done = await exported(services, admin, Selection(filter=ContactFilter()))
    kept = await exported(services, admin, Selection(filter=ContactFilter()))
    assert kept.expires_at is not None
    world.data.exports[kept.id] = replace(kept, expires_at=kept.expires_at + timedelta(days=1))
    world.clock.advance(days=7, seconds=-1)
    assert await services.exports.downloadable(admin, done.id) is not None
    assert (await services.exports.sweep()).deleted == []
    world.clock.advance(seconds=1)
    assert await services.exports.downloadable(admin, done.id) is None  # before any sweep
    swept = await services.exports.sweep()
    assert swept.deleted == [done.id]
    assert done.id not in world.data.exports and done.id not in world.data.export_files
    assert kept.id in world.data.exports and kept.id in world.data.export_files
    assert await services.exports.get(admin, done.id) is None


async def test_i6_an_export_whose_enqueueing_failed_is_persisted_and_the_sweep_enqueues_it() -> (
    None
):
    services, world, admin = await setup()
    world.jobs.failing = True
    started = await services.exports.start(admin, Selection(filter=ContactFilter()))
    assert world.data.exports[started.id].status is QUEUED
    world.jobs.failing = False
    assert (await services.exports.sweep()).requeued == []  # just started: not lost yet
    world.clock.advance(minutes=2)
    assert (await services.exports.sweep()).requeued == [started.id]
    assert world.jobs.enqueued == [f"export:{started.id}"]

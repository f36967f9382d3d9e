"""ExportStore (I6, P3, P5): an export reads back whole, only in its account and by a scope that
sees its requester; a start past `max_active` active bulk operations and exports together raises
TooManyActive and stores nothing; claim takes a QUEUED or RUNNING export, complete and fail end
it once; a file reads back as written, whatever its size, and a rewrite replaces it; the expired
ones and the lost ones are found, and a delete takes the export and its file."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.audit import Actor
from marketing_contacts.domain.bulk import BulkOperationStatus, Selection
from marketing_contacts.domain.exports import Export
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.ports.bulk import TooManyActive
from marketing_contacts.services.wiring import Ports
from tests.contract.records import now, queued_operation, stored_account

QUEUED, RUNNING = BulkOperationStatus.QUEUED, BulkOperationStatus.RUNNING
COMPLETED, FAILED = BulkOperationStatus.COMPLETED, BulkOperationStatus.FAILED


def new_export(ports: Ports, account: Account, **fields: Any) -> Export:
    values: dict[str, Any] = {
        "selection": Selection(filter=ContactFilter()),
        "status": QUEUED,
        "created_at": now(ports),
        "requested_by": "owner-1",
        **fields,
    }
    return Export(id=ports.ids.new_id(), account_id=account.id, **values)


async def stored_export(ports: Ports, account: Account, **fields: Any) -> Export:
    export = new_export(ports, account, **fields)
    await ports.exports.insert(export, 100)
    return export


async def chunks(*parts: bytes) -> Any:
    for part in parts:
        yield part


async def file_of(ports: Ports, export: Export) -> bytes:
    return b"".join([chunk async for chunk in ports.exports.read_file(export)])


async def test_i6_p3_an_export_reads_back_only_in_its_account_and_by_who_sees_its_requester(
    ports: Ports,
) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    export = await stored_export(
        ports, account, owners=frozenset({"owner-1"}), selection=Selection(ids=("a", "b"))
    )
    assert await ports.exports.get(Scope(account.id), export.id) == export
    assert await ports.exports.get(Scope(account.id, frozenset({"owner-1"})), export.id) == export
    assert await ports.exports.get(Scope(account.id, frozenset({"owner-2"})), export.id) is None
    assert await ports.exports.get(Scope(other.id), export.id) is None
    assert await ports.exports.get(Scope(account.id), "not-an-id") is None
    assert await ports.exports.load(export.id) == export


@pytest.mark.parametrize(
    ("bulk", "exports", "passes"), [(0, 2, True), (0, 3, False), (2, 1, False), (1, 0, True)]
)
async def test_p5_a_start_counts_active_bulk_operations_and_exports_together(
    ports: Ports, bulk: int, exports: int, passes: bool
) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    for _ in range(bulk):
        await queued_operation(ports, account)
    for _ in range(exports):
        await stored_export(ports, account)
    await stored_export(ports, account, status=COMPLETED)  # ended: not counted
    for _ in range(3):
        await stored_export(ports, other)
    export = new_export(ports, account)
    entry = ports.audit_entry(account.id, Actor("owner-1", "t"), "startExport", [export.id])
    if passes:
        await ports.exports.insert(export, 3, entry)
        assert await ports.exports.load(export.id) == export
        return
    with pytest.raises(TooManyActive):
        await ports.exports.insert(export, 3, entry)
    assert await ports.exports.load(export.id) is None
    assert (await ports.audit.page(Scope(account.id), export.id, 10, None)).items == []


async def test_p4_an_insert_writes_its_audit_entry(ports: Ports) -> None:
    account = await stored_account(ports)
    export = new_export(ports, account)
    entry = ports.audit_entry(account.id, Actor("owner-1", "t"), "startExport", [export.id])
    await ports.exports.insert(export, 5, entry)
    assert (await ports.audit.page(Scope(account.id), export.id, 10, None)).items == [entry]


async def test_i6_claim_complete_and_fail_move_an_export_once(ports: Ports) -> None:
    account = await stored_account(ports)
    export = await stored_export(ports, account)
    at = now(ports)
    claimed = await ports.exports.claim(export.id, at)
    assert claimed == replace(export, status=RUNNING, started_at=at)
    again = await ports.exports.claim(export.id, at + timedelta(minutes=1))  # a re-run
    assert again == claimed  # started when first claimed
    done = await ports.exports.complete(claimed, 7, at)
    assert done == claimed.completed(7, at)
    assert done is not None and done.expires_at == at + timedelta(days=7)
    assert await ports.exports.load(export.id) == done
    assert await ports.exports.claim(export.id, at) is None
    assert await ports.exports.complete(claimed, 9, at) is None
    assert await ports.exports.fail(claimed, "late", at) is None
    assert await ports.exports.load(export.id) == done

    second = await stored_export(ports, account)
    assert await ports.exports.complete(second, 1, at) is None  # never claimed
    await ports.exports.write_file(second, chunks(b"partial"))
    failed = await ports.exports.fail(second, "broken", at)
    assert failed is not None and (failed.status, failed.failure) == (FAILED, "broken")
    assert failed.finished_at == at
    assert await file_of(ports, second) == b""


@pytest.mark.parametrize(
    "parts",
    [
        [],
        [b"id,email\r\n"],
        [b"a" * 1000, b"b" * 300_000, b"c"],  # past one stored piece
        [b"x" * 255 * 1024],  # exactly one piece
    ],
)
async def test_i6_a_file_reads_back_as_written_and_a_rewrite_replaces_it(
    ports: Ports, parts: list[bytes]
) -> None:
    account = await stored_account(ports)
    export = await stored_export(ports, account)
    other = await stored_export(ports, account)
    await ports.exports.write_file(other, chunks(b"other's"))
    await ports.exports.write_file(export, chunks(b"an old partial file " * 20_000))
    await ports.exports.write_file(export, chunks(*parts))
    assert await file_of(ports, export) == b"".join(parts)
    assert await file_of(ports, other) == b"other's"


async def test_i6_expired_and_lost_exports_are_found_and_a_delete_takes_the_file(
    ports: Ports,
) -> None:
    account = await stored_account(ports)
    at = now(ports)
    old = await stored_export(ports, account, status=COMPLETED, expires_at=at - timedelta(days=1))
    due = await stored_export(ports, account, status=COMPLETED, expires_at=at)
    kept = await stored_export(ports, account, status=COMPLETED, expires_at=at + timedelta(hours=1))
    lost = await stored_export(ports, account, created_at=at - timedelta(minutes=5))
    fresh = await stored_export(ports, account, created_at=at)
    await stored_export(ports, account, status=RUNNING, created_at=at - timedelta(minutes=5))
    assert [e.id for e in await ports.exports.expired(at, 10)] == [old.id, due.id]
    assert [e.id for e in await ports.exports.expired(at, 1)] == [old.id]
    assert [e.id for e in await ports.exports.queued_before(at - timedelta(minutes=1), 10)] == [
        lost.id
    ]
    assert fresh.id not in {e.id for e in await ports.exports.queued_before(at, 10)}
    await ports.exports.write_file(old, chunks(b"old file"))
    await ports.exports.write_file(kept, chunks(b"kept file"))
    await ports.exports.delete(old)
    assert await ports.exports.load(old.id) is None
    assert await file_of(ports, old) == b""
    assert await file_of(ports, kept) == b"kept file"
    assert [e.id for e in await ports.exports.expired(at, 10)] == [due.id]

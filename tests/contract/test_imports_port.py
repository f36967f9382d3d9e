"""ImportStore and FileStore (I1-I5, P5): files read back from any byte on and forgotten; an
import read back whole only in its account and by its requester's scope (P3), newest first;
claimed under a lease; moved past a chunk only from the cursor the chunk was read at under that
lease (a chunk committed twice, or by a run that lost the lease, writes nothing); ended once;
row errors in row order; an idempotency key held; P5 counted with bulk operations."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.errors import ErrorCode
from marketing_contacts.domain.imports import (
    Cursor,
    Import,
    ImportCounts,
    ImportOptions,
    ImportStatus,
    RowError,
)
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.ports.changes import ChangeBatch, StaleWrite
from marketing_contacts.services.ports.imports import ImportChunk, ImportKey, TooManyImports
from marketing_contacts.services.wiring import Ports
from tests.contract.records import (
    all_pages,
    items_of,
    now,
    queued_operation,
    stored_account,
    stored_contacts,
)
from tests.support.uploads import one_piece

BODY = b"email\n" + b"".join(b"row%d@example.com\n" % n for n in range(40_000))


def new_import(ports: Ports, account: Account, requested_by: str = "u-1") -> Import:
    at = now(ports)
    return Import(
        id=ports.ids.new_id(at=at),
        account_id=account.id,
        requested_by=requested_by,
        file_id="0" * 24,
        file_name="c.csv",
        file_size=100,
        fingerprint="f",
        options=ImportOptions(mapping=(("email", "email"),)),
        status=ImportStatus.QUEUED,
        created_at=at,
    )


async def stored_import(ports: Ports, account: Account, requested_by: str = "u-1") -> Import:
    imported = new_import(ports, account, requested_by)
    assert await ports.imports.insert(imported, None, 100) is None
    return imported


async def test_i1_a_file_reads_back_from_any_byte_and_is_forgotten(ports: Ports) -> None:
    account = await stored_account(ports)
    stored = await ports.files.put(account.id, "c.csv", one_piece(BODY), len(BODY))
    assert stored.length == len(BODY)
    for offset in (0, 1, 261_119, 261_120, 300_001, len(BODY)):
        read = b"".join([p async for p in ports.files.read(account.id, stored.id, offset)])
        assert read == BODY[offset:], offset
    await ports.files.delete(account.id, stored.id)
    assert [p async for p in ports.files.read(account.id, stored.id)] == []


async def test_i1_a_file_past_its_bound_is_refused(ports: Ports) -> None:
    from marketing_contacts.services.ports.imports import FileTooLarge

    account = await stored_account(ports)
    with pytest.raises(FileTooLarge):
        await ports.files.put(account.id, "c.csv", one_piece(BODY), len(BODY) - 1)


async def test_p3_an_import_reads_back_in_its_account_and_its_requesters_scope(
    ports: Ports,
) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    imported = await stored_import(ports, account, "u-1")
    assert await ports.imports.get(Scope(account.id), imported.id) == imported
    assert await ports.imports.get(Scope(account.id, frozenset({"u-1"})), imported.id) == imported
    assert await ports.imports.get(Scope(account.id, frozenset({"u-2"})), imported.id) is None
    assert await ports.imports.get(Scope(other.id), imported.id) is None
    assert await ports.imports.load(imported.id) == imported
    newer = await stored_import(ports, account, "u-2")
    pages = await all_pages(
        lambda first, after: ports.imports.page(Scope(account.id), first, after), 1
    )
    assert [i.id for i in items_of(pages)] == [newer.id, imported.id]
    assert await ports.imports.count(Scope(account.id, frozenset({"u-2"}))) == 1


async def test_i1_a_chunk_moves_the_import_only_from_its_cursor_under_its_lease(
    ports: Ports,
) -> None:
    account = await stored_account(ports)
    imported = await stored_import(ports, account)
    at = now(ports)
    claimed = await ports.imports.claim(imported.id, "run-1", at, at + timedelta(seconds=60))
    assert claimed is not None and claimed.status is ImportStatus.RUNNING
    assert await ports.imports.claim(imported.id, "run-2", at, at + timedelta(seconds=60)) is None
    errors = (RowError(2, ErrorCode.INVALID, "bad", "email"), RowError(1, ErrorCode.INVALID, "x"))
    chunk = ImportChunk(
        import_id=imported.id,
        account_id=account.id,
        owner="run-1",
        before=Cursor(),
        after=Cursor(40, 2),
        counts=ImportCounts(rows=2, failed=2),
        errors=errors,
        lease_until=at + timedelta(seconds=90),
    )
    fresh = await ports.accounts.get(account.id)
    assert fresh is not None
    await ports.writer.commit(ChangeBatch(fresh, fresh, imported=chunk))
    moved = await ports.imports.load(imported.id)
    assert moved is not None
    assert (moved.cursor, moved.counts) == (Cursor(40, 2), ImportCounts(rows=2, failed=2))
    page = await ports.imports.errors(account.id, imported.id, 10, None)
    assert [e.row for e in page.items] == [1, 2] and page.items[1] == errors[0]
    for stale in (chunk, replace(chunk, before=Cursor(40, 2), owner="run-2")):
        with pytest.raises(StaleWrite):
            await ports.writer.commit(ChangeBatch(fresh, fresh, imported=stale))
    assert await ports.imports.load(imported.id) == moved


async def test_i1_an_import_ends_once_and_a_cancelled_one_stays_cancelled(ports: Ports) -> None:
    account = await stored_account(ports)
    imported = await stored_import(ports, account)
    at = now(ports)
    cancelled = await ports.imports.cancel(Scope(account.id), imported.id, at)
    assert cancelled is not None and cancelled.status is ImportStatus.CANCELLED
    assert await ports.imports.cancel(Scope(account.id), imported.id, at) is None
    assert await ports.imports.finish(imported, ImportStatus.COMPLETED, at) is None
    assert await ports.imports.claim(imported.id, "run", at, at + timedelta(seconds=1)) is None


async def test_i5_p5_a_held_key_answers_and_active_operations_are_counted(ports: Ports) -> None:
    account = await stored_account(ports)
    first = new_import(ports, account)
    at = first.created_at
    key = ImportKey("k", "print", first.id, at + timedelta(hours=24))
    assert await ports.imports.insert(first, key, 5) is None
    second = new_import(ports, account)
    assert await ports.imports.insert(second, replace(key, import_id=second.id), 5) == key
    assert await ports.imports.load(second.id) is None
    assert await ports.imports.held(account.id, "k", at) == key
    assert await ports.imports.held(account.id, "k", at + timedelta(hours=25)) is None
    await queued_operation(ports, account)
    await stored_import(ports, account)
    await stored_import(ports, account)
    with pytest.raises(TooManyImports):  # 3 imports and a bulk operation are 4 of 4
        await ports.imports.insert(new_import(ports, account), None, 4)


async def test_c8_contacts_are_found_by_their_email_keys(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    mine = await stored_contacts(ports, account, 2)
    await stored_contacts(ports, other, 2)
    keys = [c.email.lower() for c in mine if c.email]
    found = await ports.imports.by_emails(account.id, [*keys, "nobody@example.com"])
    assert sorted(c.id for c in found) == sorted(c.id for c in mine if c.email)

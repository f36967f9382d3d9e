"""Imports over the in-memory fakes (I1-I5, P5): a start stores the file, checks its header and
queues the import (nothing kept on a refusal); a run applies the file chunk by chunk, stops when
the import is cancelled or another run took it, and a later run resumes where the last commit
left it; keys replay; the sweeper hands stale imports to new jobs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from marketing_contacts.domain.errors import ErrorCode
from marketing_contacts.domain.imports import ImportStatus
from marketing_contacts.domain.statuses import MarketingStatus
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.imports import ImportRequest, ImportRunner
from marketing_contacts.services.registry import Services
from tests.support.uploads import one_piece
from tests.unit.services.fakes import FakeWorld, codes_and_fields, fake_services, open_account

FILE = b"email,firstName\n" + b"".join(b"r%d@x.io,R%d\n" % (n, n) for n in range(1, 11))


async def setup() -> tuple[Services, FakeWorld, Caller]:
    services, world = fake_services()
    return services, world, await open_account(services)


def request(body: bytes = FILE, **fields: Any) -> ImportRequest:
    return ImportRequest("c.csv", one_piece(body), **fields)


async def refused(call: Any) -> list[tuple[ErrorCode, tuple[str, ...]]]:
    with pytest.raises(Exception) as error:
        await call
    return codes_and_fields(error.value)


async def test_i1_a_start_queues_the_import_and_a_run_applies_every_row() -> None:
    services, world, caller = await setup()
    imported = await services.imports.start(caller, request())
    assert imported.status is ImportStatus.QUEUED
    assert world.jobs.enqueued == [f"import:{imported.id}:0"]
    done = await ImportRunner(services.ports, chunk=3).run(imported.id, "run")
    assert done is not None and done.status is ImportStatus.COMPLETED
    assert (done.counts.rows, done.counts.created) == (10, 10)
    assert len(world.contacts_of(caller.account_id)) == 10
    assert world.data.files == {}  # the file goes when the import ends
    audit = [e.action for e in world.data.audit]
    assert audit.count("startImport") == 1 and audit.count("import") == 4  # 3+3+3+1 rows


@pytest.mark.parametrize(
    ("fields", "body", "expected"),
    [
        ({"mapping": [("email", "phone")]}, FILE, [(ErrorCode.INVALID, ("mapping", "0", "field"))]),
        ({}, b"", [(ErrorCode.INVALID, ("file",))]),
        ({}, b"notes\nx\n", [(ErrorCode.INVALID, ("file",))]),
        ({"idempotency_key": ""}, FILE, [(ErrorCode.INVALID, ("idempotency_key",))]),
    ],
)  # fmt: skip
async def test_i1_a_refused_start_keeps_nothing(
    fields: dict[str, Any], body: bytes, expected: list[tuple[ErrorCode, tuple[str, ...]]]
) -> None:
    services, world, caller = await setup()
    assert await refused(services.imports.start(caller, request(body, **fields))) == expected
    assert world.data.imports == {} and world.data.files == {}


async def test_i1_a_file_past_the_bound_is_refused() -> None:
    _, world, caller = await setup()
    small = Services.over(world.ports(), import_max_bytes=10)
    assert await refused(small.imports.start(caller, request())) == [(ErrorCode.INVALID, ("file",))]
    assert world.data.files == {}


async def test_i3_marketing_needs_marketing_access() -> None:
    services, world = fake_services()
    caller = await open_account(services, marketing_access=False)
    marketing = request(marketing_status=MarketingStatus.MARKETING)
    assert await refused(services.imports.start(caller, marketing)) == [
        (ErrorCode.FORBIDDEN, ("marketing_status",))
    ]
    assert world.data.files == {}


async def test_i5_a_key_replays_its_import_and_refuses_another_file() -> None:
    services, world, caller = await setup()
    first = await services.imports.start(caller, request(idempotency_key="k"))
    assert (await services.imports.start(caller, request(idempotency_key="k"))).id == first.id
    other = request(FILE + b"x@x.io,X\n", idempotency_key="k")
    assert await refused(services.imports.start(caller, other)) == [
        (ErrorCode.CONFLICT, ("idempotency_key",))
    ]
    assert list(world.data.imports) == [first.id] and len(world.data.files) == 1


async def test_p5_a_sixth_background_operation_is_too_many() -> None:
    services, world, caller = await setup()
    for _ in range(5):
        await services.imports.start(caller, request())
    assert await refused(services.imports.start(caller, request())) == [(ErrorCode.TOO_MANY, ())]
    assert len(world.data.files) == 5


async def test_i1_a_run_stops_when_the_import_is_cancelled_between_chunks() -> None:
    services, world, caller = await setup()
    imported = await services.imports.start(caller, request())

    async def cancel() -> None:
        await services.imports.cancel(caller, imported.id)

    world.writer.interfere(lambda: _noop(), cancel)  # after the first chunk's commit
    done = await ImportRunner(services.ports, chunk=4).run(imported.id, "run")
    assert done is not None and done.status is ImportStatus.CANCELLED
    assert (done.counts.rows, len(world.contacts_of(caller.account_id))) == (4, 4)
    assert await refused(services.imports.cancel(caller, imported.id)) == [
        (ErrorCode.CONFLICT, ("id",))
    ]


async def _noop() -> None:
    return None


async def test_i1_a_run_whose_lease_went_to_another_stops_and_that_one_resumes() -> None:
    services, world, caller = await setup()
    imported = await services.imports.start(caller, request())
    runner = ImportRunner(services.ports, chunk=4)

    async def taken_over() -> None:
        world.clock.advance(seconds=120)  # run-1's lease ran out meanwhile
        now = world.clock.now()
        await services.ports.imports.claim(imported.id, "run-2", now, now + timedelta(seconds=60))

    world.writer.interfere(lambda: _noop(), taken_over)
    assert await runner.run(imported.id, "run-1") is None  # it stops: run-2 holds it
    assert world.data.imports[imported.id].counts.rows == 4
    done = await runner.run(imported.id, "run-2")
    assert done is not None and done.status is ImportStatus.COMPLETED
    assert (done.counts.rows, done.counts.created) == (10, 10)
    assert len(world.contacts_of(caller.account_id)) == 10


async def test_i1_the_sweeper_hands_stale_imports_to_new_jobs() -> None:
    services, world, caller = await setup()
    imported = await services.imports.start(caller, request())
    world.jobs.lose()
    assert await services.import_runner.sweep() == []  # queued moments ago
    world.clock.advance(seconds=31)
    assert await services.import_runner.sweep() == [imported.id]
    now = world.clock.now()
    await services.ports.imports.claim(imported.id, "dead", now, now + timedelta(seconds=60))
    world.clock.advance(seconds=61)
    assert await services.import_runner.sweep() == [imported.id]
    lease = int((now + timedelta(seconds=60)).timestamp() * 1000)
    # the lost job once more, then one named after the lease that ran out
    assert world.jobs.enqueued == [f"import:{imported.id}:{n}" for n in (0, 0, lease)]

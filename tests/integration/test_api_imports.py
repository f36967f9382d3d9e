"""CSV imports through the served schema on real SecantusDB (I1-I5, P5), the worker's runner
run in-process: rows matched by email or created, the marketing option with its access and
tier rules, row errors with their row, column and code, idempotency keys, cancellation, and a
run cut short resumed by another without applying a row twice."""

from __future__ import annotations

from typing import Any

import pytest

from marketing_contacts.domain.tiers import UpgradePolicy
from marketing_contacts.runtime import Runtime
from marketing_contacts.services.imports import ImportRunner
from marketing_contacts.services.ledger import Ledger
from marketing_contacts.services.ports.changes import ChangeBatch
from marketing_contacts.services.ports.events import Event
from tests.support.clock import MovableClock
from tests.support.graphql import Client, open_client
from tests.support.uploads import Upload

START = """mutation($input: StartImportInput!) { startImport(input: $input) {
  import { id status fileName marketingStatus rows }
  userErrors { code field message } } }"""
IMPORT = """query($id: ID!) { import(id: $id) { id status rows processed created updated
  unchanged failed progress failureReason startedAt finishedAt
  errors(first: 50) { edges { node { row column code message } } } } }"""
CONTACTS = """{ contacts(first: 100) { edges { node { id email firstName lastName jobTitle
  lifecycleStage createdVia marketingStatus statusSourceType statusSourceId } } } }"""
CREATE = """mutation($input: CreateContactInput!) { createContact(input: $input) {
  contact { id } userErrors { code } } }"""
CANCEL = """mutation($id: ID!) { cancelImport(id: $id) { import { status }
  userErrors { code field } } }"""


async def start(client: Client, text: str, **input: Any) -> dict[str, Any]:
    result = await client.execute(START, input={"file": Upload(text), **input})
    payload: dict[str, Any] = result["startImport"]
    return payload


async def started(client: Client, text: str, **input: Any) -> str:
    payload = await start(client, text, **input)
    assert payload["userErrors"] == [], payload
    import_id: str = payload["import"]["id"]
    return import_id


async def imported(client: Client, import_id: str) -> dict[str, Any]:
    row: dict[str, Any] = (await client.execute(IMPORT, id=import_id))["import"]
    return row


async def contacts_by_email(client: Client) -> dict[str, dict[str, Any]]:
    edges = (await client.execute(CONTACTS))["contacts"]["edges"]
    return {e["node"]["email"]: e["node"] for e in edges if e["node"]["email"]}


async def run(runtime: Runtime, import_id: str, chunk: int = 500) -> None:
    runner = ImportRunner(runtime.services.ports, chunk=chunk)
    done = await runner.run(import_id, "test-run")
    assert done is not None and done.status.finished


def counts(row: dict[str, Any]) -> dict[str, Any]:
    names = ("status", "rows", "processed", "created", "updated", "unchanged", "failed")
    return {name: row[name] for name in names}


async def test_i1_i2_i4_rows_are_matched_by_email_created_or_reported(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    await client.execute(
        CREATE, input={"email": "Ada@Example.com", "firstName": "Ada", "lifecycleStage": "LEAD"}
    )
    await client.execute(
        CREATE, input={"email": "kept@example.com", "firstName": "Kept", "jobTitle": "CEO"}
    )
    text = (
        "\ufeffEmail,First Name,last_name,Job Title,Lifecycle Stage,Notes\r\n"
        'ada@example.COM,,Lovelace,"Engineer, first",CUSTOMER,ignored\r\n'  # 1: updates
        "new@example.com,New,,,,\r\n"  # 2: creates
        "NEW@example.com,,Later,,,\r\n"  # 3: updates what row 2 created
        "not-an-email,X,,,,\r\n"  # 4: INVALID email
        ",,,Title only,,\r\n"  # 5: no email nor name
        "kept@example.com,Kept,,CEO,,\r\n"  # 6: unchanged
        "ada@example.com,,,,LEAD,\r\n"  # 7: stage moves back
        "\r\n"  # blank: no row
        '"multi@example.com","Multi ""Q""","Line\nBreak",,,\r\n'  # 8: a name holds no break
        '"last@example.com","Last, ""Q""",,,,'  # 9: creates; no line break at the end
    )
    import_id = await started(client, text, lifecycleStage="SUBSCRIBER")
    queued = await imported(client, import_id)
    assert queued["status"] == "QUEUED" and queued["progress"] == 0

    await run(runtime, import_id, chunk=3)

    done = await imported(client, import_id)
    assert counts(done) == {
        "status": "COMPLETED",
        "rows": 9,
        "processed": 9,
        "created": 2,
        "updated": 2,
        "unchanged": 1,
        "failed": 4,
    }
    assert done["progress"] == 1 and done["finishedAt"] is not None
    errors = [e["node"] for e in done["errors"]["edges"]]
    assert [(e["row"], e["column"], e["code"]) for e in errors] == [
        (4, "Email", "INVALID"),
        (5, None, "INVALID"),
        (7, "Lifecycle Stage", "INVALID"),
        (8, "last_name", "INVALID"),
    ]
    found = await contacts_by_email(client)
    ada = found["Ada@example.com"]  # C8: its address as it was
    assert (ada["firstName"], ada["lastName"], ada["jobTitle"], ada["lifecycleStage"]) == (
        "Ada",
        "Lovelace",
        "Engineer, first",
        "CUSTOMER",
    )
    new = found["new@example.com"]
    assert (new["firstName"], new["lastName"], new["createdVia"]) == ("New", "Later", "IMPORT")
    assert new["lifecycleStage"] == "SUBSCRIBER"  # C4: the import's stage
    assert new["marketingStatus"] == "NON_MARKETING"  # D2
    assert found["last@example.com"]["firstName"] == 'Last, "Q"'
    assert len(found) == 4


async def test_i3_the_marketing_option_sets_created_and_matched_contacts_marketing(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    await client.execute(CREATE, input={"email": "n@example.com"})
    text = "email,firstName\nn@example.com,\nm@example.com,M\n"
    import_id = await started(client, text, marketingStatus="MARKETING")
    await run(runtime, import_id)
    found = await contacts_by_email(client)
    for email in ("n@example.com", "m@example.com"):
        contact = found[email]
        assert (contact["marketingStatus"], contact["statusSourceType"]) == ("MARKETING", "IMPORT")
        assert contact["statusSourceId"] == import_id
    usage = (await client.execute("{ usage { marketingContacts } }"))["usage"]
    assert usage["marketingContacts"] == 2


async def test_i3_marketing_needs_marketing_access(runtime: Runtime) -> None:
    client = await open_client(runtime.services, marketing_access=False)
    payload = await start(client, "email\na@example.com\n", marketingStatus="MARKETING")
    assert payload["import"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("FORBIDDEN", ["input", "marketingStatus"])
    ]
    assert (await client.execute("{ imports { edges { cursor } } }"))["imports"]["edges"] == []


async def test_i3_t6_under_block_rows_past_the_tier_fail_and_write_nothing(
    runtime: Runtime,
) -> None:
    client = await open_client(
        runtime.services, tier_limit=2, tier_step=1, upgrade_policy=UpgradePolicy.BLOCK
    )
    text = "email\n" + "".join(f"c{n}@example.com\n" for n in range(1, 5))
    import_id = await started(client, text, marketingStatus="MARKETING")
    await run(runtime, import_id)
    done = await imported(client, import_id)
    assert counts(done)["created"] == 2 and counts(done)["failed"] == 2
    errors = [e["node"] for e in done["errors"]["edges"]]
    assert [(e["row"], e["code"]) for e in errors] == [
        (3, "TIER_LIMIT_REACHED"),
        (4, "TIER_LIMIT_REACHED"),
    ]
    assert sorted(await contacts_by_email(client)) == ["c1@example.com", "c2@example.com"]


async def test_i4_an_unknown_owner_fails_its_row_at_its_column(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    owner = client.caller.user_id
    text = f"email,owner\na@example.com,{owner}\nb@example.com,{'0' * 24}\n"
    mapping = [{"column": "email", "field": "email"}, {"column": "owner", "field": "ownerId"}]
    import_id = await started(client, text, mapping=mapping)
    await run(runtime, import_id)
    done = await imported(client, import_id)
    errors = [e["node"] for e in done["errors"]["edges"]]
    assert [(e["row"], e["column"], e["code"]) for e in errors] == [(2, "owner", "NOT_FOUND")]
    assert sorted(await contacts_by_email(client)) == ["a@example.com"]


async def test_i1_bad_mappings_and_files_are_refused_at_their_path(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    cases = [
        ("email\na@example.com\n", [{"column": "email", "field": "phone"}],
         ["input", "mapping", "0", "field"]),
        ("email\na@example.com\n", [{"column": "mail", "field": "email"}],
         ["input", "mapping", "0", "column"]),
        ("notes\nhello\n", None, ["input", "file"]),
        ("", None, ["input", "file"]),
    ]  # fmt: skip
    for text, mapping, path in cases:
        payload = await start(client, text, mapping=mapping)
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID", path)]
    assert (await client.execute("{ imports { edges { cursor } } }"))["imports"]["edges"] == []


async def test_i5_the_same_key_and_file_return_the_same_import_another_file_conflicts(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    text = "email\na@example.com\n"
    first = await started(client, text, idempotencyKey="k-1")
    assert await started(client, text, idempotencyKey="k-1") == first
    other = await start(client, text + "b@example.com\n", idempotencyKey="k-1")
    assert [(e["code"], e["field"]) for e in other["userErrors"]] == [
        ("CONFLICT", ["input", "idempotencyKey"])
    ]
    listed = (await client.execute("{ imports { edges { node { id } } } }"))["imports"]["edges"]
    assert [e["node"]["id"] for e in listed] == [first]


async def test_p5_past_five_background_operations_an_import_is_too_many(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    for _ in range(5):
        await started(client, "email\na@example.com\n")
    payload = await start(client, "email\na@example.com\n")
    assert [e["code"] for e in payload["userErrors"]] == ["TOO_MANY"]


async def test_i1_a_cancelled_import_stops_and_cannot_be_cancelled_again(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    import_id = await started(client, "email\na@example.com\n")
    cancelled = (await client.execute(CANCEL, id=import_id))["cancelImport"]
    assert cancelled == {"import": {"status": "CANCELLED"}, "userErrors": []}
    again = (await client.execute(CANCEL, id=import_id))["cancelImport"]
    assert again["userErrors"] == [{"code": "CONFLICT", "field": ["id"]}]
    assert await ImportRunner(runtime.services.ports).run(import_id, "late") is None
    assert await contacts_by_email(client) == {}


class CutShort(Exception):
    pass


async def test_i1_a_run_cut_short_is_resumed_by_another_without_a_row_twice(
    runtime: Runtime, test_clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await open_client(runtime.services)
    text = "email,firstName\n" + "".join(f"r{n}@example.com,R{n}\n" for n in range(1, 12))
    text += "r1@example.com,Again\n"  # row 12 updates row 1's contact
    import_id = await started(client, text)
    ports = runtime.services.ports
    ledger_commit = Ledger.commit
    commits = 0

    async def dying_commit(self: Any, batch: ChangeBatch, *also: Event) -> Any:
        nonlocal commits
        if commits == 2:
            raise CutShort  # the worker dies before its third chunk commits
        commits += 1
        return await ledger_commit(self, batch, *also)

    with monkeypatch.context() as patched:
        patched.setattr(Ledger, "commit", dying_commit)
        with pytest.raises(CutShort):
            await ImportRunner(ports, chunk=4).run(import_id, "worker-1")
    midway = await imported(client, import_id)
    assert (midway["status"], midway["rows"], midway["created"]) == ("RUNNING", 8, 8)
    assert await ImportRunner(ports, chunk=4).run(import_id, "worker-2") is None  # leased
    test_clock.advance(seconds=120)  # worker-1's lease runs out
    done = await ImportRunner(ports, chunk=4).run(import_id, "worker-2")
    assert done is not None
    assert counts(await imported(client, import_id)) == {
        "status": "COMPLETED",
        "rows": 12,
        "processed": 12,
        "created": 11,
        "updated": 1,
        "unchanged": 0,
        "failed": 0,
    }
    found = await contacts_by_email(client)
    assert len(found) == 11 and found["r1@example.com"]["firstName"] == "Again"

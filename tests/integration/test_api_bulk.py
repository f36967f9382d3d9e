"""Bulk status changes through the schema on real servers; the runner is run in-process here
(tests/e2e runs it in real arq worker processes)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from arq.constants import default_queue_name, job_key_prefix

from marketing_contacts.domain.tiers import UpgradePolicy
from marketing_contacts.runtime import Runtime
from marketing_contacts.services.bulk_runner import PageRun
from marketing_contacts.services.ports.changes import StaleWrite
from marketing_contacts.storage.database import BULK_PAGES, STATUS_HISTORY
from tests.support.clock import MovableClock
from tests.support.graphql import Client, open_client

PREVIEW = """
query($selection: ContactSelection!, $status: MarketingStatus!) {
  previewStatusChange(selection: $selection, status: $status) {
    matched changeNow becomePending unchanged marketingContactsAfter projectedAfterNextUpdate
    tierLimitAfter wouldUpgrade wouldBeBlocked } }"""
START = """
mutation($input: BulkStatusChangeInput!) { startBulkStatusChange(input: $input) {
  bulkOperation { id status matched targetStatus }
  userErrors { code field message } } }"""
OPERATION = """
query($id: ID!) { bulkOperation(id: $id) { id status matched processed changedNow becamePending
  unchanged failed progress errors { code message } startedAt finishedAt } }"""
CREATE = """mutation($s: MarketingStatus, $b: Boolean) { createContact(input:
  {marketingStatus: $s, emailHardBounced: $b}) { contact { id } } }"""


async def contacts(
    client: Client, count: int, status: str = "NON_MARKETING", bounced: bool = False
) -> list[str]:
    return [
        (await client.execute(CREATE, s=status, b=bounced))["createContact"]["contact"]["id"]
        for _ in range(count)
    ]


async def start(client: Client, **input: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await client.execute(START, input=input))["startBulkStatusChange"]
    return payload


async def run_to_end(runtime: Runtime, client: Client, operation_id: str) -> dict[str, Any]:
    await runtime.services.bulk_runner.run(operation_id, "test-runner")
    result: dict[str, Any] = (await client.execute(OPERATION, id=operation_id))["bulkOperation"]
    return result


async def test_b2_preview_counts_without_changing_anything(runtime: Runtime) -> None:
    client = await open_client(runtime.services, tier_limit=5, tier_step=5)
    await contacts(client, 3)
    marketing = await contacts(client, 3, "MARKETING")
    await client.execute(
        "mutation($ids: [ID!]!) { setMarketingStatus(input: {contactIds: $ids, status: "
        "NON_MARKETING}) { userErrors { code } } }",
        ids=marketing[:1],
    )
    preview = await client.execute(PREVIEW, selection={"filter": {}}, status="MARKETING")
    assert preview["previewStatusChange"] == {
        "matched": 6,
        "changeNow": 4,
        "becomePending": 0,
        "unchanged": 2,
        "marketingContactsAfter": 6,
        "projectedAfterNextUpdate": 6,
        "tierLimitAfter": 10,
        "wouldUpgrade": True,
        "wouldBeBlocked": False,
    }
    usage = await client.execute("{ usage { marketingContacts pendingNonMarketing } }")
    assert usage["usage"] == {"marketingContacts": 3, "pendingNonMarketing": 1}


async def test_b3_marketing_needs_the_matched_count_and_nothing_is_queued(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    await contacts(client, 4)
    for confirm in (None, 3, 400):
        payload = await start(
            client, selection={"filter": {}}, status="MARKETING", confirmCount=confirm
        )
        assert payload["bulkOperation"] is None
        assert payload["userErrors"][0]["code"] == "CONFIRMATION_MISMATCH"
        assert payload["userErrors"][0]["field"] == ["input", "confirmCount"]
    listed = await client.execute("{ bulkOperations { edges { node { id } } } }")
    assert listed["bulkOperations"]["edges"] == []


async def test_b4_operation_applies_each_contact_by_s2_and_reports_progress(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    await contacts(client, 5)
    await contacts(client, 2, "MARKETING")
    payload = await start(client, selection={"filter": {}}, status="MARKETING", confirmCount=7)
    operation = payload["bulkOperation"]
    assert operation["status"] == "QUEUED" and operation["matched"] == 7
    done = await run_to_end(runtime, client, operation["id"])
    assert {
        k: done[k]
        for k in ("status", "matched", "processed", "changedNow", "unchanged", "failed", "progress")
    } == {
        "status": "COMPLETED",
        "matched": 7,
        "processed": 7,
        "changedNow": 5,
        "unchanged": 2,
        "failed": 0,
        "progress": 1.0,
    }
    usage = await client.execute("{ usage { marketingContacts } }")
    assert usage["usage"]["marketingContacts"] == 7
    again = await runtime.services.bulk_runner.run(operation["id"], "another-runner")
    assert again is None  # finished: nothing runs twice


async def test_b4_non_marketing_makes_pending_and_history_names_the_operation(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    [one] = await contacts(client, 1, "MARKETING")
    payload = await start(client, selection={"ids": [one]}, status="NON_MARKETING")
    done = await run_to_end(runtime, client, payload["bulkOperation"]["id"])
    assert done["becamePending"] == 1
    history = await client.execute(
        "query($id: ID!) { contact(id: $id) { marketingUntilNextUpdate statusSourceType "
        "statusSourceId } }",
        id=one,
    )
    assert history["contact"] == {
        "marketingUntilNextUpdate": True,
        "statusSourceType": "BULK_OPERATION",
        "statusSourceId": done["id"],
    }


async def test_t6_bulk_under_block_applies_what_fits_in_order_and_fails_the_rest(
    runtime: Runtime,
) -> None:
    client = await open_client(
        runtime.services, tier_limit=3, tier_step=3, upgrade_policy=UpgradePolicy.BLOCK
    )
    # the selection order is the order the ids are given in: newest first here
    ids = list(reversed(await contacts(client, 5)))
    preview = (
        await client.execute(
            "query($s: ContactSelection!) { previewStatusChange(selection: $s, status: MARKETING)"
            " { changeNow blockedByTier marketingContactsAfter wouldBeBlocked } }",
            s={"ids": ids},
        )
    )["previewStatusChange"]
    assert preview == {
        "changeNow": 3,
        "blockedByTier": 2,
        "marketingContactsAfter": 3,
        "wouldBeBlocked": True,
    }
    payload = await start(client, selection={"ids": ids}, status="MARKETING", confirmCount=5)
    done = await run_to_end(runtime, client, payload["bulkOperation"]["id"])
    assert (done["changedNow"], done["failed"], done["processed"]) == (3, 2, 5)
    assert [e["code"] for e in done["errors"]] == ["TIER_LIMIT_REACHED"]
    page = await client.execute("{ contacts(first: 10) { edges { node { id marketingStatus } } } }")
    statuses = {e["node"]["id"]: e["node"]["marketingStatus"] for e in page["contacts"]["edges"]}
    assert [statuses[i] for i in ids] == ["MARKETING"] * 3 + ["NON_MARKETING"] * 2


async def test_b1_unengaged_selects_marketing_contacts_that_bounced(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    await contacts(client, 2, "MARKETING", bounced=True)
    await contacts(client, 1, "NON_MARKETING", bounced=True)
    await contacts(client, 2, "MARKETING")
    preview = await client.execute(PREVIEW, selection={"unengaged": True}, status="NON_MARKETING")
    assert preview["previewStatusChange"]["matched"] == 2
    assert preview["previewStatusChange"]["becomePending"] == 2


async def test_b1_contacts_created_after_the_start_are_not_included(runtime: Runtime) -> None:
    """Also while the operation waits in the queue: the user confirmed what matched at start."""
    client = await open_client(runtime.services)
    await contacts(client, 2)
    payload = await start(client, selection={"filter": {}}, status="MARKETING", confirmCount=2)
    operation_id = payload["bulkOperation"]["id"]
    late = await contacts(client, 3)  # created after the start, before a worker took it
    done = await run_to_end(runtime, client, operation_id)
    assert (done["matched"], done["changedNow"]) == (2, 2)
    assert await statuses(client, late) == ["NON_MARKETING"] * 3


async def statuses(client: Client, ids: list[str]) -> list[str]:
    read = "query($id: ID!) { contact(id: $id) { marketingStatus } }"
    return [(await client.execute(read, id=i))["contact"]["marketingStatus"] for i in ids]


async def test_b4_cancel_stops_it_and_a_finished_one_cannot_be_cancelled(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    stranger = await open_client(runtime.services, name="Stranger")
    await contacts(client, 3)
    payload = await start(client, selection={"filter": {}}, status="NON_MARKETING")
    operation_id = payload["bulkOperation"]["id"]
    cancel = (
        "mutation($id: ID!) { cancelBulkOperation(id: $id) { bulkOperation { status } "
        "userErrors { code field } } }"
    )
    foreign = await stranger.execute(cancel, id=operation_id)
    assert foreign["cancelBulkOperation"]["userErrors"] == [{"code": "NOT_FOUND", "field": ["id"]}]
    cancelled = await client.execute(cancel, id=operation_id)
    assert cancelled["cancelBulkOperation"]["bulkOperation"] == {"status": "CANCELLED"}
    assert await runtime.services.bulk_runner.run(operation_id, "late-runner") is None
    again = await client.execute(cancel, id=operation_id)
    assert again["cancelBulkOperation"]["userErrors"][0]["code"] == "INVALID"


async def test_b5_same_key_same_input_returns_the_same_operation(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    await contacts(client, 2)
    first = await start(
        client, selection={"filter": {}}, status="NON_MARKETING", idempotencyKey="k-1"
    )
    second = await start(
        client, selection={"filter": {}}, status="NON_MARKETING", idempotencyKey="k-1"
    )
    assert second["bulkOperation"]["id"] == first["bulkOperation"]["id"]
    other = await start(
        client, selection={"filter": {}}, status="MARKETING", confirmCount=2, idempotencyKey="k-1"
    )
    assert other["userErrors"][0]["code"] == "CONFLICT"
    listed = await client.execute("{ bulkOperations { edges { node { id } } } }")
    assert len(listed["bulkOperations"]["edges"]) == 1


async def test_b5_a_retry_after_the_selection_grew_returns_the_same_operation(
    runtime: Runtime,
) -> None:
    """The answer to the first request was lost; the retry is not judged again by B3."""
    client = await open_client(runtime.services)
    await contacts(client, 2)
    request = {"selection": {"filter": {}}, "status": "MARKETING", "confirmCount": 2}
    first = await start(client, **request, idempotencyKey="k-2")
    await contacts(client, 1)
    retried = await start(client, **request, idempotencyKey="k-2")
    assert retried["userErrors"] == []
    assert retried["bulkOperation"]["id"] == first["bulkOperation"]["id"]


async def test_b5_concurrent_starts_sharing_a_key_get_one_operation_or_conflict(
    runtime: Runtime,
) -> None:
    """Twenty starts at once with one key: the transactions holding the key meet in the
    database (write conflicts, which are retried), and every start gets an answer: the same
    operation for the same input, CONFLICT for another one; never an unexpected error."""
    client = await open_client(runtime.services)
    await contacts(client, 3)
    same = {"selection": {"filter": {}}, "status": "NON_MARKETING", "idempotencyKey": "race-1"}
    answers = await asyncio.gather(*(start(client, **same) for _ in range(20)))
    assert [a["userErrors"] for a in answers] == [[]] * 20
    assert len({a["bulkOperation"]["id"] for a in answers}) == 1

    others = [
        {
            "selection": {"filter": {"emailDomain": f"d{n}.example.com"}},
            "status": "NON_MARKETING",
            "idempotencyKey": "race-2",
        }
        for n in range(20)
    ]
    answers = await asyncio.gather(*(start(client, **one) for one in others))
    started = [a for a in answers if a["userErrors"] == []]
    refused = [a["userErrors"] for a in answers if a["userErrors"] != []]
    assert len(started) == 1
    assert (
        refused
        == [
            [
                {
                    "code": "CONFLICT",
                    "field": ["input", "idempotencyKey"],
                    "message": (
                        "this idempotency key was used with another input in the last 24 hours"
                    ),
                }
            ]
        ]
        * 19
    )
    listed = await client.execute("{ bulkOperations { edges { node { id } } } }")
    assert len(listed["bulkOperations"]["edges"]) == 2


async def test_sweep_leaves_a_waiting_job_alone_and_replaces_a_lost_one(
    runtime: Runtime, test_clock: MovableClock
) -> None:
    client = await open_client(runtime.services)
    await contacts(client, 2)
    payload = await start(client, selection={"filter": {}}, status="NON_MARKETING")
    operation_id = payload["bulkOperation"]["id"]
    job_id = f"bulk:{client.caller.account_id}:0"  # the account's job, not the operation's
    assert await runtime.redis.zscore(default_queue_name, job_id) is not None
    test_clock.advance(minutes=5)  # no worker runs here: the job waits in Redis
    assert operation_id not in await runtime.services.bulk_runner.sweep()
    await runtime.redis.zrem(default_queue_name, job_id)  # Redis lost its data
    await runtime.redis.delete(job_key_prefix + job_id)
    assert operation_id in await runtime.services.bulk_runner.sweep()
    assert await runtime.redis.zscore(default_queue_name, job_id) is not None


async def test_b4_two_resolutions_at_once_leave_one_selection_applied_once(
    runtime: Runtime, test_clock: MovableClock
) -> None:
    """A worker that lost its lease while resolving, and its successor, resolve together: one
    resolution wins, the other's pages are dropped, every contact is applied once."""
    client = await open_client(runtime.services)
    await contacts(client, 5)
    payload = await start(client, selection={"filter": {}}, status="MARKETING", confirmCount=5)
    operation_id = payload["bulkOperation"]["id"]
    ports = runtime.services.ports
    now = test_clock.now()
    claimed = await ports.operations.claim(
        operation_id, "test-runner", now, now + timedelta(seconds=60)
    )
    assert claimed is not None
    resolved = await asyncio.gather(
        ports.bulk_pages.resolve(claimed, 2), ports.bulk_pages.resolve(claimed, 2)
    )
    assert resolved[0].resolution == resolved[1].resolution
    pages = runtime.mongo[BULK_PAGES]
    assert await pages.count_documents({"operation_id": operation_id}) == 3  # 2 + 2 + 1
    done = await run_to_end(runtime, client, operation_id)
    assert (done["status"], done["matched"], done["changedNow"]) == ("COMPLETED", 5, 5)
    assert await pages.count_documents({"operation_id": operation_id}) == 0
    history = runtime.mongo[STATUS_HISTORY]
    assert await history.count_documents({"source_id": operation_id}) == 5


async def test_b4_a_page_commits_only_under_the_run_that_holds_the_lease(
    runtime: Runtime, test_clock: MovableClock
) -> None:
    """A run that stalled past its lease and then commits the page it had decided writes
    nothing: the successor that claimed the operation applies every page, each once."""
    client = await open_client(runtime.services)
    await contacts(client, 5)
    payload = await start(client, selection={"filter": {}}, status="MARKETING", confirmCount=5)
    operation_id = payload["bulkOperation"]["id"]
    ports, runner = runtime.services.ports, runtime.services.bulk_runner
    now = test_clock.now()
    claimed = await ports.operations.claim(
        operation_id, "stalled", now, now + timedelta(seconds=60)
    )
    assert claimed is not None
    await ports.bulk_pages.resolve(claimed, 2)
    decided = await runner.next_page(PageRun(operation_id, "stalled"))
    assert decided is not None
    # the stalled run's lease runs out and a successor claims the operation
    test_clock.advance(seconds=61)
    later = test_clock.now()
    assert await ports.operations.claim(
        operation_id, "successor", later, later + timedelta(seconds=60)
    )
    with pytest.raises(StaleWrite):
        await ports.writer.commit(decided)
    assert (await ports.account(claimed.account_id)).counts == decided.account_before.counts
    assert await runtime.mongo[STATUS_HISTORY].count_documents({"source_id": operation_id}) == 0
    assert await runner.run(operation_id, "successor") is not None
    done = (await client.execute(OPERATION, id=operation_id))["bulkOperation"]
    assert (done["status"], done["processed"], done["changedNow"]) == ("COMPLETED", 5, 5)
    assert await runtime.mongo[STATUS_HISTORY].count_documents({"source_id": operation_id}) == 5


async def test_bad_selections_are_errors_and_queue_nothing(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    too_many = await start(
        client, selection={"ids": [f"{n:024x}" for n in range(10_001)]}, status="NON_MARKETING"
    )
    assert too_many["userErrors"][0]["code"] == "TOO_MANY"
    assert too_many["userErrors"][0]["field"] == ["input", "selection", "ids"]
    unknown_list = await start(
        client, selection={"listId": "000000000000000000000000"}, status="NON_MARKETING"
    )
    assert unknown_list["userErrors"][0]["code"] == "NOT_FOUND"
    two_fields = await client.try_execute(
        START, input={"selection": {"unengaged": True, "listId": "x"}, "status": "MARKETING"}
    )
    assert two_fields.errors is not None and two_fields.data is None
    no_ids = await start(client, selection={"ids": []}, status="NON_MARKETING")
    assert no_ids["userErrors"][0]["code"] == "INVALID"
    assert no_ids["userErrors"][0]["field"] == ["input", "selection", "ids"]
    nobody = {"filter": {"emailDomain": "nobody.example"}}
    empty = await start(client, selection=nobody, status="NON_MARKETING")
    done = await run_to_end(runtime, client, empty["bulkOperation"]["id"])
    assert (done["status"], done["matched"], done["progress"]) == ("COMPLETED", 0, 1.0)
    listed = await client.execute("{ bulkOperations { edges { node { id } } } }")
    assert len(listed["bulkOperations"]["edges"]) == 1


async def test_p5_a_sixth_active_operation_is_too_many_and_changes_nothing(
    runtime: Runtime,
) -> None:
    """At most five queued or running per account (MAX_ACTIVE_BACKGROUND_OPERATIONS): the
    sixth start is a userError TOO_MANY, queues nothing; once one ends, a start passes again."""
    client, other = await open_client(runtime.services), await open_client(runtime.services)
    await contacts(client, 2)
    everyone = {"selection": {"filter": {}}, "status": "NON_MARKETING"}
    started = [(await start(client, **everyone))["bulkOperation"]["id"] for _ in range(5)]
    count = "{ bulkOperations(first: 10) { totalCount } }"

    refused = await start(client, **everyone, idempotencyKey="sixth")
    assert refused["bulkOperation"] is None
    [error] = refused["userErrors"]
    assert (error["code"], error["field"]) == ("TOO_MANY", [])
    assert "5 background operations queued or running" in error["message"]
    assert (await client.execute(count))["bulkOperations"]["totalCount"] == 5
    # the key was not taken: the same start passes once an operation has ended
    assert (await start(other, **everyone))["userErrors"] == []
    await run_to_end(runtime, client, started[0])
    again = await start(client, **everyone, idempotencyKey="sixth")
    assert again["userErrors"] == [] and again["bulkOperation"]["status"] == "QUEUED"

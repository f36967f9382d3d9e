"""Concurrent writers on one account (T1, T2, T6, U4): the counters stay exact, BLOCK never
overshoots, upgrades form a chain, and an update date is applied once.

Writers race as asyncio tasks on the module's runtime and, for half of them, on a second runtime
(a second AsyncMongoClient with its own connection pool), so conflicts really reach the database.
SecantusDB is slow on some paths (design.md): the data stays small.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest_asyncio

from marketing_contacts.domain.tiers import UpgradePolicy
from marketing_contacts.domain.update_dates import update_instant
from marketing_contacts.runtime import Runtime, open_runtime
from marketing_contacts.services.update_dates import AppliedUpdateDate, UpdateDateService
from marketing_contacts.settings import Settings
from tests.support.clock import MovableClock
from tests.support.graphql import Client, open_client

SET_STATUS = """
mutation($ids: [ID!]!, $s: MarketingStatus!) {
  setMarketingStatus(input: {contactIds: $ids, status: $s}) {
    contacts { id marketingStatus marketingUntilNextUpdate }
    usage { marketingContacts pendingNonMarketing tierLimit }
    userErrors { code field message }
  }
}
"""

CREATE = """
mutation($e: String, $s: MarketingStatus) {
  createContact(input: {email: $e, marketingStatus: $s}) {
    contact { id marketingStatus }
    userErrors { code message }
  }
}
"""

DELETE = """
mutation($id: ID!) { deleteContact(id: $id) { deletedId userErrors { code message } } }
"""

USAGE = """
{ usage { marketingContacts pendingNonMarketing totalContacts tierLimit nextUpdateDate } }
"""

CONTACTS_PAGE = """
query($after: String) {
  contacts(first: 200, after: $after) {
    edges { node { id marketingStatus marketingUntilNextUpdate } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

TIER_CHANGES = """
{ account { tierLimit
    tierChanges(first: 100) {
      edges { node { fromLimit toLimit marketingContacts } }
      pageInfo { hasNextPage }
    } } }
"""

ALERTS = """
{ account { alerts(first: 100) { edges { node { kind threshold tierLimit } } } } }
"""

HISTORY = """
query($id: ID!) {
  contact(id: $id) {
    marketingStatus marketingUntilNextUpdate
    statusHistory(first: 50) { edges { node { sourceType fromStatus toStatus pending } } }
  }
}
"""


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def second_runtime(
    settings_for_tests: Settings, module_runtime: tuple[Runtime, MovableClock]
) -> AsyncIterator[Runtime]:
    """A second runtime over the same database: another MongoDB client, another pool.

    It shares the module runtime's clock, so `test_clock` moves both."""
    async with open_runtime(settings_for_tests, clock=module_runtime[1]) as runtime:
        yield runtime


def on(runtime: Runtime, client: Client) -> Client:
    """The same caller, served by another runtime."""
    return Client(runtime.services, client.caller)


#: CONFLICT means the service gave up retrying while other writers kept moving the account;
#: nothing was applied and its message says "retry", which is what a client does.
CLIENT_RETRIES = 5


async def settled(client: Client, query: str, root: str, **variables: Any) -> dict[str, Any]:
    """The mutation's payload, sent again (a few times at most) while it answers CONFLICT."""
    for _ in range(CLIENT_RETRIES):
        payload: dict[str, Any] = (await client.execute(query, **variables))[root]
        if [e["code"] for e in payload["userErrors"]] != ["CONFLICT"]:
            return payload
    raise AssertionError(f"{root} still in CONFLICT after {CLIENT_RETRIES} client retries")


async def create(client: Client, email: str, marketing: bool) -> str:
    status = "MARKETING" if marketing else "NON_MARKETING"
    payload = await settled(client, CREATE, "createContact", e=email, s=status)
    assert payload["userErrors"] == [], payload  # DUPLICATE here: a CONFLICT applied something
    contact_id: str = payload["contact"]["id"]
    return contact_id


async def seed(client: Client, prefix: str, *, marketing: int, non_marketing: int) -> list[str]:
    """Contacts created one by one: the marketing ones first."""
    ids = []
    for n in range(marketing + non_marketing):
        ids.append(await create(client, f"{prefix}{n}@example.com", n < marketing))
    return ids


@dataclass(frozen=True)
class Recount:
    marketing: int
    pending: int
    total: int
    states: dict[str, tuple[str, bool]]


async def recount(client: Client) -> Recount:
    """The counts computed from the contacts themselves, page by page."""
    states: dict[str, tuple[str, bool]] = {}
    after: str | None = None
    while True:
        page = (await client.execute(CONTACTS_PAGE, after=after))["contacts"]
        for edge in page["edges"]:
            node = edge["node"]
            states[node["id"]] = (node["marketingStatus"], node["marketingUntilNextUpdate"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    marketing = sum(1 for status, _ in states.values() if status == "MARKETING")
    pending = sum(1 for status, until in states.values() if status == "MARKETING" and until)
    assert not any(status == "NON_MARKETING" and until for status, until in states.values()), (
        "S1: NON_MARKETING with marketingUntilNextUpdate never exists"
    )
    return Recount(marketing, pending, len(states), states)


async def usage_of(client: Client) -> dict[str, Any]:
    usage: dict[str, Any] = (await client.execute(USAGE))["usage"]
    return usage


async def assert_counts_exact(runtime: Runtime, client: Client) -> Recount:
    """T1: reconciliation finds nothing to repair and `usage` equals our own recount."""
    reconciliation = await runtime.services.usage.reconcile(client.caller.account_id)
    assert not reconciliation.drifted, (reconciliation.stored, reconciliation.actual)
    counted = await recount(client)
    usage = await usage_of(client)
    assert (usage["marketingContacts"], usage["pendingNonMarketing"], usage["totalContacts"]) == (
        counted.marketing,
        counted.pending,
        counted.total,
    )
    return counted


# ---------------------------------------------------------------------------------------- T1


@dataclass
class Tally:
    """What the writers did, by outcome."""

    outcomes: Counter[str] = field(default_factory=Counter)

    def record(self, kind: str, errors: list[dict[str, Any]]) -> None:
        self.outcomes[kind if not errors else f"{kind}:{errors[0]['code']}"] += 1


#: 20 writers on two clients (two "processes"); ~30 s on SecantusDB on two cores, since every
#: write of the account serialises on its revision.
CHANGES = 2_000
WRITERS = 20
SEED_CONTACTS = 100


async def random_writer(
    client: Client, live: list[str], rng: random.Random, changes: int, tally: Tally, name: str
) -> None:
    """Random status changes on small id sets, and some creates and deletes.

    `live` is shared by every writer; a contact another writer has just deleted may still be
    picked, which is an ordinary NOT_FOUND (all or nothing)."""
    for n in range(changes):
        roll = rng.random()
        if roll < 0.08 or len(live) < 10:
            data = await client.execute(
                CREATE, e=f"{name}-{n}@example.com", s=rng.choice(["MARKETING", None])
            )
            payload = data["createContact"]
            tally.record("create", payload["userErrors"])
            if payload["contact"] is not None:
                live.append(payload["contact"]["id"])
        elif roll < 0.14:
            victim = rng.choice(live)
            payload = (await client.execute(DELETE, id=victim))["deleteContact"]
            tally.record("delete", payload["userErrors"])
            if payload["deletedId"] is not None and victim in live:
                live.remove(victim)
        else:
            ids = rng.sample(live, rng.randint(1, 5))
            status = rng.choice(["MARKETING", "NON_MARKETING"])
            payload = (await client.execute(SET_STATUS, ids=ids, s=status))["setMarketingStatus"]
            tally.record(f"set {status}", payload["userErrors"])


async def test_t1_counts_exact_after_concurrent_random_changes(
    runtime: Runtime, second_runtime: Runtime
) -> None:
    client = await open_client(runtime.services, name="T1", tier_limit=1_000)
    live = await seed(client, "t1-", marketing=SEED_CONTACTS // 2, non_marketing=SEED_CONTACTS // 2)
    tally = Tally()
    writers = [
        random_writer(
            client if n % 2 == 0 else on(second_runtime, client),
            live,
            random.Random(n),
            CHANGES // WRITERS,
            tally,
            f"w{n}",
        )
        for n in range(WRITERS)
    ]

    await asyncio.gather(*writers)

    assert sum(tally.outcomes.values()) == CHANGES
    # NOT_FOUND: a contact another writer deleted. CONFLICT: the call gave up after its retries
    # while other writers kept moving the account (documented, all or nothing, nothing applied).
    refused = {kind.split(":")[1] for kind in tally.outcomes if ":" in kind}
    assert refused <= {"NOT_FOUND", "CONFLICT"}, tally.outcomes
    counted = await assert_counts_exact(runtime, client)
    assert counted.total == len(set(live))
    assert counted.pending > 0 and counted.marketing > counted.pending, counted


# ---------------------------------------------------------------------------------------- T6


async def test_t6_block_never_overshoots_under_concurrent_writers(
    runtime: Runtime, second_runtime: Runtime
) -> None:
    client = await open_client(
        runtime.services, name="T6", tier_limit=50, upgrade_policy=UpgradePolicy.BLOCK
    )
    marketing = 46
    ids = await seed(client, "t6-", marketing=marketing, non_marketing=80 - marketing)
    candidates = ids[marketing:]
    # 20 writers of one contact and 6 of two: every writer wants different contacts
    batches = [candidates[n : n + 1] for n in range(20)]
    batches += [candidates[n : n + 2] for n in range(20, 32, 2)]

    async def writer(n: int, batch: list[str]) -> tuple[list[str], list[dict[str, Any]]]:
        who = client if n % 2 == 0 else on(second_runtime, client)
        payload = await settled(who, SET_STATUS, "setMarketingStatus", ids=batch, s="MARKETING")
        errors: list[dict[str, Any]] = payload["userErrors"]
        if not errors:
            assert [c["marketingStatus"] for c in payload["contacts"]] == ["MARKETING"] * len(batch)
            assert payload["usage"]["marketingContacts"] <= 50
        else:
            assert payload["contacts"] == [] and payload["usage"] is None
        return batch, errors

    results = await asyncio.gather(*(writer(n, batch) for n, batch in enumerate(batches)))

    succeeded = [cid for batch, errors in results if not errors for cid in batch]
    refused = [(batch, errors) for batch, errors in results if errors]
    assert refused, "the tier has room for 4 of 32 contacts: most writers must be refused"
    for _, errors in refused:
        assert [e["code"] for e in errors] == ["TIER_LIMIT_REACHED"], errors
    counted = await assert_counts_exact(runtime, client)
    # counts only grow here, so a refused single-contact writer means the tier was full
    assert counted.marketing == 50
    assert counted.marketing == marketing + len(succeeded)
    marketing_now = {cid for cid, (status, _) in counted.states.items() if status == "MARKETING"}
    assert marketing_now == set(ids[:marketing]) | set(succeeded)
    usage = await usage_of(client)
    assert usage["tierLimit"] == 50
    alerts = (await client.execute(ALERTS))["account"]["alerts"]["edges"]
    blocked = [a for a in alerts if a["node"]["kind"] == "UPGRADE_BLOCKED"]
    assert len(blocked) == 1, alerts  # A2: once per period, however many writers were refused


# ---------------------------------------------------------------------------------------- T2


async def test_t2_concurrent_upgrades_record_consistent_tier_changes(
    runtime: Runtime, second_runtime: Runtime
) -> None:
    first_limit, step = 10, 5
    client = await open_client(runtime.services, name="T2", tier_limit=first_limit, tier_step=step)
    await seed(client, "t2-seed-", marketing=5, non_marketing=0)
    creators, each = 16, 4

    async def creator(n: int) -> None:
        who = client if n % 2 == 0 else on(second_runtime, client)
        for k in range(each):
            await create(who, f"t2-{n}-{k}@example.com", marketing=True)

    await asyncio.gather(*(creator(n) for n in range(creators)))

    counted = await assert_counts_exact(runtime, client)
    assert counted.marketing == 5 + creators * each
    account = (await client.execute(TIER_CHANGES))["account"]
    expected_limit = first_limit + -(-(counted.marketing - first_limit) // step) * step
    assert account["tierLimit"] == expected_limit == 70
    assert not account["tierChanges"]["pageInfo"]["hasNextPage"]
    changes = [edge["node"] for edge in reversed(account["tierChanges"]["edges"])]  # oldest first
    assert changes, "the tier was exceeded: at least one upgrade"
    assert changes[0]["fromLimit"] == first_limit
    assert changes[-1]["toLimit"] == expected_limit
    for previous, change in itertools.pairwise(changes):
        assert change["fromLimit"] == previous["toLimit"], changes
    for change in changes:
        assert change["toLimit"] > change["fromLimit"], changes  # T3: never a downgrade
        assert change["marketingContacts"] > change["fromLimit"], changes
        smallest = first_limit + -(-(change["marketingContacts"] - first_limit) // step) * step
        assert change["toLimit"] == smallest, changes


# ---------------------------------------------------------------------------------------- U4


async def test_u4_update_date_applied_once_by_two_concurrent_runs(
    runtime: Runtime, second_runtime: Runtime, test_clock: MovableClock
) -> None:
    client = await open_client(runtime.services, name="U4")
    ids = await seed(client, "u4-", marketing=30, non_marketing=5)
    pending, staying = ids[:20], ids[20:30]
    payload = (await client.execute(SET_STATUS, ids=pending, s="NON_MARKETING"))[
        "setMarketingStatus"
    ]
    assert payload["userErrors"] == []
    assert payload["usage"]["pendingNonMarketing"] == 20
    before = await usage_of(client)
    update_date = date.fromisoformat(before["nextUpdateDate"])
    as_of = update_instant(update_date, "UTC") + timedelta(minutes=1)
    test_clock.set(as_of)  # both runtimes read this clock
    account_id = client.caller.account_id
    # small chunks, so that the two runs interleave chunk by chunk
    runs = [
        UpdateDateService(runtime.services.ports, chunk=3),
        UpdateDateService(second_runtime.services.ports, chunk=3),
    ]

    results: list[list[AppliedUpdateDate]] = await asyncio.gather(
        *(run.apply_due(as_of, account_id) for run in runs)
    )

    applied = [one for result in results for one in result]
    assert {one.update_date for one in applied} == {update_date}, applied
    assert [one.applied_here for one in applied].count(True) == 1, applied
    assert sum(one.contacts_changed for one in applied) == len(pending), applied
    for contact_id in pending:
        contact = (await client.execute(HISTORY, id=contact_id))["contact"]
        assert (contact["marketingStatus"], contact["marketingUntilNextUpdate"]) == (
            "NON_MARKETING",
            False,
        )
        entries = [edge["node"] for edge in contact["statusHistory"]["edges"]]
        by_update_date = [e for e in entries if e["sourceType"] == "UPDATE_DATE"]
        assert by_update_date == [
            {
                "sourceType": "UPDATE_DATE",
                "fromStatus": "MARKETING",
                "toStatus": "NON_MARKETING",
                "pending": False,
            }
        ], entries
    counted = await assert_counts_exact(runtime, client)
    assert (counted.marketing, counted.pending, counted.total) == (len(staying), 0, len(ids))
    account = await runtime.services.accounts.get(client.caller)
    after = await usage_of(client)
    assert date.fromisoformat(after["nextUpdateDate"]) == account.schedule.next_after(update_date)
    assert account.next_update_date > update_date

    again = await runtime.services.update_dates.apply_due(as_of, account_id)
    assert again == []  # a third run finds nothing due

"""The locust users of bench/load.py (a locustfile: locust imports it, in its own process).

The plan, a JSON file named by BENCH_LOAD_PLAN, gives the API processes' base URLs and the
accounts (token, seeded contact ids). Each user works on one account (round-robin over the
accounts as users start) and sends each request to the next API process in turn, so requests
spread evenly over all of them. A request fails when its HTTP status is not 200, when it has
GraphQL errors, or when its mutation answers userErrors: every operation here is one the service
must accept.

Two mixes, one user class each: ReadMostly (80% reads: usage, a contacts page, a contact with
its status history, the account with its alerts; 20% writes) and WriteHeavy (createContact,
setMarketingStatus on 1-10 contacts, updateContact, a small startBulkStatusChange).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from locust import TaskSet, between
from locust.contrib.fasthttp import FastHttpUser

USAGE = "query { usage { marketingContacts pendingNonMarketing totalContacts tierLimit percentOfTier bannerVisible } }"  # noqa: E501
CONTACTS = "query { contacts(first: 50) { totalCount edges { node { id email marketingStatus marketingUntilNextUpdate } } pageInfo { hasNextPage endCursor } } }"  # noqa: E501
CONTACT = "query($id: ID!) { contact(id: $id) { id email marketingStatus statusChangedAt statusHistory(first: 20) { totalCount edges { node { at fromStatus toStatus pending sourceType } } } } }"  # noqa: E501
ACCOUNT = "query { account { id name tierLimit nextUpdateDate alertThresholds usage { marketingContacts } alerts(first: 10) { totalCount edges { node { id kind threshold at } } } tierChanges(first: 5) { edges { node { fromLimit toLimit at } } } } }"  # noqa: E501
CREATE = "mutation($input: CreateContactInput!) { createContact(input: $input) { contact { id } userErrors { code message } } }"  # noqa: E501
SET_STATUS = "mutation($ids: [ID!]!, $status: MarketingStatus!) { setMarketingStatus(input: {contactIds: $ids, status: $status}) { usage { marketingContacts } userErrors { code message } } }"  # noqa: E501
UPDATE = "mutation($id: ID!, $input: UpdateContactInput!) { updateContact(id: $id, input: $input) { contact { id } userErrors { code message } } }"  # noqa: E501
START_BULK = "mutation($input: BulkStatusChangeInput!) { startBulkStatusChange(input: $input) { bulkOperation { id } userErrors { code message } } }"  # noqa: E501
STATUSES = ("MARKETING", "NON_MARKETING")


@dataclass
class PlannedAccount:
    token: str
    #: seeded contacts, and those this process's users created since
    contact_ids: list[str]


def _read_plan() -> tuple[list[str], list[PlannedAccount]]:
    plan = json.loads(Path(os.environ["BENCH_LOAD_PLAN"]).read_text())
    accounts = [PlannedAccount(a["token"], list(a["contact_ids"])) for a in plan["accounts"]]
    return list(plan["apis"]), accounts


APIS, ACCOUNTS = _read_plan()
_NEXT_ACCOUNT = itertools.count()


class GraphQLUser(FastHttpUser):
    """A user of one account, its requests over every API process in turn."""

    abstract = True
    host = APIS[0]
    wait_time = between(0.2, 0.8)

    def on_start(self) -> None:
        number = next(_NEXT_ACCOUNT)
        self.account = ACCOUNTS[number % len(ACCOUNTS)]
        self.requests = itertools.count(number)

    def graphql(self, name: str, query: str, **variables: Any) -> dict[str, Any] | None:
        """The data of the request, recorded under `name`; None (recorded as a failure) when
        it failed."""
        api = APIS[next(self.requests) % len(APIS)]
        with self.client.post(
            f"{api}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.account.token}"},
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {(response.text or '')[:200]}")
                return None
            body = response.json()
            problem = _problem(body)
            if problem is not None:
                response.failure(problem)
                return None
            response.success()
            data: dict[str, Any] = body["data"]
            return data

    def some_contacts(self, most: int) -> list[str]:
        pool = self.account.contact_ids
        return random.sample(pool, random.randint(1, min(most, len(pool))))

    # ------------------------------------------------------------ reads

    def usage(self) -> None:
        self.graphql("usage", USAGE)

    def contacts_page(self) -> None:
        self.graphql("contacts page", CONTACTS)

    def contact_with_history(self) -> None:
        self.graphql("contact + statusHistory", CONTACT, id=random.choice(self.account.contact_ids))

    def account_read(self) -> None:
        self.graphql("account", ACCOUNT)

    # ------------------------------------------------------------ writes

    def create_contact(self) -> None:
        status = "MARKETING" if random.random() < 0.6 else "NON_MARKETING"
        draft = {"email": f"load-{uuid.uuid4().hex}@example.com", "marketingStatus": status}
        data = self.graphql("createContact", CREATE, input=draft)
        if data is not None and data["createContact"]["contact"] is not None:
            self.account.contact_ids.append(data["createContact"]["contact"]["id"])

    def set_marketing_status(self) -> None:
        ids = self.some_contacts(10)
        self.graphql("setMarketingStatus", SET_STATUS, ids=ids, status=random.choice(STATUSES))

    def update_contact(self) -> None:
        changes = {"firstName": f"Name {random.randint(1, 10_000)}", "jobTitle": "Buyer"}
        contact = random.choice(self.account.contact_ids)
        self.graphql("updateContact", UPDATE, id=contact, input=changes)

    def start_bulk_change(self) -> None:
        ids = self.some_contacts(20)
        status = random.choice(STATUSES)
        change: dict[str, Any] = {"selection": {"ids": ids}, "status": status}
        if status == "MARKETING":
            change["confirmCount"] = len(ids)
        self.graphql("startBulkStatusChange", START_BULK, input=change)


def _problem(body: dict[str, Any]) -> str | None:
    """What went wrong in a GraphQL answer: its errors, or a mutation's userErrors."""
    if body.get("errors"):
        return f"errors: {json.dumps(body['errors'])[:200]}"
    for payload in (body.get("data") or {}).values():
        if isinstance(payload, dict) and payload.get("userErrors"):
            return f"userErrors: {json.dumps(payload['userErrors'])[:200]}"
    return None


Task = Callable[[GraphQLUser], None]


def weighted(weights: dict[Task, int]) -> list[TaskSet | Callable[..., Any]]:
    """Locust's task list: each task as many times as its weight (a list, as locust types it)."""
    return [task for task, weight in weights.items() for _ in range(weight)]


class ReadMostly(GraphQLUser):
    """80% reads, 20% writes."""

    tasks = weighted(
        {
            GraphQLUser.usage: 20,
            GraphQLUser.contacts_page: 20,
            GraphQLUser.contact_with_history: 20,
            GraphQLUser.account_read: 20,
            GraphQLUser.create_contact: 7,
            GraphQLUser.set_marketing_status: 6,
            GraphQLUser.update_contact: 6,
            GraphQLUser.start_bulk_change: 1,
        }
    )


class WriteHeavy(GraphQLUser):
    """Writes only: contacts created, their statuses set, edited, and small bulk changes."""

    tasks = weighted(
        {
            GraphQLUser.create_contact: 30,
            GraphQLUser.set_marketing_status: 35,
            GraphQLUser.update_contact: 30,
            GraphQLUser.start_bulk_change: 5,
        }
    )

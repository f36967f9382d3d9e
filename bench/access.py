"""The cost of access (P1-P4): what visibility and audit add to a request, measured in one run.

Starts its own SecantusDB and Redis on free ports and opens the services over them with a
PyMongo CommandListener. One account holds 1,000 contacts, 100 owned by each of 10 users:
the ADMIN (visibility ALL), a TEAM user in a team of three, and an OWNED user. It measures:

- a page of 100 contacts with its totalCount, as one request does it (the token checked, then
  the query run through the schema), as each of the three: database commands per request,
  their names, the median time, and the ratio to the ALL user's (the figures the service had
  before visibility: an ALL user's reads take no condition from it);
- `setMarketingStatus` of 1 and of 100 contacts with its audit entry, and the same service
  with the entry switched off (what it wrote before P4): commands per call and the ratio.

Database commands per operation do not depend on the machine; the times are medians of
REPETITIONS calls after WARM_UP. Run from the repository root: `.venv/bin/python
bench/access.py`.
"""

from __future__ import annotations

import sys
from dataclasses import fields
from functools import partial
from typing import Any

from harness.figures import print_table
from harness.servers import run_on_servers
from marketing_contacts.domain.audit import Actor, AuditEntry
from marketing_contacts.domain.statuses import MarketingStatus
from marketing_contacts.domain.users import RecordVisibility, Role, User
from marketing_contacts.runtime import SCHEMA, open_runtime
from marketing_contacts.schema.context import RequestContext
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.services.registry import Services
from marketing_contacts.services.users import UserDraft
from marketing_contacts.services.wiring import Ports
from marketing_contacts.settings import Settings
from status_changes import CommandCounter, Measured

USERS = 10
OWNED_EACH = 100
REPETITIONS = 30
WARM_UP = 3
PAGE = """{ contacts(first: 100) { totalCount
  edges { node { id email marketingStatus ownerId } } } }"""


class WithoutAudit(Ports):
    """The ports as they were before P4: no write names an audit entry."""

    def audit_entry(  # type: ignore[override]
        self, account_id: str, actor: Actor, action: str, record_ids: Any
    ) -> AuditEntry | None:
        return None


async def seed(services: Services) -> tuple[dict[str, str], list[list[str]], Caller]:
    """The account; each visibility's token secret; the contact ids each user owns."""
    account = await services.accounts.open(AccountOpening(name="Access"))
    admin = await services.users.first_admin(account.id)
    admin_caller = await caller_of(services, admin)
    team = await services.users.create_team(admin_caller, "East")
    users = [admin]
    for n in range(1, USERS):
        visibility = {1: RecordVisibility.TEAM, 2: RecordVisibility.OWNED}.get(
            n, RecordVisibility.ALL
        )
        draft = UserDraft(
            name=f"user {n}",
            email=f"user-{n}@bench.io",
            role=Role.MEMBER,
            team_id=team.id if n in (1, 2, 3) else None,
            visibility=visibility,
        )
        users.append(await services.users.create(admin_caller, draft))
    owned: list[list[str]] = []
    for user in users:
        mine = []
        for n in range(OWNED_EACH):
            contact = ContactDraft(email=f"{user.id}-{n}@bench.io", owner_id=user.id)
            mine.append((await services.contacts.create(admin_caller, contact)).id)
        owned.append(mine)
    secrets = {}
    for name, user in (("ALL", users[0]), ("TEAM", users[1]), ("OWNED", users[2])):
        _, secrets[name] = await services.tokens.issue(user, f"bench {name}")
    return secrets, owned, admin_caller


async def caller_of(services: Services, user: User) -> Caller:
    _, secret = await services.tokens.issue(user, "bench")
    caller = await services.tokens.authenticate(secret)
    assert caller is not None
    return caller


async def page_request(services: Services, secret: str) -> None:
    """What the API does for one request: the token checked, then the page read."""
    caller = await services.tokens.authenticate(secret)
    assert caller is not None
    result = await SCHEMA.execute(
        PAGE, context_value=RequestContext(services=services, authenticated=caller)
    )
    assert result.errors is None, result.errors


async def repeated(counter: CommandCounter, call: Any, targets: int = 1) -> Measured:
    measured = Measured()
    for n in range(WARM_UP + REPETITIONS):
        result = await counter.measure(partial(call, n) if targets > 1 else call)
        if n >= WARM_UP:
            measured.add(*result)
    return measured


async def run(mongo_uri: str, redis_url: str) -> None:
    counter = CommandCounter()
    settings = Settings(mongodb_uri=mongo_uri, mongodb_database="bench_access", redis_url=redis_url)
    async with open_runtime(settings, event_listeners=[counter]) as runtime:
        services = runtime.services
        print(f"seeding {USERS * OWNED_EACH:,} contacts of {USERS} users ...", flush=True)
        secrets, owned, admin = await seed(services)
        pages = {
            name: await repeated(counter, partial(page_request, services, secret))
            for name, secret in secrets.items()
        }
        ports = services.ports
        unaudited = Services.over(
            WithoutAudit(**{f.name: getattr(ports, f.name) for f in fields(ports)})
        )
        writes = []
        for size in (1, 100):
            for label, over in (("with audit", services), ("without audit", unaudited)):
                batch = owned[5 + (size > 1) * 2 + (label != "with audit")][:size]

                async def flip(n: int, over: Services = over, batch: list[str] = batch) -> None:
                    target = (
                        MarketingStatus.MARKETING if n % 2 == 0 else MarketingStatus.NON_MARKETING
                    )
                    await over.statuses.set_marketing_status(admin, batch, target)

                writes.append((size, label, await repeated(counter, flip, targets=2)))
    print_figures(pages, writes)


def print_figures(pages: dict[str, Measured], writes: list[tuple[int, str, Measured]]) -> None:
    base = pages["ALL"]
    base_commands, _ = base.commands_per_call()
    rows = []
    for name, measured in pages.items():
        commands, breakdown = measured.commands_per_call()
        rows.append(
            [
                name,
                f"{commands:.1f}",
                f"{commands / base_commands:.2f}",
                f"{measured.median_ms:.1f}",
                f"{measured.median_ms / base.median_ms:.2f}",
                breakdown,
            ]
        )
    print_table(
        f"a page of 100 contacts and its totalCount, one request (token check + query), "
        f"{REPETITIONS} requests each; ALL is the figure before visibility",
        ["visibility", "cmds/request", "x ALL", "median ms", "x ALL", "commands"],
        rows,
    )
    rows = []
    by_size = {(size, label): measured for size, label, measured in writes}
    for size, label, measured in writes:
        commands, breakdown = measured.commands_per_call()
        before = by_size[(size, "without audit")]
        before_commands, _ = before.commands_per_call()
        rows.append(
            [
                f"{size} contact{'s' if size > 1 else ''}, {label}",
                f"{commands:.1f}",
                f"{commands / before_commands:.2f}",
                f"{measured.median_ms:.1f}",
                f"{measured.median_ms / before.median_ms:.2f}",
                breakdown,
            ]
        )
    print_table(
        f"setMarketingStatus, {REPETITIONS} calls each, alternating MARKETING / NON_MARKETING; "
        "'without audit' is the service as it wrote before P4",
        ["call", "cmds/call", "x before", "median ms", "x before", "commands"],
        rows,
    )


def main() -> int:
    return run_on_servers("bench-access-", run)


if __name__ == "__main__":
    sys.exit(main())

"""The cost of the CRM records (C2, C5, C6, C10, C11): database commands per request, flat in
the number of records, measured in one run.

Starts its own SecantusDB and Redis on free ports and opens the services over them with a
PyMongo CommandListener. Two accounts are seeded through the services, one with SMALL and one
with LARGE contacts and as many companies and deals; each contact works for two companies (the
first one, its primary, is shared by every contact of the account) and is associated with two
deals (the first one shared by every contact); the first contact has as many engagements. Each
request runs through the schema as the API runs it (the token checked, then the document
executed):

- createCompany; associate (a contact with one more company);
- createDeal (of a contact and a company); associate (a contact with one more deal);
- a stage change of the shared deal, which moves every contact of the account (C5);
- a page of 100 contacts with their primary company, their companies and their deals;
- logEngagement on the contact with SMALL or LARGE engagements; a page of 100 contacts with
  their newest engagements (the first one's among them);
- a page of 100 of a company's contacts (the shared one: every contact of the account);
- a search of contacts and of companies by a prefix;
- mergeContacts of two contacts, each with its companies and deals (run last: it deletes).

It prints commands per request on each account, the ratio LARGE / SMALL (1.00 is flat) and
median times. Database commands do not depend on the machine; SecantusDB's times grow with the
collection in ways MongoDB's do not. Run from the repository root: `.venv/bin/python
bench/records.py`.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from access import caller_of, repeated
from harness.figures import print_table
from harness.servers import run_on_servers
from marketing_contacts.domain.associations import Association, RecordType
from marketing_contacts.domain.deals import DealStage
from marketing_contacts.domain.engagements import EngagementType
from marketing_contacts.runtime import SCHEMA, open_runtime
from marketing_contacts.schema.context import RequestContext
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.companies import CompanyDraft
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.services.deals import DealDraft
from marketing_contacts.services.engagements import EngagementDraft
from marketing_contacts.services.registry import Services
from marketing_contacts.settings import Settings
from status_changes import CommandCounter, Measured

SMALL, LARGE = 100, 1_000
#: when the seeded engagements happened
AT = datetime(2026, 1, 1, 9, tzinfo=UTC)

CREATE_COMPANY = """mutation($n: String!) { createCompany(input: {name: $n}) {
  company { id } userErrors { code } } }"""
ASSOCIATE = """mutation($contact: ID!, $company: ID!) { associate(input: {fromType: CONTACT,
  fromId: $contact, toType: COMPANY, toId: $company}) { userErrors { code } } }"""
CONTACTS_WITH_COMPANIES = """{ contacts(first: 100) { edges { node { id
  primaryCompany { name } companies(first: 20) { totalCount edges { node { id name } } }
  deals(first: 20) { totalCount edges { node { id name stage } } } } } } }"""
CREATE_DEAL = """mutation($contact: ID!, $company: ID!) { createDeal(input: {name: "Spare",
  stage: CONTRACT_SENT, contactIds: [$contact], companyIds: [$company]}) {
  deal { id } userErrors { code } } }"""
ASSOCIATE_DEAL = """mutation($contact: ID!, $deal: ID!) { associate(input: {fromType: DEAL,
  fromId: $deal, toType: CONTACT, toId: $contact}) { userErrors { code } } }"""
LOG = """mutation($contact: ID!) { logEngagement(input: {type: CALL, occurredAt:
  "2026-01-02T09:00:00Z", contactIds: [$contact]}) { engagement { id } userErrors { code } } }"""
CONTACTS_WITH_ENGAGEMENTS = """{ contacts(first: 100) { edges { node { id lastActivityAt
  engagements(first: 5) { edges { node { id type } } } } } } }"""
MERGE = """mutation($primary: ID!, $secondary: ID!) { mergeContacts(input: {primaryId: $primary,
  secondaryId: $secondary}) { contact { id mergedIds } userErrors { code } } }"""
MOVE_DEAL = """mutation($deal: ID!, $stage: DealStage!) { updateDeal(id: $deal,
  input: {stage: $stage}) { deal { id } userErrors { code } } }"""
COMPANY_CONTACTS = """query($company: ID!) { company(id: $company) {
  contacts(first: 100) { totalCount edges { node { id email } } } } }"""
SEARCH_CONTACTS = """{ contacts(filter: {search: "person-1"}, first: 100) {
  totalCount edges { node { id email } } } }"""
SEARCH_COMPANIES = """{ companies(filter: {search: "company 1"}, first: 100) {
  totalCount edges { node { id name } } } }"""


@dataclass
class Seeded:
    services: Services
    secret: str
    contacts: list[str]
    companies: list[str]
    deals: list[str]
    #: companies made by the measured createCompany calls, to associate with
    spare: list[str]
    #: deals made by the measured createDeal calls, to associate with
    spare_deals: list[str]


async def seed(services: Services, size: int) -> Seeded:
    account = await services.accounts.open(AccountOpening(name=f"Records {size}"))
    admin = await caller_of(services, await services.users.first_admin(account.id))
    contacts = [
        (await services.contacts.create(admin, ContactDraft(email=f"person-{n}@bench.io"))).id
        for n in range(size)
    ]
    companies = [
        (await services.companies.create(admin, CompanyDraft(name=f"Company {n}"))).id
        for n in range(size)
    ]
    deals = [
        (await services.deals.create(admin, DealDraft(f"Deal {n}", DealStage.CONTRACT_SENT))).id
        for n in range(size)
    ]
    for n, contact in enumerate(contacts):
        for company in (companies[0], companies[(n + 1) % size]):
            pair = Association(RecordType.CONTACT, contact, RecordType.COMPANY, company)
            await services.associations.associate(admin, pair)
        for deal in (deals[0], deals[(n + 1) % size]):
            pair = Association(RecordType.CONTACT, contact, RecordType.DEAL, deal)
            await services.associations.associate(admin, pair)
    for _ in range(size):  # C6: the first contact's engagements
        draft = EngagementDraft(EngagementType.NOTE, AT, contact_ids=[contacts[0]])
        await services.engagements.log(admin, draft)
    _, secret = await services.tokens.issue(await services.users.first_admin(account.id), "bench")
    return Seeded(services, secret, contacts, companies, deals, [], [])


async def request(seeded: Seeded, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    """What the API does for one request: the token checked, then the document run."""
    caller = await seeded.services.tokens.authenticate(seeded.secret)
    assert caller is not None
    context = RequestContext(services=seeded.services, authenticated=caller)
    result = await SCHEMA.execute(document, variable_values=variables, context_value=context)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


def requests(seeded: Seeded) -> dict[str, Callable[[int], Awaitable[object]]]:
    async def create(n: int) -> None:
        made = await request(seeded, CREATE_COMPANY, {"n": f"Spare {n}"})
        seeded.spare.append(made["createCompany"]["company"]["id"])

    async def associate(n: int) -> None:
        pair = {"contact": seeded.contacts[n], "company": seeded.spare[n]}
        assert (await request(seeded, ASSOCIATE, pair))["associate"]["userErrors"] == []

    async def create_deal(n: int) -> None:
        named = {"contact": seeded.contacts[n], "company": seeded.companies[n]}
        made = await request(seeded, CREATE_DEAL, named)
        seeded.spare_deals.append(made["createDeal"]["deal"]["id"])

    async def associate_deal(n: int) -> None:
        pair = {"contact": seeded.contacts[-1 - n], "deal": seeded.spare_deals[n]}
        assert (await request(seeded, ASSOCIATE_DEAL, pair))["associate"]["userErrors"] == []

    async def move_deal(n: int) -> None:
        stage = "CLOSED_WON" if n % 2 else "DECISION_MAKER_BOUGHT_IN"
        moved = await request(seeded, MOVE_DEAL, {"deal": seeded.deals[0], "stage": stage})
        assert moved["updateDeal"]["userErrors"] == []

    async def log(_: int) -> None:
        logged = await request(seeded, LOG, {"contact": seeded.contacts[0]})
        assert logged["logEngagement"]["userErrors"] == []

    async def merge(n: int) -> None:
        pair = {"primary": seeded.contacts[-2 - 2 * n], "secondary": seeded.contacts[-3 - 2 * n]}
        assert (await request(seeded, MERGE, pair))["mergeContacts"]["userErrors"] == []

    def read(document: str, **variables: Any) -> Callable[[int], Awaitable[object]]:
        return lambda _: request(seeded, document, variables)

    return {
        "createCompany": create,
        "associate": associate,
        "createDeal": create_deal,
        "associate a deal": associate_deal,
        "stage of a deal of every contact": move_deal,
        "100 contacts with companies and deals": read(CONTACTS_WITH_COMPANIES),
        "100 contacts of a company": read(COMPANY_CONTACTS, company=seeded.companies[0]),
        "search contacts by prefix": read(SEARCH_CONTACTS),
        "search companies by prefix": read(SEARCH_COMPANIES),
        "logEngagement, a record of many": log,
        "100 contacts with engagements": read(CONTACTS_WITH_ENGAGEMENTS),
        "mergeContacts": merge,
    }


async def run(mongo_uri: str, redis_url: str) -> None:
    counter = CommandCounter()
    settings = Settings(
        mongodb_uri=mongo_uri, mongodb_database="bench_records", redis_url=redis_url
    )
    measured: dict[int, dict[str, Measured]] = {}
    async with open_runtime(settings, event_listeners=[counter]) as runtime:
        for size in (SMALL, LARGE):
            print(
                f"seeding {size:,} contacts, {size:,} companies, {size:,} deals, "
                f"{4 * size:,} associations",
                flush=True,
            )
            seeded = await seed(runtime.services, size)
            measured[size] = {
                name: await repeated(counter, partial(call), targets=2)
                for name, call in requests(seeded).items()
            }
    rows = []
    for name, small in measured[SMALL].items():
        large = measured[LARGE][name]
        small_commands, breakdown = small.commands_per_call()
        large_commands, _ = large.commands_per_call()
        rows.append(
            [
                name,
                f"{small_commands:.1f}",
                f"{large_commands:.1f}",
                f"{large_commands / small_commands:.2f}",
                f"{small.median_ms:.1f}",
                f"{large.median_ms:.1f}",
                breakdown,
            ]
        )
    print_table(
        f"database commands per request on accounts of {SMALL:,} and {LARGE:,} records "
        "(token check + the document through the schema)",
        [
            "request",
            f"cmds {SMALL:,}",
            f"cmds {LARGE:,}",
            "x (flat: 1.00)",
            f"median ms {SMALL:,}",
            f"median ms {LARGE:,}",
            "commands",
        ],
        rows,
    )


def main() -> int:
    return run_on_servers("bench-records-", run)


if __name__ == "__main__":
    sys.exit(main())

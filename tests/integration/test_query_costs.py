"""Design principle 7: a request costs the same database commands whatever the size of the data
it reads or writes (no N+1): each main read and write, on an account with 5 contacts, list
members, history entries, companies and a company's contacts, and on one with 50."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from marketing_contacts.runtime import open_runtime
from marketing_contacts.settings import Settings
from tests.support.commands import Commands
from tests.support.graphql import Client, open_client

SMALL, LARGE = 5, 50
#: far above both accounts: no tier change or alert makes one request write more than another
TIER_LIMIT = 10_000

CREATE = """mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { id } userErrors { code } } }"""
SET_STATUS = """mutation($ids: [ID!]!, $status: MarketingStatus!) {
  setMarketingStatus(input: {contactIds: $ids, status: $status}) {
    contacts { id marketingStatus } userErrors { code } } }"""
CREATE_LIST = """mutation($name: String!, $ids: [ID!]!) {
  createList(name: $name, contactIds: $ids) { list { id } userErrors { code } } }"""
HISTORY = (
    "statusHistory(first: 200) { totalCount edges { node { fromStatus toStatus sourceType } } }"
)
USAGE = "usage { marketingContacts pendingNonMarketing nonMarketingContacts totalContacts }"

#: each request, and the variables it takes from the account's data
REQUESTS: dict[str, str] = {
    "contacts page": f"""query {{ contacts(first: 200) {{ totalCount
        edges {{ node {{ id email {HISTORY} }} }} pageInfo {{ hasNextPage }} }} }}""",
    "contact with statusHistory": f"""query($subject: ID!) {{
        contact(id: $subject) {{ {HISTORY} }} }}""",
    "usage": f"{{ {USAGE} }}",
    "account": f"""{{ account {{ name tierLimit nextUpdateDate {USAGE}
        tierChanges {{ edges {{ node {{ toLimit }} }} }}
        alerts {{ edges {{ node {{ kind }} }} }} }} }}""",
    "createContact": """mutation { createContact(input: {marketingStatus: MARKETING}) {
        contact { id } userErrors { code } } }""",
    "updateContact": """mutation($subject: ID!) { updateContact(id: $subject,
        input: {jobTitle: "Buyer", emailHardBounced: true}) {
        contact { id jobTitle } userErrors { code } } }""",
    "setMarketingStatus": """mutation($contacts: [ID!]!) { setMarketingStatus(input:
        {contactIds: $contacts, status: NON_MARKETING}) {
        contacts { id } userErrors { code } } }""",
    "previewStatusChange": """query($list: ID!) { previewStatusChange(
        selection: {listId: $list}, status: MARKETING) { matched changeNow becomePending } }""",
    "audience of a list": """query($list: ID!) { audience(channel: MARKETING_EMAIL,
        selection: {listId: $list}) { matched reachable excludedNonMarketing excludedUnengaged
        excludedNoEmail contacts(first: 200) { totalCount edges { node { id email } } } } }""",
    "audience of a filter": """{ audience(channel: SALES_EMAIL, selection: {filter: {}}) {
        matched reachable excludedNoEmail contacts(first: 200) { edges { node { id } } } } }""",
    "startBulkStatusChange": """mutation($list: ID!) { startBulkStatusChange(input:
        {selection: {listId: $list}, status: NON_MARKETING}) {
        bulkOperation { id status } userErrors { code } } }""",
    "lists page": """{ lists(first: 200) { edges { node { id name size } }
        pageInfo { hasNextPage } } }""",
    "contacts page with companies": """{ contacts(first: 200) { edges { node { id
        primaryCompany { name } companies(first: 200) { totalCount edges { node { id name } } }
        } } } }""",
    "companies page": """{ companies(first: 200) { totalCount
        edges { node { id name domain owner { id } } } } }""",
    "company with contacts": """query($company: ID!) { company(id: $company) {
        contacts(first: 200) { totalCount edges { node { id email } } } } }""",
    "contacts page with email activity": """{ contacts(first: 200) { edges { node { id
        emailActivity(first: 200) { edges { node { type occurredAt } } } } } } }""",
    "recordEmailEvent": """mutation($email: String!) { recordEmailEvent(input: {
        email: $email, type: HARD_BOUNCED, occurredAt: "2026-01-01T00:00:00Z"}) {
        event { id } userErrors { code } } }""",
    "contacts page with engagements": """{ contacts(first: 200) { edges { node { id
        lastActivityAt engagements(first: 200) { edges { node { type associatedIds } } } } } } }""",
    "logEngagement": """mutation($subject: ID!, $company: ID!) { logEngagement(input: {
        type: CALL, occurredAt: "2026-01-01T00:00:00Z", contactIds: [$subject],
        companyIds: [$company]}) { engagement { id associatedIds } userErrors { code } } }""",
    "search contacts": """{ contacts(filter: {search: "c1"}, first: 200) { totalCount
        edges { node { id } } } }""",
    "search companies": """{ companies(filter: {search: "co"}, first: 200) { totalCount
        edges { node { id } } } }""",
    "associate": """mutation($subject: ID!, $company: ID!) { associate(input: {
        fromType: CONTACT, fromId: $subject, toType: COMPANY, toId: $company, primary: true}) {
        userErrors { code } } }""",
    "contacts page with deals": """{ contacts(first: 200) { edges { node { id
        deals(first: 200) { totalCount edges { node { id name stage } } } } } } }""",
    "companies page with deals": """{ companies(first: 200) { edges { node { id
        deals(first: 200) { totalCount edges { node { id amount } } } } } } }""",
    "deals page": """{ deals(first: 200) { totalCount
        edges { node { id name owner { id } } } } }""",
    "deal with contacts and companies": """query($deal: ID!) { deal(id: $deal) {
        contacts(first: 200) { totalCount edges { node { id email } } }
        companies(first: 200) { totalCount edges { node { id name } } } } }""",
    "createDeal": """mutation($contacts: [ID!]!, $company: ID!) { createDeal(input: {
        name: "New", stage: CONTRACT_SENT, contactIds: $contacts, companyIds: [$company]}) {
        deal { id } userErrors { code } } }""",
    "win a deal": """mutation($deal: ID!) { updateDeal(id: $deal, input: {stage: CLOSED_WON}) {
        deal { id } userErrors { code } } }""",
    "associate a deal": """mutation($subject: ID!, $deal: ID!) { associate(input: {
        fromType: DEAL, fromId: $deal, toType: CONTACT, toId: $subject}) {
        userErrors { code } } }""",
    "a form's submissions": """query($form: ID!) { form(id: $form) { submissionCount
        submissions(first: 200) { edges { cursor node { id createdContact
        values { name value } contact { id email } } } pageInfo { hasNextPage } } } }""",
    "submitForm": """mutation($form: ID!) { submitForm(input: {formId: $form, values: [
        {name: "email", value: "c2@example.com"}, {name: "firstName", value: "C"}]}) {
        submission { id contact { id } } userErrors { code } } }""",
}
CREATE_COMPANY = """mutation($name: String!, $domain: String) {
  createCompany(input: {name: $name, domain: $domain}) { company { id } userErrors { code } } }"""
RECORD = """mutation($email: String!) { recordEmailEvent(input: {email: $email, type: SENT,
  occurredAt: "2026-01-01T00:00:00Z"}) { userErrors { code } } }"""
LOG = """mutation($contacts: [ID!]!) { logEngagement(input: {type: NOTE,
  occurredAt: "2026-01-01T00:00:00Z", contactIds: $contacts}) { userErrors { code } } }"""
ASSOCIATE = """mutation($contact: ID!, $company: ID!) { associate(input: {fromType: CONTACT,
  fromId: $contact, toType: COMPANY, toId: $company}) { userErrors { code } } }"""
SUBMIT_FORM = """mutation($input: SubmitFormInput!) { submitForm(input: $input) {
  userErrors { code } } }"""
CREATE_DEAL = """mutation($name: String!, $contacts: [ID!]!, $companies: [ID!]!) {
  createDeal(input: {name: $name, stage: QUALIFIED_TO_BUY, amount: "100", contactIds: $contacts,
  companyIds: $companies}) { deal { id } userErrors { code } } }"""


@dataclass
class Account:
    """An account holding `size` of everything a request reads."""

    client: Client
    size: int
    variables: dict[str, Any]


async def _create(client: Client, **fields: Any) -> str:
    data = await client.execute(CREATE, input={"marketingStatus": "MARKETING", **fields})
    assert data["createContact"]["userErrors"] == []
    contact_id: str = data["createContact"]["contact"]["id"]
    return contact_id


async def populate(client: Client, size: int) -> Account:
    """`size` contacts, each in `size` lists of `size` members... and one contact with `size`
    history entries."""
    contacts = [await _create(client, email=f"c{n}@example.com") for n in range(size)]
    subject = await _create(client, email="subject@example.com")
    for n in range(size - 1):  # its creation is the first entry
        status = "NON_MARKETING" if n % 2 == 0 else "MARKETING"
        changed = await client.execute(SET_STATUS, ids=[subject], status=status)
        assert changed["setMarketingStatus"]["userErrors"] == []
    lists = []
    for n in range(size):
        made = await client.execute(CREATE_LIST, name=f"list {n}", ids=contacts)
        lists.append(made["createList"]["list"]["id"])
    companies = []
    for n in range(size):
        made = await client.execute(CREATE_COMPANY, name=f"Company {n}", domain=f"co{n}.io")
        companies.append(made["createCompany"]["company"]["id"])
    # every contact works for the first company (its primary) and for one other
    for n, contact in enumerate(contacts):
        for company in {companies[0], companies[n % size]}:
            associated = await client.execute(ASSOCIATE, contact=contact, company=company)
            assert associated["associate"]["userErrors"] == []
    # `size` deals, each of every contact and of the first company
    deals = []
    for n in range(size):
        made = await client.execute(
            CREATE_DEAL, name=f"Deal {n}", contacts=contacts, companies=[companies[0]]
        )
        assert made["createDeal"]["userErrors"] == []
        deals.append(made["createDeal"]["deal"]["id"])
    # the first five contacts' addresses have `size` events each
    for n in range(5):
        for _ in range(size):
            recorded = await client.execute(RECORD, email=f"c{n}@example.com")
            assert recorded["recordEmailEvent"]["userErrors"] == []
    # and `size` engagements each (C6)
    for _ in range(size):
        logged = await client.execute(LOG, contacts=contacts[:5])
        assert logged["logEngagement"]["userErrors"] == []
    # a form with `size` submissions, each of a contact (F1)
    form = await client.execute('mutation { createForm(input: {name: "F"}) { form { id } } }')
    form_id = form["createForm"]["form"]["id"]
    for n in range(size):
        values = [{"name": "email", "value": f"c{n}@example.com"}]
        submitted = await client.execute(SUBMIT_FORM, input={"formId": form_id, "values": values})
        assert submitted["submitForm"]["userErrors"] == []
    variables = {
        "form": form_id,
        "subject": subject,
        "contacts": contacts,
        "list": lists[0],
        "email": "c1@example.com",
    }
    return Account(client, size, {**variables, "company": companies[0], "deal": deals[0]})


@pytest.fixture(scope="module")
def commands() -> Commands:
    return Commands()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def accounts(
    settings_for_tests: Settings, commands: Commands
) -> AsyncIterator[tuple[Account, Account]]:
    async with open_runtime(settings_for_tests, event_listeners=[commands]) as runtime:
        small = await populate(await open_client(runtime.services, tier_limit=TIER_LIMIT), SMALL)
        large = await populate(await open_client(runtime.services, tier_limit=TIER_LIMIT), LARGE)
        yield small, large


async def commands_of(commands: Commands, account: Account, request: str) -> list[str]:
    """The database commands one request sends, in order."""
    query = REQUESTS[request]
    variables = {name: value for name, value in account.variables.items() if f"${name}" in query}
    commands.names.clear()
    data = await account.client.execute(query, **variables)
    sent = list(commands.names)
    refused = [payload for payload in data.values() if payload.get("userErrors")]
    assert not refused, f"{request} was refused: {refused}"
    return sent


async def test_the_accounts_hold_what_their_size_says(accounts: tuple[Account, Account]) -> None:
    for account in accounts:
        data = await account.client.execute(
            "query($subject: ID!) { contacts(first: 200) { totalCount } "
            f"contact(id: $subject) {{ {HISTORY} }} "
            "lists(first: 200) { edges { node { size } } } }",
            subject=account.variables["subject"],
        )
        assert data["contacts"]["totalCount"] == account.size + 1
        assert len(data["contact"]["statusHistory"]["edges"]) == account.size
        sizes = [edge["node"]["size"] for edge in data["lists"]["edges"]]
        assert sizes == [account.size] * account.size
        company = await account.client.execute(
            "query($id: ID!) { company(id: $id) { contacts { totalCount } } }",
            id=account.variables["company"],
        )
        assert company["company"]["contacts"]["totalCount"] == account.size


@pytest.mark.parametrize("request_name", list(REQUESTS))
async def test_a_request_sends_as_many_commands_whatever_the_size_of_its_data(
    accounts: tuple[Account, Account], commands: Commands, request_name: str
) -> None:
    small, large = accounts
    on_small = await commands_of(commands, small, request_name)
    on_large = await commands_of(commands, large, request_name)
    assert on_small, f"{request_name} sent no database command: it measured nothing"
    assert on_small == on_large, (
        f"{request_name}: {len(on_small)} commands with {SMALL} of everything "
        f"({tally(on_small)}), {len(on_large)} with {LARGE} ({tally(on_large)})"
    )


def tally(names: list[str]) -> str:
    return ", ".join(f"{name} x{count}" for name, count in Counter(names).most_common())

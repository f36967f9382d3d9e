"""P3, C9 and the account boundary, over every root field the served schema has.

Every Query and Mutation field, found by introspection of the served schema, runs as a user
limited to OWNED records and as an ADMIN of another account, with arguments naming records they
must not see (the ids, the owner and the list in ARGUMENTS). Nothing they must not see is
returned (no hidden id or address anywhere in an answer, but for an id the document itself
gave, which an error names as it names a missing one) and nothing of it changes (a snapshot
read as the account's ADMIN). A root field without an entry in ARGUMENTS fails the test: a new
field is covered when it is added.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    build_client_schema,
    get_introspection_query,
)
from graphql.type.definition import GraphQLOutputType

from marketing_contacts.domain.apps import AppKind
from marketing_contacts.domain.associations import Association, RecordType
from marketing_contacts.domain.bulk import Selection
from marketing_contacts.domain.companies import CompanyFilter
from marketing_contacts.domain.deals import DealStage
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.forms import FormValue
from marketing_contacts.domain.statuses import MarketingStatus
from marketing_contacts.domain.users import RecordVisibility, Role
from marketing_contacts.runtime import Runtime
from marketing_contacts.services.bulk import BulkRequest
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.companies import CompanyDraft
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.services.deals import DealDraft
from marketing_contacts.services.forms import FormDraft
from marketing_contacts.services.imports import ImportRequest
from marketing_contacts.services.registry import Services
from marketing_contacts.services.users import UserDraft
from tests.support.graphql import Client, client_of, open_client
from tests.support.uploads import one_piece

#: the arguments each root field runs with: one document per entry; the names in braces are the
#: records of the account under attack (Hidden)
ARGUMENTS: dict[str, list[str]] = {
    "account": [""],
    "usage": [""],
    "me": [""],
    "users": ["(first: 20)"],
    "teams": [""],
    "auditLog": ["(first: 20)", '(recordId: "{contact}")'],
    "contact": ['(id: "{contact}")'],
    "contacts": [
        "(first: 50)",
        '(filter: {{ownerId: "{admin}"}})',
        '(filter: {{listId: "{list}"}})',
    ],
    "previewStatusChange": [
        '(selection: {{ids: ["{contact}"]}}, status: NON_MARKETING)',
        '(selection: {{listId: "{list}"}}, status: NON_MARKETING)',
        "(selection: {{filter: {{}}}}, status: NON_MARKETING)",
        "(selection: {{unengaged: true}}, status: NON_MARKETING)",
    ],
    "audience": [
        '(channel: SALES_EMAIL, selection: {{ids: ["{contact}"]}})',
        '(channel: MARKETING_EMAIL, selection: {{listId: "{list}"}})',
        "(channel: SALES_EMAIL, selection: {{filter: {{}}}})",
        "(channel: ADS, selection: {{unengaged: true}})",
    ],
    "bulkOperation": ['(id: "{operation}")'],
    "bulkOperations": ["(first: 20)"],
    "export": ['(id: "{export}")'],
    # I1: an import is its requester's record (P3), like a bulk operation
    "import": ['(id: "{import}")'],
    "imports": ["(first: 20)"],
    "list": ['(id: "{list}")'],
    "lists": ["(first: 20)"],
    "company": ['(id: "{company}")'],
    "companies": ["(first: 50)", '(filter: {{search: "hid"}})', '(filter: {{ownerId: "{admin}"}})'],
    "createContact": ['(input: {{ownerId: "{admin}", firstName: "Eve"}})'],
    "updateContact": ['(id: "{contact}", input: {{firstName: "Eve", ownerId: "{admin}"}})'],
    "deleteContact": ['(id: "{contact}")'],
    "setMarketingStatus": ['(input: {{contactIds: ["{contact}"], status: MARKETING}})'],
    "startBulkStatusChange": [
        '(input: {{selection: {{ids: ["{contact}"]}}, status: NON_MARKETING}})',
        '(input: {{selection: {{listId: "{list}"}}, status: NON_MARKETING}})',
    ],
    "cancelBulkOperation": ['(id: "{operation}")'],
    # a file in the document itself is INVALID (it comes as a multipart upload)
    "startImport": ['(input: {{file: "email\\nhidden-marketing@target.io\\n"}})'],
    "cancelImport": ['(id: "{import}")'],
    "startExport": [
        '(input: {{selection: {{ids: ["{contact}"]}}}})',
        '(input: {{selection: {{listId: "{list}"}}}})',
    ],
    "updateAccountSettings": ['(input: {{name: "Taken"}})'],
    "enableMarketingContacts": [""],
    "createList": ['(name: "Eve", contactIds: ["{contact}"])'],
    "addContactsToList": ['(listId: "{list}", contactIds: ["{contact}"])'],
    "removeContactsFromList": ['(listId: "{list}", contactIds: ["{contact}"])'],
    "createUser": ['(input: {{name: "Eve", email: "eve@example.com"}})'],
    "updateUser": ['(id: "{admin}", input: {{name: "Eve", deactivated: true}})'],
    "createTeam": ['(name: "Eve")'],
    "createApiToken": ['(userId: "{admin}", name: "eve")'],
    "revokeApiToken": ['(id: "{token}")'],
    "createCompany": ['(input: {{name: "Eve", ownerId: "{admin}"}})'],
    "updateCompany": ['(id: "{company}", input: {{name: "Eve", ownerId: "{admin}"}})'],
    "deleteCompany": ['(id: "{company}")'],
    "deal": ['(id: "{deal}")'],
    "deals": ["(first: 50)"],
    "createDeal": [
        '(input: {{name: "Eve", stage: CLOSED_WON, contactIds: ["{contact}"]}})',
        '(input: {{name: "Eve", stage: CLOSED_WON, companyIds: ["{company}"]}})',
    ],
    "updateDeal": ['(id: "{deal}", input: {{stage: CLOSED_WON, ownerId: "{admin}"}})'],
    "deleteDeal": ['(id: "{deal}")'],
    # F1: forms are the account's (shared); a submitter the member does not see is matched,
    # left as it is and not shown (P3)
    "forms": [""],
    "form": ['(id: "{form}")'],
    "createForm": ['(input: {{name: "Eve"}})'],
    "updateForm": ['(id: "{form}", input: {{name: "Eve"}})'],
    "submitForm": [
        '(input: {{formId: "{form}", values: [{{name: "email", '
        'value: "hidden-non_marketing@target.io"}}, {{name: "firstName", value: "Eve"}}]}})'
    ],
    "chatflows": [""],
    "integrations": [""],
    "createChatflow": ['(input: {{name: "Eve", setContactsAsMarketing: true}})'],
    "updateChatflow": ['(id: "{chatflow}", setContactsAsMarketing: false)'],
    # the address of a contact the member does not see: DUPLICATE, nothing shown or created
    "startConversation": [
        '(input: {{chatflowId: "{chatflow}", email: "hidden-non_marketing@target.io"}})'
    ],
    "createIntegration": ['(input: {{name: "Eve", setContactsAsMarketing: true}})'],
    "updateIntegration": ['(id: "{integration}", setContactsAsMarketing: false)'],
    "associate": [
        '(input: {{fromType: CONTACT, fromId: "{own}", toType: COMPANY, toId: "{company}"}})',
        '(input: {{fromType: COMPANY, fromId: "{company}", toType: CONTACT, toId: "{contact}", '
        "primary: true}})",
        '(input: {{fromType: DEAL, fromId: "{deal}", toType: CONTACT, toId: "{own}"}})',
    ],
    "recordEmailEvent": [
        '(input: {{email: "hidden-non_marketing@target.io", type: HARD_BOUNCED, '
        'occurredAt: "2026-01-01T00:00:00Z"}})'
    ],
    "logEngagement": [
        '(input: {{type: CALL, occurredAt: "2026-01-01T00:00:00Z", contactIds: ["{contact}"]}})',
        '(input: {{type: NOTE, occurredAt: "2026-01-01T00:00:00Z", contactIds: ["{own}"], '
        'companyIds: ["{company}"]}})',
    ],
    "dissociate": [
        '(input: {{fromType: CONTACT, fromId: "{contact}", toType: COMPANY, toId: "{company}"}})',
        '(input: {{fromType: CONTACT, fromId: "{contact}", toType: DEAL, toId: "{deal}"}})',
    ],
    # C10: one contact the member sees and one it does not, either way round
    "mergeContacts": [
        '(input: {{primaryId: "{own}", secondaryId: "{contact}"}})',
        '(input: {{primaryId: "{contact}", secondaryId: "{own}"}})',
    ],
    # last: it ends the list every other document names
    "deleteList": ['(id: "{list}")'],
}
#: how deep the generated selections reach (connections, their nodes, and the nodes' fields)
DEPTH = 4


@dataclass
class Hidden:
    """Account A: an ADMIN owning two contacts (one marketing), a list of them and of the
    OWNED member's one contact, and an operation the ADMIN started over them."""

    admin: Client
    admin_secret: str
    member: Client
    names: dict[str, str]
    #: what the member may not see (the admin's contacts, addresses and operation)
    from_member: set[str]
    #: what another account may not see: every id and address of account A
    from_outside: set[str]


async def account_under_attack(services: Services) -> Hidden:
    admin = await open_client(services, name="Target")
    a = admin.caller
    member_user = await services.users.create(
        a,
        UserDraft(name="Member", email="member@target.io", visibility=RecordVisibility.OWNED),
    )
    member = await client_of(services, member_user)
    own = await services.contacts.create(
        a, ContactDraft(email="own@target.io", owner_id=member_user.id)
    )
    hidden = [
        await services.contacts.create(
            a,
            ContactDraft(
                email=f"hidden-{status.value.lower()}@target.io",
                owner_id=a.user_id,
                marketing_status=status,
            ),
        )
        for status in (MarketingStatus.MARKETING, MarketingStatus.NON_MARKETING)
    ]
    shared = await services.lists.create(a, "Shared", [own.id, *(c.id for c in hidden)])
    company = await services.companies.create(
        a, CompanyDraft(name="Hidden Co", domain="hidden-co.io", owner_id=a.user_id)
    )
    for contact in hidden:
        pair = Association(RecordType.CONTACT, contact.id, RecordType.COMPANY, company.id)
        await services.associations.associate(a, pair)
    deal = await services.deals.create(
        a,
        DealDraft(
            name="Hidden deal",
            stage=DealStage.CONTRACT_SENT,
            owner_id=a.user_id,
            contact_ids=[c.id for c in hidden],
            company_ids=[company.id],
        ),
    )
    signup = await services.forms.create(a, FormDraft(name="Signup"))
    await services.forms.submit(
        a, signup.id, [FormValue("email", hidden[0].email or ""), FormValue("lastName", "Kept")]
    )
    operation = await services.bulk.start(
        a, BulkRequest(Selection(ids=tuple(c.id for c in hidden)), MarketingStatus.NON_MARKETING)
    )
    export = await services.exports.start(a, Selection(ids=tuple(c.id for c in hidden)))
    imported = await services.imports.start(
        a, ImportRequest("hidden.csv", one_piece(b"email\nimported@target.io\n"))
    )
    token, admin_secret = await services.tokens.issue(await services.users.me(a), "admin")
    chatflow = await services.apps.create(a, AppKind.CHATFLOW, "Hidden chat", True)
    integration = await services.apps.create(a, AppKind.INTEGRATION, "Hidden app", True)
    names = {
        "contact": hidden[1].id,
        "admin": a.user_id,
        "list": shared.id,
        "operation": operation.id,
        "export": export.id,
        "import": imported.id,
        "token": token.id,
        "company": company.id,
        "own": own.id,
        "deal": deal.id,
        "form": signup.id,
        "chatflow": chatflow.id,
        "integration": integration.id,
    }
    from_member = {
        *(c.id for c in hidden),
        *(c.email or "" for c in hidden),
        operation.id,
        export.id,
        imported.id,
        company.id,
        "hidden-co.io",
        deal.id,
    }
    from_outside = {
        *from_member,
        own.id,
        "own@target.io",
        shared.id,
        a.user_id,
        member_user.id,
        "member@target.io",
        token.id,
        a.token_id,
        member.caller.token_id,
        signup.id,
        chatflow.id,
        integration.id,
    }
    return Hidden(admin, admin_secret, member, names, from_member, from_outside)


async def served_schema(client: Client) -> GraphQLSchema:
    """The schema as the API serves it, by introspection."""
    return build_client_schema(await client.execute(get_introspection_query()))  # type: ignore[arg-type]


def selection(of: GraphQLOutputType, depth: int = DEPTH) -> str:
    """Every field reachable without a required argument, `depth` object levels down ("" for a
    leaf; "" too for an object past the depth, which its parent then leaves out)."""
    of = _named(of)
    if isinstance(of, GraphQLScalarType | GraphQLEnumType) or depth == 0:
        return ""
    if not isinstance(of, GraphQLObjectType):  # a union or an interface: its kind only
        return "{ __typename }"
    picked = []
    for name, field in of.fields.items():
        if any(isinstance(arg.type, GraphQLNonNull) for arg in field.args.values()):
            continue
        if isinstance(_named(field.type), GraphQLScalarType | GraphQLEnumType):
            picked.append(name)
        elif inner := selection(field.type, depth - 1):
            picked.append(f"{name} {inner}")
    return "{ " + " ".join(picked) + " }"


def _named(of: GraphQLOutputType) -> GraphQLOutputType:
    while isinstance(of, GraphQLNonNull | GraphQLList):
        of = of.of_type
    return of


def documents(schema: GraphQLSchema, names: dict[str, str]) -> list[tuple[str, str]]:
    """(root field, document) for every root field of Query and Mutation, queries first."""
    found = []
    for kind, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        assert root is not None
        for name, field in root.fields.items():
            assert name in ARGUMENTS, f"{kind} field {name} has no entry in ARGUMENTS"
            for arguments in ARGUMENTS[name]:
                args = arguments.format(**names)
                found.append((name, f"{kind} {{ {name}{args} {selection(field.type)} }}"))
    served = {*schema.query_type.fields, *schema.mutation_type.fields}  # type: ignore[union-attr]
    assert set(ARGUMENTS) <= served, f"ARGUMENTS names no field: {set(ARGUMENTS) - served}"
    mutations_last = sorted(found, key=lambda item: item[0] == "deleteList")
    return mutations_last


async def snapshot(services: Services, admin: Caller) -> dict[str, Any]:
    """Account A as its ADMIN reads it: contacts, lists, operations, users, teams, usage."""
    contacts = await services.contacts.page(admin, ContactFilter(), 200, None)
    lists = await services.lists.page(admin, 50, None)
    operations = await services.bulk.page(admin, 50, None)
    users = await services.users.page(admin, 50, None)
    companies = await services.companies.page(admin, CompanyFilter(), 50, None)
    deals = await services.deals.page(admin, 50, None)
    return {
        "deals": {d.id: d for d in deals.items},
        "companies": {c.id: c for c in companies.items},
        "contacts": {c.id: c for c in contacts.items},
        "lists": lists.items,
        "operations": operations.items,
        "users": users.items,
        "teams": await services.users.teams(admin),
        "account": await services.accounts.get(admin),
        "apps": [await services.apps.all(admin, kind) for kind in AppKind],
    }


async def attack(attacker: Client, hidden: Hidden, secrets: set[str]) -> list[dict[str, Any]]:
    """Run every document as the attacker; no answer holds any of `secrets`."""
    answers = []
    for name, document in documents(await served_schema(attacker), hidden.names):
        result = await attacker.try_execute(document)
        errors = [error.extensions or {} for error in result.errors or []]
        assert all(e.get("code") != "INTERNAL" for e in errors), (name, result.errors)
        answer = {"data": result.data, "errors": [str(e) for e in result.errors or []]}
        # an error may name the id the document gave, as it does for a missing one
        told = json.dumps(answer)
        leaked = [secret for secret in secrets if secret in told and secret not in document]
        assert leaked == [], (name, document, leaked)
        answers.append({"field": name, **answer})
    return answers


async def test_p3_an_owned_member_sees_and_changes_nothing_of_anyone_elses(
    runtime: Runtime,
) -> None:
    services = runtime.services
    hidden = await account_under_attack(services)
    before = await snapshot(services, hidden.admin.caller)
    answers = await attack(hidden.member, hidden, hidden.from_member)
    after = await snapshot(services, hidden.admin.caller)
    for contact_id in hidden.from_member & set(before["contacts"]):
        assert after["contacts"][contact_id] == before["contacts"][contact_id]
    counts = before["account"].usage.counts
    assert after["account"].usage.counts == replace(counts, total=counts.total + 1)  # its own
    assert after["operations"][-1] == before["operations"][-1]  # the admin's, still queued
    assert after["users"] == before["users"]  # a MEMBER changes no user
    company = hidden.names["company"]
    assert after["companies"][company] == before["companies"][company]
    own = hidden.names["own"]
    assert after["contacts"][own].company_ids == before["contacts"][own].company_ids == set()

    # counts are of what the member sees: its one contact, in the list and in previews
    def data_of(field: str) -> list[Any]:
        return [a["data"][field] for a in answers if a["field"] == field]

    assert [c["totalCount"] for c in data_of("contacts")] == [1, 0, 1]
    assert [p["matched"] for p in data_of("previewStatusChange")] == [0, 1, 1, 0]
    assert [a["matched"] for a in data_of("audience")] == [0, 1, 1, 0]
    assert [found["size"] for found in data_of("list")] == [1]
    assert [found["totalCount"] for found in data_of("companies")] == [0, 0, 0]
    assert data_of("company") == [None]
    assert data_of("deal") == [None]
    assert data_of("export") == [None]  # I6: an export is its requester's record
    assert [found["totalCount"] for found in data_of("deals")] == [0]
    deal = hidden.names["deal"]
    assert after["deals"][deal] == before["deals"][deal]
    assert after["apps"] == before["apps"]  # P1: a MEMBER changes no channel
    assert (await services.tokens.authenticate(hidden.admin_secret)) is not None


@pytest.mark.parametrize("role", [Role.ADMIN])
async def test_p3_another_accounts_admin_sees_and_changes_nothing(
    runtime: Runtime, role: Role
) -> None:
    services = runtime.services
    hidden = await account_under_attack(services)
    stranger = await open_client(services, name="Elsewhere")
    assert stranger.caller.role is role
    before = await snapshot(services, hidden.admin.caller)
    await attack(stranger, hidden, hidden.from_outside)
    assert await snapshot(services, hidden.admin.caller) == before
    assert (await services.tokens.authenticate(hidden.admin_secret)) is not None

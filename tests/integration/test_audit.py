"""P4 on real SecantusDB: an entry is written in its write's transaction (an entry that cannot
be written takes the write back with it), and every mutation of the served schema, found by
introspection, writes an entry naming its action, user and token."""

from __future__ import annotations

from dataclasses import replace

import pytest
from graphql import build_client_schema, get_introspection_query
from pymongo.errors import DuplicateKeyError

from marketing_contacts.domain.apps import AppKind
from marketing_contacts.domain.associations import ContactCompany, DealRecord, RecordType
from marketing_contacts.domain.audit import Actor, AuditEntry
from marketing_contacts.domain.bulk import Selection
from marketing_contacts.domain.changes import plan_usage_change
from marketing_contacts.domain.contacts import change_status, transitions_of
from marketing_contacts.domain.deals import DealStage
from marketing_contacts.domain.statuses import MarketingStatus, StatusSource, StatusSourceType
from marketing_contacts.domain.users import RecordVisibility, Role
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.runtime import Runtime
from marketing_contacts.services.bulk import BulkRequest
from marketing_contacts.services.companies import CompanyDraft
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.services.deals import DealDraft
from marketing_contacts.services.forms import FormDraft
from marketing_contacts.services.imports import ImportRequest
from marketing_contacts.services.ledger import batch_for
from marketing_contacts.services.ports.changes import ChangeBatch
from marketing_contacts.services.users import UserDraft
from tests.support.graphql import client_of, open_client
from tests.support.uploads import Upload, one_piece

#: each mutation with arguments it succeeds with, in an order that keeps each one's records
#: there for the next ones (the names in braces are made before)
VALID: dict[str, str] = {
    # K1: first, while the audited account runs without marketing contacts (set up so)
    "enableMarketingContacts": "",
    "createContact": '(input: {{email: "new@audit.io"}})',
    "updateContact": '(id: "{contact}", input: {{firstName: "Eve"}})',
    "setMarketingStatus": '(input: {{contactIds: ["{contact}"], status: MARKETING}})',
    "startBulkStatusChange": (
        '(input: {{selection: {{ids: ["{contact}"]}}, status: NON_MARKETING}})'
    ),
    "cancelBulkOperation": '(id: "{operation}")',
    "updateAccountSettings": '(input: {{name: "Renamed"}})',
    "createList": '(name: "New", contactIds: ["{contact}"])',
    "addContactsToList": '(listId: "{list}", contactIds: ["{contact}"])',
    "removeContactsFromList": '(listId: "{list}", contactIds: ["{contact}"])',
    "deleteList": '(id: "{list}")',
    "createUser": '(input: {{name: "Eve", email: "eve@audit.io"}})',
    "updateUser": '(id: "{user}", input: {{name: "Eve 2"}})',
    "createTeam": '(name: "East")',
    "createApiToken": '(userId: "{user}", name: "laptop")',
    "revokeApiToken": '(id: "{token}")',
    "createCompany": '(input: {{name: "Acme"}})',
    "updateCompany": '(id: "{company}", input: {{domain: "acme.io"}})',
    "associate": '(input: {{fromType: CONTACT, fromId: "{contact}", toType: COMPANY, '
    'toId: "{company}"}})',
    "dissociate": '(input: {{fromType: COMPANY, fromId: "{company}", toType: CONTACT, '
    'toId: "{contact}"}})',
    "deleteCompany": '(id: "{company}")',
    "createDeal": '(input: {{name: "Renewal", stage: CONTRACT_SENT, contactIds: ["{contact}"]}})',
    "updateDeal": '(id: "{deal}", input: {{stage: CLOSED_WON}})',
    "deleteDeal": '(id: "{deal}")',
    "createForm": '(input: {{name: "Demo"}})',
    "updateForm": '(id: "{form}", input: {{setContactsAsMarketing: false}})',
    "submitForm": '(input: {{formId: "{form}", values: [{{name: "email", '
    'value: "form@audit.io"}}]}})',
    "createChatflow": '(input: {{name: "Chat", setContactsAsMarketing: true}})',
    "updateChatflow": '(id: "{chatflow}", setContactsAsMarketing: false)',
    "startConversation": '(input: {{chatflowId: "{chatflow}", email: "chat@audit.io"}})',
    "createIntegration": '(input: {{name: "Shop"}})',
    "updateIntegration": '(id: "{integration}", setContactsAsMarketing: true)',
    "recordEmailEvent": '(input: {{email: "one@audit.io", type: OPENED, '
    'occurredAt: "2026-01-01T00:00:00Z"}})',
    "logEngagement": '(input: {{type: CALL, occurredAt: "2026-01-01T00:00:00Z", '
    'contactIds: ["{contact}"]}})',
    "mergeContacts": '(input: {{primaryId: "{primary}", secondaryId: "{secondary}"}})',
    "startExport": '(input: {{selection: {{ids: ["{contact}"]}}}})',
    "deleteContact": '(id: "{contact}")',
    "cancelImport": '(id: "{import}")',
    "startImport": "(input: {{file: $file}})",
}
#: I1: the mutations that take a file, sent as the multipart parser hands it over
UPLOADS = {"startImport": "email\nimported@audit.io\n"}
NEWEST = """{ auditLog(first: 1) { totalCount edges { node {
  action recordIds tokenId requestId user { id } } } } }"""


async def test_p4_every_mutation_writes_an_entry_of_its_action(runtime: Runtime) -> None:
    services = runtime.services
    admin = await open_client(services, name="Audited")
    a = admin.caller
    contact = await services.contacts.create(a, ContactDraft(email="one@audit.io"))
    listed = await services.lists.create(a, "Old", [contact.id])
    operation = await services.bulk.start(
        a, BulkRequest(Selection(ids=(contact.id,)), MarketingStatus.NON_MARKETING)
    )
    user = await services.users.create(a, UserDraft(name="Sam", email="sam@audit.io"))
    token, _ = await services.tokens.create(a, user.id, "phone")
    company = await services.companies.create(a, CompanyDraft(name="Old"))
    deal = await services.deals.create(a, DealDraft(name="Old", stage=DealStage.CONTRACT_SENT))
    signup = await services.forms.create(a, FormDraft(name="Old"))
    chatflow = await services.apps.create(a, AppKind.CHATFLOW, "Old", True)
    integration = await services.apps.create(a, AppKind.INTEGRATION, "Old", False)
    primary, secondary = [
        await services.contacts.create(a, ContactDraft(email=f"merge-{n}@audit.io")) for n in (1, 2)
    ]
    names = {
        "primary": primary.id,
        "secondary": secondary.id,
        "company": company.id,
        "deal": deal.id,
        "form": signup.id,
        "chatflow": chatflow.id,
        "integration": integration.id,
        "contact": contact.id,
        "list": listed.id,
        "operation": operation.id,
        "import": (
            await services.imports.start(a, ImportRequest("a.csv", one_piece(b"email\nx@a.io\n")))
        ).id,
        "user": user.id,
        "token": token.id,
    }
    served = build_client_schema(await admin.execute(get_introspection_query()))  # type: ignore[arg-type]
    assert served.mutation_type is not None
    assert set(served.mutation_type.fields) == set(VALID), "every mutation needs its VALID entry"
    account = await services.ports.account(a.account_id)  # K1: without marketing contacts
    legacy = replace(account, marketing_contacts_enabled=False, revision=account.revision + 1)
    await services.ports.writer.commit(ChangeBatch(account, legacy))
    before = (await admin.execute(NEWEST))["auditLog"]["totalCount"]
    for count, (name, arguments) in enumerate(VALID.items(), start=1):
        upload = {"file": Upload(UPLOADS[name])} if name in UPLOADS else {}
        declared = "($file: Upload!)" if upload else ""
        called = f"{name}{arguments.format(**names)}"
        document = f"mutation{declared} {{ {called} {{ userErrors {{ code }} }} }}"
        assert (await admin.execute(document, **upload))[name]["userErrors"] == [], name
        log = (await admin.execute(NEWEST))["auditLog"]
        assert log["totalCount"] == before + count, name
        newest = log["edges"][0]["node"]
        assert newest["action"] == name
        assert (newest["tokenId"], newest["user"]) == (a.token_id, {"id": a.user_id})
        assert newest["recordIds"], name


async def test_p4_an_entry_that_cannot_be_written_takes_its_write_back(runtime: Runtime) -> None:
    """Each kind of transaction a store writes an entry in: the entry's id taken makes its
    insert fail, and the write it came with is not there."""
    services, ports = runtime.services, runtime.services.ports
    admin = await open_client(services, name="Atomic")
    a = admin.caller
    contact = await services.contacts.create(a, ContactDraft(email="atomic@audit.io"))
    listed = await services.lists.create(a, "Atomic", [])
    taken = (await ports.audit.page(Scope(a.account_id), None, 1, None)).items[0]

    def entry(action: str, *ids: str) -> AuditEntry:
        return replace(ports.audit_entry(a.account_id, Actor(a.user_id), action, ids), id=taken.id)

    with pytest.raises(DuplicateKeyError):
        await ports.contacts.update_fields(
            contact, replace(contact, first_name="Eve"), entry("updateContact", contact.id)
        )
    company = await services.companies.create(a, CompanyDraft(name="Atomic"))
    pair = ContactCompany(contact.id, company.id)
    with pytest.raises(DuplicateKeyError):
        await ports.companies.associate(a.account_id, pair, 10, entry("associate", contact.id))
    with pytest.raises(DuplicateKeyError):
        await ports.companies.delete(a.account_id, company.id, entry("deleteCompany", company.id))
    assert await ports.companies.get(Scope(a.account_id), company.id) == company
    deal = await services.deals.create(a, DealDraft(name="Atomic", stage=DealStage.CLOSED_WON))
    joined = DealRecord(deal.id, RecordType.CONTACT, contact.id)
    with pytest.raises(DuplicateKeyError):
        at = ports.clock.now()
        await ports.deals.associate(a.account_id, joined, 10, at, entry("associate", deal.id))
    with pytest.raises(DuplicateKeyError):
        await ports.deals.update_fields(
            deal, replace(deal, name="Won"), entry("updateDeal", deal.id)
        )
    assert await ports.deals.get(Scope(a.account_id), deal.id) == deal
    with pytest.raises(DuplicateKeyError):
        await ports.lists.add_members(
            a.account_id, listed.id, [contact.id], entry("addContactsToList", listed.id)
        )
    account = await ports.account(a.account_id)
    now = ports.clock.now()
    source = StatusSource(StatusSourceType.USER, a.user_id)
    update = change_status(contact, MarketingStatus.MARKETING, source, now)
    assert update is not None
    change = plan_usage_change(account, transitions_of([update]), now)
    with pytest.raises(DuplicateKeyError):
        await ports.writer.commit(
            batch_for(account, change, [update], entry("setMarketingStatus", contact.id))
        )
    assert await ports.contacts.get(Scope(a.account_id), contact.id) == contact
    assert (await ports.lists.get(a.account_id, listed.id)) == listed
    assert (await ports.account(a.account_id)).counts == account.counts
    assert await ports.audit.count(Scope(a.account_id), contact.id) == 1  # its creation only


async def test_p3_an_admin_limited_to_its_records_reads_the_entries_of_its_users(
    runtime: Runtime,
) -> None:
    """An ADMIN whose visibility is OWNED reads the log of its own writes only, all of it or
    by record; another admin's writes are not in it."""
    services = runtime.services
    admin = await open_client(services, name="Scoped log")
    a = admin.caller
    draft = UserDraft(
        name="Owner", email="owner@audit.io", role=Role.ADMIN, visibility=RecordVisibility.OWNED
    )
    scoped = await client_of(services, await services.users.create(a, draft))
    theirs = await services.contacts.create(a, ContactDraft(email="theirs@audit.io"))
    mine = await services.contacts.create(
        scoped.caller, ContactDraft(email="mine@audit.io", owner_id=scoped.caller.user_id)
    )
    query = """query($record: ID) { auditLog(recordId: $record) { totalCount
      edges { node { action recordIds } } } }"""
    seen = (await scoped.execute(query))["auditLog"]
    assert seen["edges"] == [{"node": {"action": "createContact", "recordIds": [mine.id]}}]
    assert (await scoped.execute(query, record=mine.id))["auditLog"]["totalCount"] == 1
    assert (await scoped.execute(query, record=theirs.id))["auditLog"]["totalCount"] == 0
    assert (await admin.execute(query, record=theirs.id))["auditLog"]["totalCount"] == 1

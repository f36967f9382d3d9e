"""P4 over the fakes: every write records who, what, when and the request, with the write (a
refused write records nothing); background pages name the user who started them; admins read
the log newest first and by record."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from marketing_contacts.domain.audit import Actor
from marketing_contacts.domain.bulk import Selection
from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.statuses import MarketingStatus
from marketing_contacts.domain.users import Role, UserEdit
from marketing_contacts.services.accounts import AccountSettings
from marketing_contacts.services.bulk import BulkRequest
from marketing_contacts.services.bulk_runner import BulkRunner, BulkRunnerSettings
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.contacts import ContactDraft, ContactEdit
from marketing_contacts.services.list_deletions import ListDeletions
from marketing_contacts.services.registry import Services
from marketing_contacts.services.turns import Budget
from marketing_contacts.services.users import UserDraft
from tests.unit.services.fakes import FakeWorld, codes_and_fields, fake_services, open_account

MARKETING, NON_MARKETING = MarketingStatus.MARKETING, MarketingStatus.NON_MARKETING


async def admin_of_account() -> tuple[Services, FakeWorld, Caller]:
    services, world = fake_services()
    caller = replace(await open_account(services), request_id="req-1")
    world.data.audit.clear()  # the account's first user and token, made by the system
    return services, world, caller


def entries(world: FakeWorld) -> list[tuple[str, tuple[str, ...]]]:
    return [(entry.action, entry.record_ids) for entry in world.data.audit]


async def test_p4_each_write_of_a_request_names_its_user_token_request_and_records() -> None:
    services, world, admin = await admin_of_account()
    made = await services.contacts.create(admin, ContactDraft(email="ada@example.com"))
    await services.contacts.update(admin, made.id, ContactEdit({"first_name": "Ada"}))
    await services.statuses.set_marketing_status(admin, [made.id], MARKETING)
    listed = await services.lists.create(admin, "VIP", [made.id])
    await services.lists.remove(admin, listed.id, [made.id])
    await services.lists.add(admin, listed.id, [made.id])
    operation = await services.bulk.start(
        admin, BulkRequest(Selection(ids=(made.id,)), NON_MARKETING)
    )
    await services.bulk.cancel(admin, operation.id)
    user = await services.users.create(admin, UserDraft(name="Sam", email="sam@example.com"))
    await services.users.update(admin, user.id, UserEdit(role=Role.READ_ONLY))
    team = await services.users.create_team(admin, "East")
    token, _ = await services.tokens.create(admin, user.id, "laptop")
    await services.tokens.revoke(admin, token.id)
    await services.accounts.update_settings(admin, AccountSettings(name="Acme 2"))
    await services.lists.delete(admin, listed.id)
    await services.contacts.delete(admin, made.id)
    assert entries(world) == [
        ("createContact", (made.id,)),
        ("updateContact", (made.id,)),
        ("setMarketingStatus", (made.id,)),
        ("createList", (listed.id, made.id)),
        ("removeContactsFromList", (listed.id, made.id)),
        ("addContactsToList", (listed.id, made.id)),
        ("startBulkStatusChange", (operation.id,)),
        ("cancelBulkOperation", (operation.id,)),
        ("createUser", (user.id,)),
        ("updateUser", (user.id,)),
        ("createTeam", (team.id,)),
        ("createApiToken", (token.id, user.id)),
        ("revokeApiToken", (token.id,)),
        ("updateAccountSettings", (admin.account_id,)),
        ("deleteList", (listed.id,)),
        ("deleteContact", (made.id,)),
    ]
    actor = Actor(admin.user_id, admin.token_id, "req-1")
    assert {entry.actor for entry in world.data.audit} == {actor}
    assert {entry.account_id for entry in world.data.audit} == {admin.account_id}
    assert [entry.at for entry in world.data.audit] == [world.clock.now()] * 16


async def test_p4_a_refused_or_empty_write_records_nothing() -> None:
    services, world, admin = await admin_of_account()
    made = await services.contacts.create(admin, ContactDraft(email="ada@example.com"))
    other = await services.contacts.create(admin, ContactDraft(email="bob@example.com"))
    world.data.audit.clear()
    with pytest.raises(DomainError):  # C8: the address is taken
        await services.contacts.update(admin, other.id, ContactEdit({"email": "ada@example.com"}))
    with pytest.raises(DomainError):
        await services.contacts.delete(admin, world.data.new_id())
    with pytest.raises(DomainError):
        await services.lists.add(admin, world.data.new_id(), [made.id])
    with pytest.raises(DomainError):
        await services.tokens.revoke(admin, world.data.new_id())
    # a no-op changes nothing, so it records nothing
    await services.statuses.set_marketing_status(admin, [made.id], NON_MARKETING)
    assert world.data.audit == []


async def test_p4_background_pages_name_the_user_who_started_them() -> None:
    services, world, admin = await admin_of_account()
    made = [
        await services.contacts.create(admin, ContactDraft(email=f"p{i}@example.com"))
        for i in range(3)
    ]
    ids = tuple(c.id for c in made)
    operation = await services.bulk.start(
        admin, BulkRequest(Selection(ids=ids), MARKETING, confirm_count=3)
    )
    listed = await services.lists.create(admin, "Old", list(ids))
    await services.lists.delete(admin, listed.id)
    world.data.audit.clear()
    settings = BulkRunnerSettings(chunk=2, lease=timedelta(minutes=1))
    await BulkRunner(services.ports, settings).run(operation.id, "worker-1")
    deletions = ListDeletions(services.ports, chunk=2, lease=timedelta(minutes=1))
    await world.jobs.mark_list_deletions(admin.account_id)
    await deletions.take(admin.account_id, "worker-1", Budget.unlimited())
    assert world.data.list_deletions == {}
    background = Actor(admin.user_id)  # no token, no request: a worker wrote
    assert [(e.action, e.record_ids, e.actor) for e in world.data.audit] == [
        ("bulkOperation", (operation.id, ids[0], ids[1]), background),
        ("bulkOperation", (operation.id, ids[2]), background),
        ("deleteList", (listed.id, ids[0], ids[1]), background),
        ("deleteList", (listed.id, ids[2]), background),
    ]


async def test_p4_admins_read_the_log_newest_first_and_by_record() -> None:
    services, _, admin = await admin_of_account()
    a = await services.contacts.create(admin, ContactDraft(email="a@example.com"))
    b = await services.contacts.create(admin, ContactDraft(email="b@example.com"))
    await services.statuses.set_marketing_status(admin, [a.id], MARKETING)
    page = await services.audit.page(admin, None, 2, None)
    assert [e.action for e in page.items] == ["setMarketingStatus", "createContact"]
    assert page.has_next_page
    rest = await services.audit.page(admin, None, 2, page.cursors[-1])
    assert [e.record_ids for e in rest.items] == [(a.id,)]
    of_a = await services.audit.page(admin, a.id, 10, None)
    assert [e.action for e in of_a.items] == ["setMarketingStatus", "createContact"]
    assert await services.audit.count(admin, b.id) == 1
    member = await services.users.create(admin, UserDraft(name="Sam", email="sam@example.com"))
    _, secret = await services.tokens.issue(member, "sam")
    sam = await services.tokens.authenticate(secret)
    assert sam is not None
    with pytest.raises(DomainError) as refused:
        await services.audit.page(sam, None, 10, None)
    assert codes_and_fields(refused.value) == [(ErrorCode.FORBIDDEN, ())]

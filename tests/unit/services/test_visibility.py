"""C1, C9, P3 over the fakes: a user limited to OWNED or TEAM records sees no other contact in
any read, count, selection, preview, bulk operation or list, and an id outside its visibility is
NOT_FOUND exactly as a missing one; usage stays the account's. P2: a running operation keeps
going after its requester loses marketing access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from marketing_contacts.domain.bulk import BulkOperationStatus, Selection
from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import MarketingState, MarketingStatus
from marketing_contacts.domain.users import RecordVisibility, Role, User, UserEdit
from marketing_contacts.services.bulk import BulkRequest
from marketing_contacts.services.bulk_runner import BulkRunner, BulkRunnerSettings
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.contacts import ContactDraft, ContactEdit
from marketing_contacts.services.registry import Services
from marketing_contacts.services.users import UserDraft
from tests.unit.services.fakes import (
    FakeWorld,
    codes_and_fields,
    fake_services,
    open_account,
)

MARKETING = MarketingStatus.MARKETING
NON_MARKETING = MarketingStatus.NON_MARKETING
EVERYONE = Selection(filter=ContactFilter())


async def as_user(services: Services, user: User) -> Caller:
    _, secret = await services.tokens.issue(user, "tests")
    caller = await services.tokens.authenticate(secret)
    assert caller is not None
    return caller


@dataclass
class Team:
    """An account: Alice (TEAM) and Bob (OWNED) in team East, Carol (OWNED) in none; two
    contacts owned by each of them and two owned by nobody, made by the admin."""

    services: Services
    world: FakeWorld
    admin: Caller
    alice: Caller
    bob: Caller
    carol: Caller
    owned: dict[str, list[str]]

    def ids_of(self, *names: str) -> list[str]:
        return sorted(cid for name in names for cid in self.owned[name])


async def team_account() -> Team:
    services, world = fake_services()
    admin = await open_account(services)
    east = await services.users.create_team(admin, "East")

    async def user(name: str, visibility: RecordVisibility, team: str | None) -> User:
        draft = UserDraft(
            name=name,
            email=f"{name}@example.com",
            role=Role.MEMBER,
            team_id=team,
            visibility=visibility,
        )
        return await services.users.create(admin, draft)

    users = [
        await user("alice", RecordVisibility.TEAM, east.id),
        await user("bob", RecordVisibility.OWNED, east.id),
        await user("carol", RecordVisibility.OWNED, None),
    ]
    # each caller as its token authenticates once every user exists (a team is read then)
    alice, bob, carol = [await as_user(services, made) for made in users]
    owned: dict[str, list[str]] = {}
    for name, owner in [("alice", alice), ("bob", bob), ("carol", carol), ("nobody", None)]:
        for i in range(2):
            draft = ContactDraft(
                email=f"{name}-{i}@example.com",
                marketing_status=NON_MARKETING,
                owner_id=None if owner is None else owner.user_id,
            )
            made = await services.contacts.create(admin, draft)
            owned.setdefault(name, []).append(made.id)
    return Team(services, world, admin, alice, bob, carol, owned)


async def listed(services: Services, caller: Caller, where: ContactFilter) -> list[str]:
    page = await services.contacts.page(caller, where, 200, None)
    return sorted(c.id for c in page.items)


async def test_c9_each_visibility_sees_its_records_in_reads_and_counts() -> None:
    t = await team_account()
    seen = {
        "admin": t.ids_of("alice", "bob", "carol", "nobody"),
        "alice": t.ids_of("alice", "bob"),  # TEAM: hers and her team's
        "bob": t.ids_of("bob"),
        "carol": t.ids_of("carol"),
    }
    for name, ids in seen.items():
        caller = getattr(t, name)
        assert await listed(t.services, caller, ContactFilter()) == ids, name
        assert await t.services.contacts.count(caller, ContactFilter()) == len(ids), name
        everyone = [await t.services.contacts.get(caller, cid) for cid in t.ids_of("alice")]
        assert [c is not None for c in everyone] == [name in ("admin", "alice")] * 2, name
    # a filter on another owner selects nothing for a user who does not see that owner
    theirs = ContactFilter(owner_id=t.carol.user_id)
    assert await listed(t.services, t.bob, theirs) == []
    assert await t.services.contacts.count(t.bob, theirs) == 0
    # usage is the account's, whoever asks
    usage = (await t.services.accounts.get(t.bob)).usage.total_contacts
    assert usage == 8


async def test_p3_an_id_outside_visibility_is_not_found_exactly_as_a_missing_one() -> None:
    t = await team_account()
    hidden, missing = t.owned["carol"][0], t.world.data.new_id()
    before = dict(t.world.data.contacts)

    async def refusals(contact_id: str) -> list[list[tuple[ErrorCode, tuple[str, ...]]]]:
        calls = [
            t.services.contacts.update(t.bob, contact_id, ContactEdit({"first_name": "Eve"})),
            t.services.contacts.delete(t.bob, contact_id),
            t.services.statuses.set_marketing_status(t.bob, [contact_id], MARKETING),
            t.services.lists.create(t.bob, "Mine", [contact_id]),
        ]
        found = []
        for call in calls:
            with pytest.raises(DomainError) as refused:
                await call
            found.append(codes_and_fields(refused.value))
        return found

    assert await refusals(hidden) == await refusals(missing)
    assert {code for found in await refusals(hidden) for code, _ in found} == {ErrorCode.NOT_FOUND}
    assert t.world.data.contacts == before


async def test_p3_previews_and_bulk_operations_select_the_requesters_records_only() -> None:
    t = await team_account()
    preview = await t.services.bulk.preview(t.bob, EVERYONE, MARKETING)
    assert preview.matched == 2
    by_ids = Selection(ids=(*t.owned["bob"], *t.owned["carol"]))
    assert (await t.services.bulk.preview(t.bob, by_ids, MARKETING)).matched == 2
    operation = await t.services.bulk.start(
        t.bob, BulkRequest(EVERYONE, MARKETING, confirm_count=2)
    )
    assert operation.owners == frozenset({t.bob.user_id})
    runner = BulkRunner(t.services.ports, BulkRunnerSettings(chunk=1, lease=timedelta(minutes=1)))
    done = await runner.run(operation.id, "worker-1")
    assert done is not None and done.status is BulkOperationStatus.COMPLETED
    assert done.progress.matched == done.progress.changed_now == 2
    marketing = {
        cid for cid, c in t.world.data.contacts.items() if c.state is MarketingState.MARKETING
    }
    assert marketing == set(t.owned["bob"])


async def test_p3_a_list_shows_the_size_of_the_members_the_caller_sees() -> None:
    t = await team_account()
    everyone = t.ids_of("alice", "bob", "carol", "nobody")
    made = await t.services.lists.create(t.admin, "All", everyone)
    assert made.size == 8
    assert (await t.services.lists.get(t.admin, made.id)) == made
    seen_by_alice = await t.services.lists.get(t.alice, made.id)
    assert seen_by_alice is not None and seen_by_alice.size == 4
    page = await t.services.lists.page(t.bob, 10, None)
    assert [found.size for found in page.items] == [2]
    members = ContactFilter(list_id=made.id)
    assert await listed(t.services, t.bob, members) == t.ids_of("bob")


async def test_c9_a_team_user_sees_a_new_members_records_at_its_next_request() -> None:
    t = await team_account()
    east = (await t.services.users.me(t.alice)).team_id
    carol = await t.services.users.update(
        t.admin, t.carol.user_id, UserEdit(change_team=True, team_id=east)
    )
    assert await listed(t.services, t.alice, ContactFilter()) == t.ids_of("alice", "bob")
    again = await as_user(t.services, await t.services.users.me(t.alice))
    assert await listed(t.services, again, ContactFilter()) == t.ids_of("alice", "bob", "carol")
    assert carol.visibility is RecordVisibility.OWNED  # still sees only her own
    assert await listed(t.services, t.carol, ContactFilter()) == t.ids_of("carol")


@pytest.mark.parametrize("owner", ["another account's user", "no user"])
async def test_c1_an_owner_is_a_user_of_the_account(owner: str) -> None:
    t = await team_account()
    other = await open_account(t.services)
    owner_id = other.user_id if owner == "another account's user" else t.world.data.new_id()
    before = dict(t.world.data.contacts)
    with pytest.raises(DomainError) as created:
        await t.services.contacts.create(t.admin, ContactDraft(owner_id=owner_id))
    assert codes_and_fields(created.value) == [(ErrorCode.NOT_FOUND, ("owner_id",))]
    edit = ContactEdit({"owner_id": owner_id})
    with pytest.raises(DomainError) as updated:
        await t.services.contacts.update(t.admin, t.owned["nobody"][0], edit)
    assert codes_and_fields(updated.value) == [(ErrorCode.NOT_FOUND, ("owner_id",))]
    assert t.world.data.contacts == before


async def test_p2_a_running_operation_keeps_going_after_its_requester_loses_access() -> None:
    t = await team_account()
    operation = await t.services.bulk.start(
        t.bob, BulkRequest(EVERYONE, MARKETING, confirm_count=2)
    )
    await t.services.users.update(t.admin, t.bob.user_id, UserEdit(marketing_access=False))
    bob_now = await as_user(t.services, await t.services.users.me(t.bob))
    with pytest.raises(DomainError) as refused:
        await t.services.bulk.start(bob_now, BulkRequest(EVERYONE, MARKETING, confirm_count=2))
    assert codes_and_fields(refused.value)[0][0] is ErrorCode.FORBIDDEN
    runner = BulkRunner(t.services.ports, BulkRunnerSettings(chunk=1, lease=timedelta(minutes=1)))
    done = await runner.run(operation.id, "worker-1")
    assert done is not None and done.status is BulkOperationStatus.COMPLETED
    assert done.progress.changed_now == 2  # S5 was checked when it was started, by its right

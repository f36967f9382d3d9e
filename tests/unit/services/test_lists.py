"""ListService over the fakes: static lists, their membership on the contacts, B1 by list."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import pytest

from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import MarketingState, MarketingStatus
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.lists import MAX_LIST_CHANGE, MAX_NAME_LENGTH
from marketing_contacts.services.registry import Services
from tests.support.waiting import let_others_run
from tests.unit.services.fakes import (
    FakeWorld,
    codes_and_fields,
    fake_services,
    make_contacts,
    open_account,
)

T = TypeVar("T")


async def opened(contacts: int = 3) -> tuple[Services, FakeWorld, Caller, list[str]]:
    services, world = fake_services()
    caller = await open_account(services)
    made = await make_contacts(services, caller, contacts, MarketingStatus.MARKETING)
    return services, world, caller, [c.id for c in made]


def members(world: FakeWorld, list_id: str) -> set[str]:
    """Every contact, of any account, that names the list."""
    return {c.id for c in world.data.contacts.values() if list_id in c.list_ids}


async def later(turns: int, call: Awaitable[T]) -> T:
    """`call`, after letting other tasks run `turns` times."""
    for _ in range(turns):
        await let_others_run()
    return await call


# ---------------------------------------------------------------- create, add, remove


async def test_create_stores_the_list_and_its_members_each_once() -> None:
    services, world, caller, ids = await opened()
    created = await services.lists.create(caller, "  Newsletter  ", [ids[0], ids[1], ids[0]])
    assert created.name == "Newsletter"
    assert created.account_id == caller.account_id
    assert created.created_at == world.clock.now()
    assert await services.lists.get(caller, created.id) == created
    assert members(world, created.id) == {ids[0], ids[1]}
    assert await services.lists.size(caller, created.id) == 2


async def test_create_without_contacts_makes_an_empty_list() -> None:
    services, world, caller, _ = await opened()
    created = await services.lists.create(caller, "Empty")
    assert await services.lists.size(caller, created.id) == 0
    assert members(world, created.id) == set()


async def test_adding_and_removing_are_idempotent() -> None:
    services, world, caller, ids = await opened()
    created = await services.lists.create(caller, "L", [ids[0]])
    for _ in range(2):
        await services.lists.add(caller, created.id, [ids[0], ids[1]])
        assert members(world, created.id) == {ids[0], ids[1]}
    for _ in range(2):
        await services.lists.remove(caller, created.id, [ids[0], ids[2]])
        assert members(world, created.id) == {ids[1]}
    assert await services.lists.size(caller, created.id) == 1


async def test_a_contact_may_be_in_several_lists() -> None:
    services, world, caller, ids = await opened()
    first = await services.lists.create(caller, "A", ids[:2])
    second = await services.lists.create(caller, "B", ids[1:])
    assert world.contact(ids[1]).list_ids == {first.id, second.id}
    await services.lists.remove(caller, first.id, [ids[1]])
    assert world.contact(ids[1]).list_ids == {second.id}
    assert await services.lists.sizes(caller, [first.id, second.id, "unknown"]) == {
        first.id: 1,
        second.id: 2,
        "unknown": 0,
    }


async def test_b1_the_contact_filter_selects_exactly_the_members() -> None:
    services, _, caller, ids = await opened(4)
    created = await services.lists.create(caller, "L", [ids[3], ids[1]])
    where = ContactFilter(list_id=created.id)
    page = await services.contacts.page(caller, where, 10, None)
    assert [c.id for c in page.items] == [ids[1], ids[3]]
    assert await services.contacts.count(caller, where) == 2


async def test_membership_never_touches_statuses_history_or_counts() -> None:
    services, world, caller, ids = await opened()
    before_account = world.account(caller.account_id)
    before_states = {cid: world.contact(cid).state for cid in ids}
    history = list(world.data.history)
    created = await services.lists.create(caller, "L", ids)
    await services.lists.remove(caller, created.id, ids[:1])
    await services.lists.delete(caller, created.id)
    assert world.account(caller.account_id) == before_account
    assert {cid: world.contact(cid).state for cid in ids} == before_states
    assert world.data.history == history


async def test_a_status_change_and_a_membership_change_at_once_both_hold() -> None:
    services, world, caller, ids = await opened()
    created = await services.lists.create(caller, "L")
    await asyncio.gather(
        services.statuses.set_marketing_status(caller, ids, MarketingStatus.NON_MARKETING),
        services.lists.add(caller, created.id, ids),
    )
    for cid in ids:
        assert world.contact(cid).state is MarketingState.MARKETING_UNTIL_NEXT_UPDATE
        assert world.contact(cid).list_ids == {created.id}


# ---------------------------------------------------------------- refusals change nothing


@pytest.mark.parametrize("name", ["", "   ", "x" * (MAX_NAME_LENGTH + 1)])
async def test_a_name_outside_1_to_200_characters_is_invalid(name: str) -> None:
    services, world, caller, ids = await opened()
    before = world.snapshot()
    with pytest.raises(DomainError) as refused:
        await services.lists.create(caller, name, ids)
    assert codes_and_fields(refused.value) == [(ErrorCode.INVALID, ("name",))]
    assert world.snapshot() == before


async def test_a_name_of_200_characters_after_stripping_is_fine() -> None:
    services, _, caller, _ = await opened()
    name = "x" * MAX_NAME_LENGTH
    assert (await services.lists.create(caller, f" {name} ")).name == name


async def test_contacts_of_another_account_are_not_found_and_nothing_changes() -> None:
    services, world, caller, ids = await opened()
    stranger = await open_account(services, AccountOpening(name="Stranger"))
    (theirs,) = await make_contacts(services, stranger, 1, prefix="theirs")
    existing = await services.lists.create(caller, "L", ids[:1])
    before = world.snapshot()
    asked = [ids[1], theirs.id, "not-an-id", theirs.id]
    calls = [
        services.lists.create(caller, "New", asked),
        services.lists.add(caller, existing.id, asked),
        services.lists.remove(caller, existing.id, [ids[0], *asked]),
    ]
    expected = [
        [(ErrorCode.NOT_FOUND, ("contact_ids", "1")), (ErrorCode.NOT_FOUND, ("contact_ids", "2"))],
        [(ErrorCode.NOT_FOUND, ("contact_ids", "1")), (ErrorCode.NOT_FOUND, ("contact_ids", "2"))],
        [(ErrorCode.NOT_FOUND, ("contact_ids", "2")), (ErrorCode.NOT_FOUND, ("contact_ids", "3"))],
    ]
    for call, errors in zip(calls, expected, strict=True):
        with pytest.raises(DomainError) as refused:
            await call
        assert codes_and_fields(refused.value) == errors
    assert world.snapshot() == before


async def test_a_list_of_another_account_or_unknown_is_not_found() -> None:
    services, world, caller, ids = await opened()
    stranger = await open_account(services, AccountOpening(name="Stranger"))
    theirs = await services.lists.create(stranger, "Theirs")
    before = world.snapshot()
    for list_id in (theirs.id, "not-an-id", "f" * 24):
        assert await services.lists.get(caller, list_id) is None
        for call in (
            services.lists.add(caller, list_id, ids),
            services.lists.remove(caller, list_id, ids),
        ):
            with pytest.raises(DomainError) as refused:
                await call
            assert codes_and_fields(refused.value) == [(ErrorCode.NOT_FOUND, ("list_id",))]
        with pytest.raises(DomainError) as refused:
            await services.lists.delete(caller, list_id)
        assert codes_and_fields(refused.value) == [(ErrorCode.NOT_FOUND, ("id",))]
    assert world.snapshot() == before
    assert await services.lists.get(stranger, theirs.id) == theirs


async def test_more_than_10000_distinct_ids_is_too_many() -> None:
    services, world, caller, _ = await opened()
    created = await services.lists.create(caller, "L")
    too_many = [f"{n:024x}" for n in range(MAX_LIST_CHANGE + 1)]
    before = world.snapshot()
    for call in (
        services.lists.create(caller, "L2", too_many),
        services.lists.add(caller, created.id, too_many),
        services.lists.remove(caller, created.id, too_many),
    ):
        with pytest.raises(DomainError) as refused:
            await call
        assert codes_and_fields(refused.value) == [(ErrorCode.TOO_MANY, ("contact_ids",))]
    assert world.snapshot() == before


async def test_duplicates_count_once_toward_the_limit() -> None:
    services, world, caller, ids = await opened(2)
    created = await services.lists.create(caller, "L", ids * (MAX_LIST_CHANGE // 2 + 1))
    assert members(world, created.id) == set(ids)


# ---------------------------------------------------------------- delete


async def test_delete_removes_the_list_and_every_membership() -> None:
    services, world, caller, ids = await opened()
    created = await services.lists.create(caller, "L", ids)
    kept = await services.lists.create(caller, "K", ids[:1])
    assert await services.lists.delete(caller, created.id) == created.id
    assert await services.lists.get(caller, created.id) is None
    assert members(world, created.id) == set()
    assert members(world, kept.id) == {ids[0]}
    assert await services.contacts.count(caller, ContactFilter(list_id=created.id)) == 0
    with pytest.raises(DomainError) as refused:
        await services.lists.delete(caller, created.id)
    assert codes_and_fields(refused.value) == [(ErrorCode.NOT_FOUND, ("id",))]


@pytest.mark.parametrize("add_turns", range(8))
@pytest.mark.parametrize("delete_turns", range(3))
async def test_an_add_racing_a_delete_leaves_no_member_of_a_deleted_list(
    add_turns: int, delete_turns: int
) -> None:
    services, world, caller, ids = await opened()
    created = await services.lists.create(caller, "L", ids[:1])
    added, deleted = await asyncio.gather(
        later(add_turns, services.lists.add(caller, created.id, ids)),
        later(delete_turns, services.lists.delete(caller, created.id)),
        return_exceptions=True,
    )
    assert deleted == created.id
    if isinstance(added, BaseException):
        assert codes_and_fields(added) == [(ErrorCode.NOT_FOUND, ("list_id",))]
    else:
        assert added == created
    assert members(world, created.id) == set()


# ---------------------------------------------------------------- pages


async def test_lists_page_newest_first_with_cursors() -> None:
    services, _, caller, _ = await opened(0)
    stranger = await open_account(services, AccountOpening(name="Stranger"))
    await services.lists.create(stranger, "Theirs")
    made = [await services.lists.create(caller, f"L{i}") for i in range(5)]
    seen: list[str] = []
    after = None
    while True:
        page = await services.lists.page(caller, 2, after)
        seen += [item.id for item in page.items]
        if not page.has_next_page:
            break
        after = page.cursors[-1]
    assert seen == [item.id for item in reversed(made)]


@pytest.mark.parametrize(
    ("first", "after", "field"), [(0, None, "first"), (201, None, "first"), (5, "bad", "after")]
)
async def test_bad_page_arguments_are_invalid(first: int, after: str | None, field: str) -> None:
    services, _, caller, _ = await opened(0)
    with pytest.raises(DomainError) as refused:
        await services.lists.page(caller, first, after)
    assert codes_and_fields(refused.value) == [(ErrorCode.INVALID, (field,))]

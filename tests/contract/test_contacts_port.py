"""ContactStore: contacts read back whole and only in their account, pages run in id order with
keyset cursors, every filter field selects the same contacts on both sides, field edits leave
the status to the writer and keep addresses unique."""

from __future__ import annotations

import base64
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from marketing_contacts.domain.accounts import Account, open_account
from marketing_contacts.domain.bulk import Selection
from marketing_contacts.domain.channels import (
    Channel,
    count_audience,
    reachable_conditions,
    reaches,
)
from marketing_contacts.domain.contacts import Contact, LifecycleStage
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import (
    MarketingState,
    MarketingStatus,
    StatusSource,
    StatusSourceType,
)
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import BadCursor
from marketing_contacts.services.ports.contacts import DuplicateEmail
from marketing_contacts.services.ports.lists import ContactList
from marketing_contacts.services.wiring import Ports
from tests.contract.records import (
    all_pages,
    contacts_of,
    items_of,
    moved,
    new_contact,
    store,
    stored_account,
    stored_contacts,
)

N = MarketingState.NON_MARKETING
M = MarketingState.MARKETING
P = MarketingState.MARKETING_UNTIL_NEXT_UPDATE
LEAD, CUSTOMER, OTHER = LifecycleStage.LEAD, LifecycleStage.CUSTOMER, LifecycleStage.OTHER
API, IMPORT, FORM = CreationSource.API, CreationSource.IMPORT, CreationSource.FORM
MARKETING, NON_MARKETING = MarketingStatus.MARKETING, MarketingStatus.NON_MARKETING
MINUTE = timedelta(minutes=1)


async def test_a_contact_reads_back_with_every_field(ports: Ports) -> None:
    account = await stored_account(ports)
    at = ports.clock.now()
    (contact,) = await store(
        ports,
        account,
        new_contact(
            ports,
            account,
            created_via=CreationSource.FORM,
            created_at=at - MINUTE,
            state=P,
            status_source=StatusSource(StatusSourceType.FORM, "form-7"),
            status_changed_at=at,
            email="Ada.Lovelace@Example.com",
            first_name="Ada",
            last_name="Lovelace",
            job_title="Analyst",
            company_name="Engines",
            owner_id="owner-1",
            lifecycle_stage=LifecycleStage.LEAD,
            email_hard_bounced=True,
            unsubscribed_from_all=True,
            pending_since=at,
            status_seq=3,
            list_ids=frozenset({"list-a", "list-b"}),
            company_ids=frozenset({"company-a", "company-b"}),
            primary_company_id="company-b",
        ),
    )
    assert await ports.contacts.get(Scope(account.id), contact.id) == contact
    assert await ports.contacts.get_many(Scope(account.id), [contact.id]) == [contact]


async def test_a_contact_is_found_only_in_its_own_account(ports: Ports) -> None:
    mine, theirs = await stored_account(ports), await stored_account(ports)
    (contact,) = await stored_contacts(ports, mine, 1)
    assert await ports.contacts.get(Scope(theirs.id), contact.id) is None
    assert await ports.contacts.get(Scope(mine.id), ports.ids.new_id()) is None
    assert await ports.contacts.get(Scope(mine.id), "not-an-id") is None
    assert await ports.contacts.get_many(Scope(theirs.id), [contact.id]) == []


async def test_get_many_reads_the_accounts_contacts_among_the_ids(ports: Ports) -> None:
    mine, theirs = await stored_account(ports), await stored_account(ports)
    a, b, c = await stored_contacts(ports, mine, 3)
    (foreign,) = await stored_contacts(ports, theirs, 1)
    found = await ports.contacts.get_many(
        Scope(mine.id), [c.id, a.id, foreign.id, ports.ids.new_id(), "not-an-id", a.id]
    )
    assert sorted(found, key=lambda one: one.id) == [a, c]
    assert await ports.contacts.get_many(Scope(mine.id), []) == []
    assert b not in found


async def test_pages_run_in_id_order_until_the_last_one(ports: Ports) -> None:
    account = await stored_account(ports)
    made = await stored_contacts(ports, account, 7)
    await stored_contacts(ports, await stored_account(ports), 2)

    async def read(first: int, after: str | None) -> object:
        return await ports.contacts.page(Scope(account.id), ContactFilter(), first, after)

    pages = await all_pages(read, 3)
    assert [len(page.items) for page in pages] == [3, 3, 1]
    assert [page.has_next_page for page in pages] == [True, True, False]
    assert [page.has_previous_page for page in pages] == [False] + [True] * (len(pages) - 1)
    assert items_of(pages) == sorted(made, key=lambda c: c.id)
    assert all(len(page.cursors) == len(page.items) for page in pages)
    exact = await all_pages(read, 7)
    assert [(len(p.items), p.has_next_page) for p in exact] == [(7, False)]


async def test_a_cursor_this_connection_did_not_hand_out_is_refused(ports: Ports) -> None:
    account = await stored_account(ports)
    (contact,) = await stored_contacts(ports, account, 1)
    await moved(ports, account, contact, M)
    await ports.lists.insert(ContactList(ports.ids.new_id(), account.id, "A", ports.clock.now()))
    foreign = [
        *(await ports.lists.page(account.id, 1, None)).cursors,
        *(await ports.history.page(account.id, contact.id, 1, None)).cursors,
    ]
    assert len(foreign) == 2
    forged = base64.urlsafe_b64encode(b"contact:not-an-id").decode()
    for cursor in ["%%%", "bm90LWEtY3Vyc29y", contact.id, forged, *foreign]:
        with pytest.raises(BadCursor):
            await ports.contacts.page(Scope(account.id), ContactFilter(), 1, cursor)


async def test_a_cursor_names_no_contact_id_in_the_clear(ports: Ports) -> None:
    account = await stored_account(ports)
    made = await stored_contacts(ports, account, 2)
    page = await ports.contacts.page(Scope(account.id), ContactFilter(), 1, None)
    assert made[0].id not in page.cursors[0]


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class People:
    """Five contacts of one account, each different in every field a filter compares."""

    account: Account
    by_name: dict[str, Contact]
    #: when each was created, in name order: ann, bob, cat, dan, eve
    created: list[datetime]
    lists: tuple[str, str]


async def people(ports: Ports) -> People:
    account = await stored_account(ports)
    base = ports.clock.now() - timedelta(hours=1)
    created = [base + i * MINUTE for i in range(5)]
    one, two = ports.ids.new_id(), ports.ids.new_id()
    rows = {
        # name: email, state, stage, owner, created via, bounced, unsubscribed, lists
        "ann": ("ann@Example.com", M, LEAD, "u1", API, False, False, {one}),
        "bob": ("bob@other.org", N, CUSTOMER, "u2", IMPORT, True, False, set()),
        "cat": ("cat@example.com", P, None, None, FORM, False, True, {one, two}),
        "dan": (None, N, LEAD, "u1", API, False, False, {two}),
        "eve": ("eve@sub.example.com", M, OTHER, "u2", FORM, True, True, set()),
    }
    # C11: first and last names a search finds
    named = {
        "ann": ("Ann", "Smith"),
        "bob": ("Robert", "Annan"),
        "cat": ("Cat", "Émile"),
        "dan": ("Dan", "Smithers"),
        "eve": (None, None),
    }
    by_name = {}
    for i, (name, row) in enumerate(rows.items()):
        email, state, stage, owner, via, bounced, unsubscribed, lists = row
        by_name[name] = new_contact(
            ports,
            account,
            email=email,
            first_name=named[name][0],
            last_name=named[name][1],
            # C2: ann and eve work for one company
            company_ids=frozenset({one}) if name in ("ann", "eve") else frozenset(),
            state=state,
            pending_since=created[i] if state is P else None,
            lifecycle_stage=stage,
            owner_id=owner,
            created_via=via,
            created_at=created[i],
            email_hard_bounced=bounced,
            unsubscribed_from_all=unsubscribed,
            list_ids=frozenset(lists),
        )
    await store(ports, account, *by_name.values())
    await stored_contacts(ports, await stored_account(ports), 2, state=M)  # another account's
    return People(account, by_name, created, (one, two))


def filter_cases() -> list[tuple[str, object, str]]:
    """(case, filter arguments or a builder of them, the names it selects)."""
    return [
        ("nothing set", {}, "ann bob cat dan eve"),
        ("marketing", {"marketing_status": MarketingStatus.MARKETING}, "ann cat eve"),
        ("non-marketing", {"marketing_status": MarketingStatus.NON_MARKETING}, "bob dan"),
        ("pending", {"marketing_until_next_update": True}, "cat"),
        ("not pending", {"marketing_until_next_update": False}, "ann bob dan eve"),
        (
            "marketing, not pending",
            {"marketing_status": MarketingStatus.MARKETING, "marketing_until_next_update": False},
            "ann eve",
        ),
        (
            "non-marketing and pending",
            {
                "marketing_status": MarketingStatus.NON_MARKETING,
                "marketing_until_next_update": True,
            },
            "",
        ),
        ("domain, any case", {"email_domain": "EXAMPLE.com"}, "ann cat"),
        ("domain of none", {"email_domain": "nowhere.org"}, ""),
        ("lifecycle stage", {"lifecycle_stage": LifecycleStage.LEAD}, "ann dan"),
        ("owner", {"owner_id": "u1"}, "ann dan"),
        ("created via", {"created_via": CreationSource.FORM}, "cat eve"),
        ("created after (exclusive)", lambda p: {"created_after": p.created[1]}, "cat dan eve"),
        ("created before (exclusive)", lambda p: {"created_before": p.created[1]}, "ann"),
        (
            "created between",
            lambda p: {"created_after": p.created[0], "created_before": p.created[3]},
            "bob cat",
        ),
        ("hard-bounced", {"email_hard_bounced": True}, "bob eve"),
        ("not hard-bounced", {"email_hard_bounced": False}, "ann cat dan"),
        ("unsubscribed", {"unsubscribed_from_all": True}, "cat eve"),
        ("subscribed", {"unsubscribed_from_all": False}, "ann bob dan"),
        ("in a list", lambda p: {"list_id": p.lists[0]}, "ann cat"),
        ("in another list", lambda p: {"list_id": p.lists[1]}, "cat dan"),
        ("in no such list", {"list_id": "no-such-list"}, ""),
        ("unengaged", {"unengaged": True}, "bob cat eve"),
        ("engaged", {"unengaged": False}, "ann dan"),
        ("engaged yet hard-bounced", {"unengaged": False, "email_hard_bounced": True}, ""),
        ("unengaged, not bounced", {"unengaged": True, "email_hard_bounced": False}, "cat"),
        (
            "unengaged marketing",
            {"unengaged": True, "marketing_status": MarketingStatus.MARKETING},
            "cat eve",
        ),
        (
            "a list and a stage",
            lambda p: {"list_id": p.lists[1], "lifecycle_stage": LifecycleStage.LEAD},
            "dan",
        ),
        # C2: associated with a company (the people's first list id stands for its id)
        ("a company's", lambda p: {"company_id": p.lists[0]}, "ann eve"),
        ("no such company's", {"company_id": "no-such-company"}, ""),
        # C5: a deal's contacts, by their ids (an id of no contact selects nothing)
        (
            "among ids",
            lambda p: {
                "ids": frozenset(
                    [c.id for n, c in p.by_name.items() if n in ("bob", "eve")] + ["0" * 24]
                )
            },
            "bob eve",
        ),
        ("among no ids", {"ids": frozenset()}, ""),
        (
            "among ids and a status",
            lambda p: {
                "ids": frozenset(c.id for c in p.by_name.values()),
                "marketing_status": MarketingStatus.NON_MARKETING,
            },
            "bob dan",
        ),
        # C11: a prefix of the email, the first name or the last name, in any case
        ("search, every field it reads", {"search": "ann"}, "ann bob"),
        ("search, any case", {"search": "SMITH"}, "ann dan"),
        ("search, a prefix only", {"search": "mith"}, ""),
        ("search, an address", {"search": "cat@ex"}, "cat"),
        ("search, past a word", {"search": "Smithersons"}, ""),
        ("search, accented", {"search": "ÉMI"}, "cat"),
        ("search, trimmed", {"search": "  eve@sub "}, "eve"),
        ("search, blank", {"search": "  "}, "ann bob cat dan eve"),
        ("search and an owner", {"search": "smith", "owner_id": "u1"}, "ann dan"),
        (
            "search and the status",
            {"search": "smith", "marketing_status": MarketingStatus.MARKETING},
            "ann",
        ),
    ]


def test_every_field_of_a_filter_has_a_case() -> None:
    """A field added to ContactFilter gets its cases here, or this fails."""
    at = datetime(2025, 1, 1, tzinfo=UTC)
    nobody = open_account(id="0" * 24, name="Nobody", now=at)
    stand_in = People(nobody, {}, [at] * 5, ("list-1", "list-2"))
    covered = {
        name
        for _, arguments, _ in filter_cases()
        for name, value in vars(filter_of(arguments, stand_in)).items()
        if value is not None
    }
    assert covered == {f.name for f in fields(ContactFilter)}


def filter_of(arguments: object, found: People) -> ContactFilter:
    values = arguments(found) if callable(arguments) else arguments
    assert isinstance(values, dict)
    return ContactFilter(**values)


def names(found: People, contacts: list[Contact]) -> str:
    named = {contact.id: name for name, contact in found.by_name.items()}
    return " ".join(sorted(named[contact.id] for contact in contacts))


@pytest.mark.parametrize(
    ("arguments", "selected"),
    [pytest.param(arguments, selected, id=case) for case, arguments, selected in filter_cases()],
)
async def test_a_filter_selects_the_contacts_that_meet_every_field_it_sets(
    ports: Ports, arguments: object, selected: str
) -> None:
    found = await people(ports)
    where = filter_of(arguments, found)
    account_id = found.account.id
    page = await ports.contacts.page(Scope(account_id), where, 200, None)
    assert names(found, page.items) == selected
    assert page.items == sorted((found.by_name[n] for n in selected.split()), key=lambda c: c.id)
    assert await ports.contacts.count(Scope(account_id), where) == len(page.items)


async def test_pages_of_a_filter_skip_what_it_does_not_select(ports: Ports) -> None:
    found = await people(ports)
    where = ContactFilter(marketing_until_next_update=False)

    async def read(first: int, after: str | None) -> object:
        return await ports.contacts.page(Scope(found.account.id), where, first, after)

    pages = await all_pages(read, 1)
    assert names(found, items_of(pages)) == "ann bob dan eve"
    assert [page.has_next_page for page in pages] == [True, True, True, False]


# ---------------------------------------------------------------- selections


@pytest.mark.parametrize(
    ("selection_of", "by_state"),
    [
        pytest.param(lambda p: Selection(ids=(p.by_name["ann"].id, p.by_name["bob"].id,
                     "not-an-id", p.by_name["ann"].id)), {M: 1, N: 1}, id="ids"),
        pytest.param(lambda p: Selection(filter=ContactFilter(created_via=CreationSource.FORM)),
                     {P: 1, M: 1}, id="filter"),
        pytest.param(lambda p: Selection(list_id=p.lists[1]), {P: 1, N: 1}, id="list"),
        pytest.param(lambda p: Selection(unengaged=True), {P: 1, M: 1}, id="unengaged"),
    ],
)  # fmt: skip
async def test_a_selection_is_counted_by_state(
    ports: Ports, selection_of: object, by_state: dict[MarketingState, int]
) -> None:
    found = await people(ports)
    assert callable(selection_of)
    selection = selection_of(found)
    assert await ports.contacts.count_by_state(Scope(found.account.id), selection) == by_state


async def test_a_selection_counts_only_contacts_created_by_the_instant_given(
    ports: Ports,
) -> None:
    found = await people(ports)
    everyone = Selection(filter=ContactFilter())
    count = ports.contacts.count_by_state
    assert await count(Scope(found.account.id), everyone, found.created[2]) == {M: 1, N: 1, P: 1}
    assert await count(Scope(found.account.id), everyone, found.created[0]) == {M: 1}
    assert await count(Scope(found.account.id), everyone, found.created[0] - MINUTE) == {}
    assert await count(Scope(found.account.id), everyone) == {M: 2, N: 2, P: 1}


# ---------------------------------------------------------------- field edits


async def test_an_edit_writes_the_fields_that_differ(ports: Ports) -> None:
    account = await stored_account(ports)
    (contact,) = await stored_contacts(ports, account, 1)
    edited = replace(
        contact,
        email="new@elsewhere.org",
        first_name="Ada",
        owner_id="owner-9",
        lifecycle_stage=LifecycleStage.CUSTOMER,
        email_hard_bounced=True,
        updated_at=contact.updated_at + MINUTE,
    )
    await ports.contacts.update_fields(contact, edited)
    assert await ports.contacts.get(Scope(account.id), contact.id) == edited
    by_domain = await ports.contacts.page(
        Scope(account.id), ContactFilter(email_domain="elsewhere.org"), 10, None
    )
    assert by_domain.items == [edited]


async def test_c11_an_edit_is_found_by_its_new_name_at_once_and_no_longer_by_the_old(
    ports: Ports,
) -> None:
    account = await stored_account(ports)
    (contact,) = await store(
        ports, account, new_contact(ports, account, email="ada@one.org", last_name="Byron")
    )
    edited = replace(contact, email="ada@two.org", last_name="Lovelace")
    await ports.contacts.update_fields(contact, edited)

    async def found(prefix: str) -> list[Contact]:
        page = await ports.contacts.page(Scope(account.id), ContactFilter(search=prefix), 10, None)
        return page.items

    assert await found("love") == [edited]
    assert await found("ada@two") == [edited]
    assert await found("byron") == []
    assert await found("ada@one") == []


async def test_an_edit_keeps_what_another_writer_changed_meanwhile(ports: Ports) -> None:
    account = await stored_account(ports)
    (contact,) = await stored_contacts(ports, account, 1)
    _, update = await moved(ports, account, contact, M)
    await ports.contacts.update_fields(contact, replace(contact, first_name="Ada"))
    assert await ports.contacts.get(Scope(account.id), contact.id) == replace(
        update.after, first_name="Ada"
    )


async def test_an_edit_leaves_the_status_to_the_writer(ports: Ports) -> None:
    account = await stored_account(ports)
    (contact,) = await stored_contacts(ports, account, 1)
    claimed = replace(
        contact,
        first_name="Ada",
        state=M,
        status_source=StatusSource(StatusSourceType.FORM, "form-1"),
        status_changed_at=contact.status_changed_at + MINUTE,
        pending_since=contact.status_changed_at,
        status_seq=contact.status_seq + 1,
    )
    await ports.contacts.update_fields(contact, claimed)
    assert await ports.contacts.get(Scope(account.id), contact.id) == replace(
        contact, first_name="Ada"
    )


async def test_an_edit_to_an_address_taken_in_the_account_is_refused(ports: Ports) -> None:
    mine, theirs = await stored_account(ports), await stored_account(ports)
    a, b = await store(
        ports,
        mine,
        new_contact(ports, mine, email="ann@example.com"),
        new_contact(ports, mine, email="bob@example.com"),
    )
    (foreign,) = await store(ports, theirs, new_contact(ports, theirs, email="eve@example.com"))
    with pytest.raises(DuplicateEmail):
        await ports.contacts.update_fields(b, replace(b, email="ANN@example.com", first_name="B"))
    assert await ports.contacts.get(Scope(mine.id), b.id) == b
    await ports.contacts.update_fields(a, replace(a, email="Ann@Example.com"))
    await ports.contacts.update_fields(b, replace(b, email="eve@example.com"))
    await ports.contacts.update_fields(foreign, replace(foreign, email="bob@example.com"))
    assert [c.email for c in await contacts_of(ports, mine.id)] == [
        "Ann@Example.com",
        "eve@example.com",
    ]


async def test_an_edit_that_changes_no_field_writes_nothing(ports: Ports) -> None:
    account = await stored_account(ports)
    (contact,) = await stored_contacts(ports, account, 1)
    await ports.contacts.update_fields(contact, contact)
    await ports.contacts.update_fields(contact, replace(contact, state=M))
    assert await ports.contacts.get(Scope(account.id), contact.id) == contact


async def test_an_edit_of_a_contact_that_went_writes_nothing(ports: Ports) -> None:
    account = await stored_account(ports)
    ghost = new_contact(ports, account, email="ghost@example.com")
    await ports.contacts.update_fields(ghost, replace(ghost, first_name="Boo"))
    assert await contacts_of(ports, account.id) == []


# ---------------------------------------------------------------- pending contacts


async def test_pending_before_finds_contacts_pending_since_before_the_instant(
    ports: Ports,
) -> None:
    account = await stored_account(ports)
    at = ports.clock.now() - timedelta(hours=1)
    early, late = await store(
        ports,
        account,
        new_contact(ports, account, state=P, pending_since=at),
        new_contact(ports, account, state=P, pending_since=at + MINUTE),
    )
    await store(
        ports,
        account,
        new_contact(ports, account, state=M),
        new_contact(ports, account, state=N),
    )
    other = await stored_account(ports)
    await store(ports, other, new_contact(ports, other, state=P, pending_since=at))
    pending = ports.contacts.pending_before
    assert await pending(account.id, at, 10) == []
    assert await pending(account.id, at + MINUTE, 10) == [early]
    assert sorted(await pending(account.id, at + 2 * MINUTE, 10), key=lambda c: c.id) == [
        early,
        late,
    ]
    (one,) = await pending(account.id, at + 2 * MINUTE, 1)
    assert one in (early, late)


async def test_p3_a_scope_of_owners_sees_their_contacts_only_in_every_read(ports: Ports) -> None:
    """The visibility filter on both sides: by id, many ids, pages, counts and counts by state;
    a contact without an owner is seen only by a scope of the whole account."""
    account = await stored_account(ports)
    made = await store(
        ports,
        account,
        *(
            new_contact(ports, account, owner_id=owner, state=state)
            for owner, state in [("u1", M), ("u2", N), ("u3", M), (None, P), ("u1", N)]
        ),
    )
    ids = [c.id for c in made]
    scopes = {
        "whole": (Scope(account.id), ids),
        "u1": (Scope(account.id, frozenset({"u1"})), [ids[0], ids[4]]),
        "team": (Scope(account.id, frozenset({"u1", "u2"})), [ids[0], ids[1], ids[4]]),
        "none": (Scope(account.id, frozenset()), []),
    }
    for name, (scope, seen) in scopes.items():
        pages = await all_pages(partial(ports.contacts.page, scope, ContactFilter()), 2)
        assert [c.id for c in items_of(pages)] == seen, name
        assert await ports.contacts.count(scope, ContactFilter()) == len(seen), name
        found = await ports.contacts.get_many(scope, ids)
        assert sorted(c.id for c in found) == sorted(seen), name
        assert [await ports.contacts.get(scope, cid) is not None for cid in ids] == [
            cid in seen for cid in ids
        ], name
        by_state = await ports.contacts.count_by_state(scope, Selection(filter=ContactFilter()))
        expected: dict[MarketingState, int] = {}
        for contact in made:
            if contact.id in seen:
                expected[contact.state] = expected.get(contact.state, 0) + 1
        assert by_state == expected, name
    # the scope and a filter on an owner together: what both allow
    u1 = scopes["u1"][0]
    assert await ports.contacts.count(u1, ContactFilter(owner_id="u2")) == 0
    assert await ports.contacts.count(u1, ContactFilter(owner_id="u1")) == 2
    assert await ports.contacts.count(u1, ContactFilter(marketing_status=MARKETING)) == 1


# ---------------------------------------------------------------- channel audiences (H1, H2)


async def every_kind(ports: Ports) -> tuple[Account, list[Contact]]:
    """A contact in every state, bounced or not, unsubscribed or not, with an address or
    not (24); the ones with an address on a list, every other one owned by u1."""
    account = await stored_account(ports)
    at = ports.clock.now()
    made = [
        new_contact(
            ports,
            account,
            state=state,
            pending_since=at if state is P else None,
            email=f"kind-{i}@example.com" if has_email else None,
            email_hard_bounced=bounced,
            unsubscribed_from_all=unsubscribed,
            owner_id="u1" if i % 2 else None,
            list_ids=frozenset({"list-1"}) if has_email else frozenset(),
        )
        for i, (state, has_email, bounced, unsubscribed) in enumerate(
            (state, has_email, bounced, unsubscribed)
            for state in (N, M, P)
            for has_email in (True, False)
            for bounced in (False, True)
            for unsubscribed in (False, True)
        )
    ]
    return account, await store(ports, account, *made)


@pytest.mark.parametrize("channel", list(Channel))
async def test_h1_h2_an_audience_counts_each_reason_as_the_domain_decides_it(
    ports: Ports, channel: Channel
) -> None:
    """One aggregation counts what count_audience counts contact by contact, for the whole
    account, a list, some ids and a scope of owners (P3); the reachable page lists the
    contacts the channel reaches, in id order."""
    account, made = await every_kind(ports)
    some = [c.id for c in made[::3]]
    selections = {
        "everyone": (Scope(account.id), Selection(filter=ContactFilter()), made),
        "list": (Scope(account.id), Selection(list_id="list-1"), [c for c in made if c.email]),
        "ids": (Scope(account.id), Selection(ids=(*some, "not-an-id")), made[::3]),
        "owner": (
            Scope(account.id, frozenset({"u1"})),
            Selection(filter=ContactFilter()),
            [c for c in made if c.owner_id == "u1"],
        ),
    }
    for name, (scope, selection, selected) in selections.items():
        counted = await ports.contacts.audience_counts(scope, selection, channel)
        assert counted == count_audience(channel, selected), name
        pages = await all_pages(
            partial(
                ports.contacts.page_of_selection, scope, selection, reachable_conditions(channel)
            ),
            5,
        )
        reached = sorted(c.id for c in selected if reaches(channel, c))
        assert [c.id for c in items_of(pages)] == reached, name


async def test_h1_an_audience_of_nothing_counts_zeros(ports: Ports) -> None:
    account = await stored_account(ports)
    selection = Selection(filter=ContactFilter())
    counted = await ports.contacts.audience_counts(
        Scope(account.id), selection, Channel.MARKETING_EMAIL
    )
    assert counted == count_audience(Channel.MARKETING_EMAIL, [])

"""C10 Merge, the pure part: the merged state (M over P over N) for every pair of states, the
merged contact's fields, associations and history numbering, and T1: the counts moved by a
merge's transitions always equal a recount, whatever merges follow one another."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketing_contacts.domain.accounts import open_account
from marketing_contacts.domain.changes import plan_usage_change
from marketing_contacts.domain.contacts import Contact, LifecycleStage
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.merge import (
    check_distinct,
    later_stage,
    merge_contacts,
    merged_companies,
    merged_state,
)
from marketing_contacts.domain.statuses import MarketingState, StatusSource, StatusSourceType
from marketing_contacts.domain.tiers import Ladder, UpgradePolicy
from marketing_contacts.domain.usage import UsageCounts

N = MarketingState.NON_MARKETING
M = MarketingState.MARKETING
P = MarketingState.MARKETING_UNTIL_NEXT_UPDATE
CREATED = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
NOW = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)
BY_USER = StatusSource(StatusSourceType.USER, "user-1")
STAGES = LifecycleStage


def contact(
    contact_id: str,
    state: MarketingState = N,
    *,
    status_seq: int = 1,
    pending_since: datetime | None = None,
    **fields: object,
) -> Contact:
    """A contact of account-1 in `state` after `status_seq` changes; a pending one became
    pending at its creation unless told otherwise."""
    if state is P and pending_since is None:
        pending_since = CREATED
    values: dict[str, object] = {
        "created_via": CreationSource.API,
        "created_at": CREATED,
        "updated_at": CREATED,
        "status_source": BY_USER,
        "status_changed_at": CREATED,
        **fields,
    }
    return Contact(
        id=contact_id,
        account_id="account-1",
        state=state,
        status_seq=status_seq,
        pending_since=pending_since,
        **values,  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------- the merged state


#: (primary, secondary) -> the merged state, for each of the 9 pairs
STATES = [
    (N, N, N),
    (N, P, P),
    (N, M, M),
    (P, N, P),
    (P, P, P),
    (P, M, M),
    (M, N, M),
    (M, P, M),
    (M, M, M),
]


@pytest.mark.parametrize(("primary", "secondary", "merged"), STATES)
def test_c10_the_merged_state_is_the_stronger_m_over_p_over_n(
    primary: MarketingState, secondary: MarketingState, merged: MarketingState
) -> None:
    assert merged_state(primary, secondary) is merged


@pytest.mark.parametrize(("primary", "secondary", "merged"), STATES)
def test_c10_t1_a_merge_moves_the_counts_to_a_recount_of_what_remains(
    primary: MarketingState, secondary: MarketingState, merged: MarketingState
) -> None:
    merge = merge_contacts(contact("p", primary), contact("s", secondary), NOW)
    assert merge.contact.state is merged
    counts = UsageCounts.of([primary, secondary])
    for transition in merge.transitions:
        counts = counts.apply(transition)
    assert counts == UsageCounts.of([merged])
    # a merge never makes a marketing contact more (T1: no upgrade, no alert)
    assert counts.marketing <= UsageCounts.of([primary, secondary]).marketing


@pytest.mark.parametrize(("primary", "secondary", "merged"), STATES)
def test_c10_histories_combine_and_a_change_of_state_names_the_merge(
    primary: MarketingState, secondary: MarketingState, merged: MarketingState
) -> None:
    merge = merge_contacts(
        contact("p", primary, status_seq=3), contact("s", secondary, status_seq=2), NOW
    )
    after = merge.contact
    if merged is primary:
        # the secondary's two entries are numbered after the primary's three; no entry more
        assert (after.status_seq, merge.history) == (5, ())
        assert (after.status_source, after.status_changed_at) == (BY_USER, CREATED)
        return
    (entry,) = merge.history
    assert (entry.contact_id, entry.seq) == ("p", 6) == (after.id, after.status_seq)
    change = entry.change
    assert (change.from_state, change.to_state, change.at) == (primary, merged, NOW)
    assert change.source == StatusSource(StatusSourceType.MERGE, "s") == after.status_source
    assert after.status_changed_at == NOW


@pytest.mark.parametrize(
    ("primary", "secondary", "pending_since"),
    [
        # the secondary's pending time comes with its P
        (contact("p", N), contact("s", P, pending_since=CREATED), CREATED),
        # two pending: the earlier
        (
            contact("p", P, pending_since=CREATED + timedelta(days=2)),
            contact("s", P, pending_since=CREATED),
            CREATED,
        ),
        (
            contact("p", P, pending_since=CREATED),
            contact("s", P, pending_since=CREATED + timedelta(days=2)),
            CREATED,
        ),
        # the primary's own P stays as it was
        (contact("p", P, pending_since=CREATED), contact("s", N), CREATED),
        # M wins: nothing is pending
        (contact("p", P), contact("s", M), None),
        (contact("p", M), contact("s", P), None),
    ],
)
def test_c10_a_merged_pending_contact_leaves_at_the_update_date_due_for_it(
    primary: Contact, secondary: Contact, pending_since: datetime | None
) -> None:
    assert merge_contacts(primary, secondary, NOW).contact.pending_since == pending_since


# ---------------------------------------------------------------- fields


def test_c10_the_primarys_fields_stay_and_its_empty_ones_come_from_the_secondary() -> None:
    primary = contact("p", email="ada@example.com", first_name="Ada", last_name="", owner_id=None)
    secondary = contact(
        "s",
        email="ada@work.example",
        first_name="Augusta",
        last_name="Lovelace",
        job_title="Countess",
        owner_id="user-2",
        created_via=CreationSource.IMPORT,
    )
    merged = merge_contacts(primary, secondary, NOW).contact
    assert (merged.id, merged.email, merged.first_name) == ("p", "ada@example.com", "Ada")
    assert (merged.last_name, merged.job_title, merged.owner_id) == (
        "Lovelace",
        "Countess",
        "user-2",
    )
    assert (merged.created_via, merged.created_at, merged.updated_at) == (
        CreationSource.API,
        CREATED,
        NOW,
    )


@pytest.mark.parametrize(
    ("primary", "secondary", "merged"),
    [
        (STAGES.LEAD, STAGES.CUSTOMER, STAGES.CUSTOMER),
        (STAGES.CUSTOMER, STAGES.LEAD, STAGES.CUSTOMER),
        (STAGES.OTHER, STAGES.SUBSCRIBER, STAGES.SUBSCRIBER),
        (STAGES.EVANGELIST, STAGES.OTHER, STAGES.EVANGELIST),
        (None, STAGES.OTHER, STAGES.OTHER),
        (STAGES.LEAD, None, STAGES.LEAD),
        (None, None, None),
    ],
)
def test_c10_c3_the_stage_is_the_later_with_other_below_every_ranked_one(
    primary: LifecycleStage | None, secondary: LifecycleStage | None, merged: LifecycleStage | None
) -> None:
    assert later_stage(primary, secondary) is merged
    merge = merge_contacts(
        contact("p", lifecycle_stage=primary), contact("s", lifecycle_stage=secondary), NOW
    )
    assert merge.contact.lifecycle_stage is merged


@pytest.mark.parametrize(
    ("primary", "secondary", "merged"),
    [(False, False, False), (True, False, True), (False, True, True), (True, True, True)],
)
def test_c10_s6_a_bounce_or_an_unsubscribe_of_either_holds(
    primary: bool, secondary: bool, merged: bool
) -> None:
    merge = merge_contacts(
        contact("p", email_hard_bounced=primary, unsubscribed_from_all=secondary),
        contact("s", email_hard_bounced=secondary, unsubscribed_from_all=primary),
        NOW,
    )
    assert (merge.contact.email_hard_bounced, merge.contact.unsubscribed_from_all) == (
        merged,
        merged,
    )


def test_c10_c12_the_activity_dates_are_the_later_of_each() -> None:
    early, late = CREATED, CREATED + timedelta(days=3)
    merge = merge_contacts(
        contact("p", last_activity_at=late, last_contacted_at=None),
        contact("s", last_activity_at=early, last_contacted_at=early),
        NOW,
    )
    assert (merge.contact.last_activity_at, merge.contact.last_contacted_at) == (late, early)


# ---------------------------------------------------------------- associations and identity


def test_c10_lists_are_combined() -> None:
    merge = merge_contacts(
        contact("p", list_ids=frozenset({"a", "b"})),
        contact("s", list_ids=frozenset({"b", "c"})),
        NOW,
    )
    assert merge.contact.list_ids == {"a", "b", "c"}


@pytest.mark.parametrize(
    ("primary", "secondary", "companies", "main"),
    [
        # the primary's primary company stays
        ((frozenset({"a", "b"}), "a"), (frozenset({"b", "c"}), "c"), {"a", "b", "c"}, "a"),
        # a primary without one takes the secondary's
        ((frozenset({"a"}), None), (frozenset({"c", "d"}), "d"), {"a", "c", "d"}, "d"),
        ((frozenset(), None), (frozenset(), None), set(), None),
        # past the limit (3 here): the primary's first, then the secondary's primary, then id order
        ((frozenset({"a", "b"}), None), (frozenset({"c", "d", "e"}), "e"), {"a", "b", "e"}, "e"),
        ((frozenset({"a"}), "a"), (frozenset({"d", "c", "b"}), None), {"a", "b", "c"}, "a"),
        ((frozenset({"a", "b", "c"}), None), (frozenset({"d"}), "d"), {"a", "b", "c"}, None),
    ],
)
def test_c10_c2_companies_are_combined_up_to_the_limit_the_primary_first(
    primary: tuple[frozenset[str], str | None],
    secondary: tuple[frozenset[str], str | None],
    companies: set[str],
    main: str | None,
) -> None:
    one = contact("p", company_ids=primary[0], primary_company_id=primary[1])
    other = contact("s", company_ids=secondary[0], primary_company_id=secondary[1])
    kept, kept_main = merged_companies(one, other, limit=3)
    assert (set(kept), kept_main) == (companies, main)


def test_c10_merged_ids_and_addresses_follow_the_merges_before() -> None:
    earlier = merge_contacts(
        contact("s", email="old@example.com"), contact("t", email="Third@Example.com"), NOW
    ).contact
    merge = merge_contacts(
        contact(
            "p", email="ada@example.com", merged_ids=("q",), merged_emails=frozenset({"q@x.io"})
        ),
        earlier,
        NOW,
    )
    assert earlier.merged_ids == ("t",)
    assert merge.contact.merged_ids == ("q", "s", "t")
    assert merge.contact.merged_emails == {"q@x.io", "old@example.com", "third@example.com"}


def test_c10_a_primary_without_an_address_takes_the_secondarys_as_its_own() -> None:
    merge = merge_contacts(contact("p"), contact("s", email="Ada@Example.com"), NOW)
    assert (merge.contact.email, merge.contact.merged_emails) == ("Ada@Example.com", frozenset())


def test_c10_a_contact_is_not_merged_with_itself() -> None:
    check_distinct("p", "s")
    with pytest.raises(DomainError) as refused:
        check_distinct("p", "p")
    assert [(e.code, e.field) for e in refused.value.errors] == [
        (ErrorCode.INVALID, ("secondary_id",))
    ]


# ---------------------------------------------------------------- T1 over many merges


@settings(max_examples=300, deadline=None)
@given(
    states=st.lists(st.sampled_from([N, P, M]), min_size=2, max_size=12),
    picks=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 10)), max_size=11),
    policy=st.sampled_from(list(UpgradePolicy)),
)
def test_c10_t1_any_merges_of_any_contacts_keep_the_counts_a_recount(
    states: list[MarketingState], picks: list[tuple[int, int]], policy: UpgradePolicy
) -> None:
    """Counters moved by each merge's transitions, planned against a tier the contacts fill,
    always equal a recount of the contacts left; no merge upgrades, blocks or alerts."""
    remaining = [contact(f"c{n}", state) for n, state in enumerate(states)]
    account = replace(
        open_account(id="account-1", name="Acme", now=CREATED),
        counts=UsageCounts.of(states),
        ladder=Ladder(1, 1, Decimal("1.00"), Decimal("1.00")),
        tier_limit=max(UsageCounts.of(states).marketing, 1),
        upgrade_policy=policy,
    )
    for first, second in picks:
        if len(remaining) < 2:
            break
        primary = remaining.pop(first % len(remaining))
        secondary = remaining.pop(second % len(remaining))
        merge = merge_contacts(primary, secondary, NOW)
        change = plan_usage_change(account, merge.transitions, NOW)
        assert not change.blocked and change.tier_change is None and change.alerts == ()
        account = change.account
        remaining.append(merge.contact)
        assert account.counts == UsageCounts.of([c.state for c in remaining])

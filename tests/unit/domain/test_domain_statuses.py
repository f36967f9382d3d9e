"""Marketing status: states, transitions, provenance, permissions (S1-S7 in docs/rules.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from marketing_contacts.domain.contacts import (
    Contact,
    apply_update_date_to,
    change_status,
)
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.permissions import check_status_permission
from marketing_contacts.domain.statuses import (
    SYSTEM_SOURCE_TYPES,
    MarketingState,
    MarketingStatus,
    StatusSource,
    StatusSourceType,
    check_claimable_source,
    decide_status_change,
    state_after_update_date,
)
from marketing_contacts.domain.tiers import Edition
from marketing_contacts.domain.usage import Transition, UsageCounts

N = MarketingState.NON_MARKETING
M = MarketingState.MARKETING
P = MarketingState.MARKETING_UNTIL_NEXT_UPDATE
MARKETING = MarketingStatus.MARKETING
NON_MARKETING = MarketingStatus.NON_MARKETING

CREATED = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
NOW = datetime(2024, 3, 10, 9, 30, tzinfo=UTC)
#: the next update date (1 April 2024) starting at 00:00 UTC
UPDATE_STARTS = datetime(2024, 4, 1, 0, 0, tzinfo=UTC)
BY_USER = StatusSource(StatusSourceType.USER, "user-7")
BY_UPDATE_DATE = StatusSource(StatusSourceType.UPDATE_DATE)


def make_contact(state: MarketingState, *, pending_since: datetime | None = None) -> Contact:
    """A contact in `state`; a pending one became pending at creation unless told otherwise."""
    if state is P and pending_since is None:
        pending_since = CREATED
    return Contact(
        id="contact-1",
        account_id="account-1",
        created_via=CreationSource.MANUAL,
        created_at=CREATED,
        updated_at=CREATED,
        state=state,
        status_source=StatusSource(StatusSourceType.CREATION_DEFAULT),
        status_changed_at=CREATED,
        email="ada@example.com",
        pending_since=pending_since,
    )


# ---------------------------------------------------------------- S1


@pytest.mark.parametrize(
    ("state", "status", "pending", "counts"),
    [
        (N, NON_MARKETING, False, False),
        (M, MARKETING, False, True),
        (P, MARKETING, True, True),
    ],
)
def test_s1_each_state_shows_its_status_and_pending_flag(
    state: MarketingState, status: MarketingStatus, pending: bool, counts: bool
) -> None:
    contact = make_contact(state)
    assert contact.marketing_status is status
    assert contact.marketing_until_next_update is pending
    assert state.counts_toward_tier is counts


def test_s1_exactly_three_states_and_never_non_marketing_pending() -> None:
    shown = {(state.status, state.marketing_until_next_update) for state in MarketingState}
    assert shown == {(NON_MARKETING, False), (MARKETING, False), (MARKETING, True)}
    assert (NON_MARKETING, True) not in shown


# ---------------------------------------------------------------- S2


@pytest.mark.parametrize(
    ("before", "target", "after"),
    [
        pytest.param(N, MARKETING, M, id="N-set_MARKETING-M"),
        pytest.param(P, MARKETING, M, id="P-set_MARKETING-M"),
        pytest.param(M, MARKETING, None, id="M-set_MARKETING-noop"),
        pytest.param(M, NON_MARKETING, P, id="M-set_NON_MARKETING-P"),
        pytest.param(P, NON_MARKETING, None, id="P-set_NON_MARKETING-noop"),
        pytest.param(N, NON_MARKETING, None, id="N-set_NON_MARKETING-noop"),
    ],
)
def test_s2_decide_status_change_full_table(
    before: MarketingState, target: MarketingStatus, after: MarketingState | None
) -> None:
    assert decide_status_change(before, target) is after


@pytest.mark.parametrize(
    ("before", "target", "after", "marketing_delta", "pending_delta"),
    [
        # N -> M counts at once
        pytest.param(N, MARKETING, M, 1, 0, id="N-set_MARKETING-M"),
        # P -> M clears the pending flag; the marketing count does not change
        pytest.param(P, MARKETING, M, 0, -1, id="P-set_MARKETING-M"),
        # M -> P: the count does not change until the update date
        pytest.param(M, NON_MARKETING, P, 0, 1, id="M-set_NON_MARKETING-P"),
    ],
)
def test_s2_set_status_moves_state_and_counts(
    before: MarketingState,
    target: MarketingStatus,
    after: MarketingState,
    marketing_delta: int,
    pending_delta: int,
) -> None:
    contact = make_contact(before)
    update = change_status(contact, target, BY_USER, NOW)

    assert update is not None
    assert update.before == contact
    assert update.after.state is after
    start = UsageCounts.of([before])
    moved = start.apply(Transition(contact.id, before, update.after.state))
    assert moved.marketing - start.marketing == marketing_delta
    assert moved.pending - start.pending == pending_delta
    assert moved.total == start.total


@pytest.mark.parametrize(
    ("before", "target"),
    [
        pytest.param(M, MARKETING, id="M-set_MARKETING"),
        pytest.param(P, NON_MARKETING, id="P-set_NON_MARKETING"),
        pytest.param(N, NON_MARKETING, id="N-set_NON_MARKETING"),
    ],
)
def test_s2_no_op_rows_change_nothing(before: MarketingState, target: MarketingStatus) -> None:
    assert change_status(make_contact(before), target, BY_USER, NOW) is None


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(P, N, id="P-update_date-N"),
        pytest.param(M, None, id="M-update_date-same"),
        pytest.param(N, None, id="N-update_date-same"),
    ],
)
def test_s2_update_date_table(before: MarketingState, after: MarketingState | None) -> None:
    assert state_after_update_date(before) is after
    update = apply_update_date_to(make_contact(before), UPDATE_STARTS, BY_UPDATE_DATE)
    if after is None:
        assert update is None
    else:
        assert update is not None
        assert update.after.state is after
        assert update.after.status_source == BY_UPDATE_DATE
        # the count drops
        assert Transition("contact-1", before, after).marketing_delta == -1


@pytest.mark.parametrize(
    ("before", "marketing_delta"),
    [
        pytest.param(M, -1, id="M-delete"),
        pytest.param(P, -1, id="P-delete"),
        pytest.param(N, 0, id="N-delete"),
    ],
)
def test_s2_delete_leaves_the_count_at_once(before: MarketingState, marketing_delta: int) -> None:
    deleted = Transition("contact-1", before, None)
    assert deleted.marketing_delta == marketing_delta
    assert UsageCounts.of([before, M]).apply(deleted) == UsageCounts.of([M])


# ---------------------------------------------------------------- S3


def test_s3_no_early_exit_marketing_stays_counted_whatever_the_requests() -> None:
    contact = make_contact(M)
    for target in [NON_MARKETING, NON_MARKETING, MARKETING, NON_MARKETING, NON_MARKETING]:
        update = change_status(contact, target, BY_USER, NOW)
        if update is not None:
            contact = update.after
        assert contact.state is not N
        assert contact.state.counts_toward_tier
    assert contact.state is P


def test_s3_no_early_exit_pending_since_after_the_update_date_waits_for_the_next_one() -> None:
    # Became pending after the update date started (the worker had not run yet): that change
    # belongs to the new period, so this update date leaves the contact marketing.
    late = make_contact(P, pending_since=UPDATE_STARTS + timedelta(minutes=5))
    assert apply_update_date_to(late, UPDATE_STARTS, BY_UPDATE_DATE) is None
    at_the_instant = make_contact(P, pending_since=UPDATE_STARTS)
    assert apply_update_date_to(at_the_instant, UPDATE_STARTS, BY_UPDATE_DATE) is None
    just_before = make_contact(P, pending_since=UPDATE_STARTS - timedelta(microseconds=1))
    update = apply_update_date_to(just_before, UPDATE_STARTS, BY_UPDATE_DATE)
    assert update is not None
    assert update.after.state is N


# ---------------------------------------------------------------- S4


def test_s4_provenance_stored_and_history_entry_for_a_pending_change() -> None:
    contact = make_contact(M)
    workflow = StatusSource(StatusSourceType.WORKFLOW, "workflow-42")
    update = change_status(contact, NON_MARKETING, workflow, NOW)

    assert update is not None
    after = update.after
    assert after.status_source == workflow
    assert after.status_changed_at == NOW
    assert after.updated_at == NOW
    assert after.pending_since == NOW
    assert after.status_seq == contact.status_seq + 1
    entry = update.change
    assert (entry.from_state, entry.to_state) == (M, P)
    assert entry.from_status is MARKETING
    assert entry.to_status is NON_MARKETING
    assert entry.pending is True
    assert entry.source == workflow
    assert entry.at == NOW


def test_s4_provenance_of_set_marketing_clears_pending() -> None:
    update = change_status(make_contact(P), MARKETING, BY_USER, NOW)
    assert update is not None
    assert update.after.pending_since is None
    assert update.after.status_source == BY_USER
    assert update.change.pending is False
    assert (update.change.from_status, update.change.to_status) == (MARKETING, MARKETING)


def test_s4_update_date_change_records_its_source_and_instant() -> None:
    update = apply_update_date_to(make_contact(P), UPDATE_STARTS, BY_UPDATE_DATE)
    assert update is not None
    assert update.after.status_source == BY_UPDATE_DATE
    assert update.after.status_changed_at == UPDATE_STARTS
    assert update.after.pending_since is None
    assert update.change.at == UPDATE_STARTS
    assert (update.change.from_status, update.change.to_status) == (MARKETING, NON_MARKETING)
    assert update.change.pending is False


@pytest.mark.parametrize(
    ("state", "target"), [(M, MARKETING), (P, NON_MARKETING), (N, NON_MARKETING)]
)
def test_s4_no_op_stores_nothing(state: MarketingState, target: MarketingStatus) -> None:
    assert change_status(make_contact(state), target, BY_USER, NOW) is None


# ---------------------------------------------------------------- S5


@pytest.mark.parametrize(
    "source_type",
    [
        StatusSourceType.USER,
        StatusSourceType.BULK_OPERATION,
        StatusSourceType.IMPORT,
        StatusSourceType.FORM,
        StatusSourceType.INTEGRATION,
        StatusSourceType.WORKFLOW,
        StatusSourceType.CREATION_DEFAULT,
    ],
)
def test_s5_marketing_without_marketing_access_is_forbidden_on_every_path(
    source_type: StatusSourceType,
) -> None:
    with pytest.raises(DomainError) as raised:
        check_status_permission(
            MARKETING, source_type, marketing_access=False, edition=Edition.ENTERPRISE
        )
    assert [(e.code, e.field) for e in raised.value.errors] == [(ErrorCode.FORBIDDEN, ("status",))]


def test_s5_forbidden_error_names_the_callers_field() -> None:
    with pytest.raises(DomainError) as raised:
        check_status_permission(
            MARKETING,
            StatusSourceType.IMPORT,
            marketing_access=False,
            edition=Edition.STARTER,
            field=("contacts", "3", "marketing_status"),
        )
    assert raised.value.errors[0].field == ("contacts", "3", "marketing_status")


@pytest.mark.parametrize("edition", list(Edition))
def test_s5_non_marketing_needs_only_write_access(edition: Edition) -> None:
    check_status_permission(
        NON_MARKETING, StatusSourceType.USER, marketing_access=False, edition=edition
    )


def test_s5_marketing_with_marketing_access_is_allowed() -> None:
    check_status_permission(
        MARKETING, StatusSourceType.USER, marketing_access=True, edition=Edition.STARTER
    )


# ---------------------------------------------------------------- S6


@pytest.mark.parametrize(
    ("hard_bounced", "unsubscribed", "unengaged"),
    [(False, False, False), (True, False, True), (False, True, True), (True, True, True)],
)
def test_s6_unengaged_is_hard_bounced_or_unsubscribed(
    hard_bounced: bool, unsubscribed: bool, unengaged: bool
) -> None:
    contact = replace(
        make_contact(M), email_hard_bounced=hard_bounced, unsubscribed_from_all=unsubscribed
    )
    assert contact.unengaged is unengaged
    # unsubscribing does not change the status by itself: the contact still counts
    assert contact.state is M
    assert UsageCounts.of([contact.state]).marketing == 1


# ---------------------------------------------------------------- S7


def test_s7_workflow_non_marketing_forbidden_on_starter() -> None:
    with pytest.raises(DomainError) as raised:
        check_status_permission(
            NON_MARKETING, StatusSourceType.WORKFLOW, marketing_access=True, edition=Edition.STARTER
        )
    assert [(e.code, e.field) for e in raised.value.errors] == [(ErrorCode.FORBIDDEN, ("status",))]


@pytest.mark.parametrize("edition", [Edition.PROFESSIONAL, Edition.ENTERPRISE])
def test_s7_workflow_non_marketing_allowed_on_professional_and_enterprise(
    edition: Edition,
) -> None:
    check_status_permission(
        NON_MARKETING, StatusSourceType.WORKFLOW, marketing_access=False, edition=edition
    )


def test_s7_only_workflows_are_limited_on_starter() -> None:
    check_status_permission(
        NON_MARKETING, StatusSourceType.USER, marketing_access=False, edition=Edition.STARTER
    )
    check_status_permission(
        MARKETING, StatusSourceType.WORKFLOW, marketing_access=True, edition=Edition.STARTER
    )


# ---------------------------------------------------------------- claimed sources


@pytest.mark.parametrize("source_type", sorted(SYSTEM_SOURCE_TYPES))
def test_s4_claiming_a_system_source_type_is_invalid(source_type: StatusSourceType) -> None:
    with pytest.raises(DomainError) as raised:
        check_claimable_source(source_type)
    assert [(e.code, e.field) for e in raised.value.errors] == [
        (ErrorCode.INVALID, ("source_type",))
    ]


def test_s4_system_source_types_are_the_services_own() -> None:
    assert {
        StatusSourceType.BULK_OPERATION,
        StatusSourceType.CREATION_DEFAULT,
        StatusSourceType.UPDATE_DATE,
        StatusSourceType.MERGE,
    } <= SYSTEM_SOURCE_TYPES


@pytest.mark.parametrize(
    "source_type",
    [
        StatusSourceType.USER,
        StatusSourceType.IMPORT,
        StatusSourceType.FORM,
        StatusSourceType.CHATFLOW,
        StatusSourceType.INTEGRATION,
        StatusSourceType.WORKFLOW,
    ],
)
def test_s4_caller_may_name_the_tool_acting_through_it(source_type: StatusSourceType) -> None:
    check_claimable_source(source_type)

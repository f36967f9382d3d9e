"""Channels decided without storage (H1, H2 in docs/rules.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketing_contacts.domain.channels import (
    EXCLUSION_ORDER,
    AudienceCounts,
    Channel,
    Exclusion,
    count_audience,
    counted_under,
    excluded_by,
    exclusions,
    reachable_conditions,
    reaches,
)
from marketing_contacts.domain.conditions import all_hold
from marketing_contacts.domain.contacts import Contact
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.statuses import MarketingState, StatusSource, StatusSourceType

N = MarketingState.NON_MARKETING
M = MarketingState.MARKETING
P = MarketingState.MARKETING_UNTIL_NEXT_UPDATE
AT = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
EMAIL = "ada@example.com"

NON_MARKETING, UNENGAGED = Exclusion.NON_MARKETING, Exclusion.UNENGAGED
NO_EMAIL = Exclusion.NO_EMAIL
MARKETING_ONLY = {Channel.MARKETING_EMAIL, Channel.ADS, Channel.WORKFLOW_MARKETING_ACTION}
EMAIL_CHANNELS = set(Channel) - {Channel.ADS, Channel.WORKFLOW_MARKETING_ACTION}


def contact(
    state: MarketingState = M,
    email: str | None = EMAIL,
    *,
    bounced: bool = False,
    unsubscribed: bool = False,
    n: int = 0,
) -> Contact:
    return Contact(
        id=f"c{n}",
        account_id="account-1",
        created_via=CreationSource.API,
        created_at=AT,
        updated_at=AT,
        state=state,
        status_source=StatusSource(StatusSourceType.USER, "user-1"),
        status_changed_at=AT,
        email=email,
        email_hard_bounced=bounced,
        unsubscribed_from_all=unsubscribed,
    )


# ---------------------------------------------------------------- what each channel applies


@pytest.mark.parametrize(
    ("channel", "applied"),
    [
        (Channel.MARKETING_EMAIL, (NON_MARKETING, UNENGAGED, NO_EMAIL)),
        (Channel.ADS, (NON_MARKETING,)),
        (Channel.WORKFLOW_MARKETING_ACTION, (NON_MARKETING,)),
        (Channel.SALES_EMAIL, (NO_EMAIL,)),
        (Channel.SEQUENCE, (NO_EMAIL,)),
        (Channel.CONVERSATION, (NO_EMAIL,)),
        (Channel.TRANSACTIONAL_EMAIL, (NO_EMAIL,)),
        (Channel.REGISTRATION_EMAIL, (NO_EMAIL,)),
        (Channel.TICKET_EMAIL, (NO_EMAIL,)),
        (Channel.FEEDBACK_SURVEY, (NO_EMAIL,)),
    ],
)
def test_h1_h2_each_channel_leaves_contacts_out_for_its_reasons_in_order(
    channel: Channel, applied: tuple[Exclusion, ...]
) -> None:
    """H1: the marketing-only tools leave out N; H2: marketing email the unengaged too, and
    every email channel a contact without an address."""
    assert exclusions(channel) == applied
    assert channel.rule.marketing_only is (channel in MARKETING_ONLY)
    assert channel.rule.email is (channel in EMAIL_CHANNELS)


def test_h1_every_channel_has_a_case() -> None:
    assert set(Channel) == MARKETING_ONLY | EMAIL_CHANNELS


# ---------------------------------------------------------------- channel x kind of contact

KINDS = {
    "M": contact(M),
    "P": contact(P),
    "N": contact(N),
    "M unsubscribed": contact(M, unsubscribed=True),
    "M bounced": contact(M, bounced=True),
    "M no email": contact(M, None),
    "N unsubscribed": contact(N, unsubscribed=True),
    "N no email": contact(N, None),
    "P bounced, no email": contact(P, None, bounced=True),
}
#: each kind of contact above, in order, as each channel decides it: None reached
DECIDED: dict[Channel, list[Exclusion | None]] = {
    Channel.MARKETING_EMAIL: [
        None, None, NON_MARKETING, UNENGAGED, UNENGAGED, NO_EMAIL, NON_MARKETING,
        NON_MARKETING, UNENGAGED,
    ],
    Channel.ADS: [None, None, NON_MARKETING, None, None, None, NON_MARKETING, NON_MARKETING, None],
    Channel.WORKFLOW_MARKETING_ACTION: [
        None, None, NON_MARKETING, None, None, None, NON_MARKETING, NON_MARKETING, None,
    ],
    **{
        channel: [None, None, None, None, None, NO_EMAIL, None, NO_EMAIL, NO_EMAIL]
        for channel in Channel
        if not channel.rule.marketing_only
    },
}  # fmt: skip


@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("kind", list(KINDS))
def test_h1_h2_a_channel_reaches_a_contact_or_names_the_first_reason_it_leaves_it_out(
    channel: Channel, kind: str
) -> None:
    """Each left-out contact is counted under one reason: non-marketing first, then
    unengaged, then no email."""
    decided = DECIDED[channel][list(KINDS).index(kind)]
    assert excluded_by(channel, KINDS[kind]) is decided
    assert reaches(channel, KINDS[kind]) is (decided is None)


def test_h2_only_marketing_email_leaves_the_unengaged_out() -> None:
    unsubscribed, bounced = KINDS["M unsubscribed"], KINDS["M bounced"]
    assert [c for c in Channel if not reaches(c, unsubscribed)] == [Channel.MARKETING_EMAIL]
    assert [c for c in Channel if not reaches(c, bounced)] == [Channel.MARKETING_EMAIL]


def test_h1_counts_of_an_audience_by_reason() -> None:
    counts = count_audience(Channel.MARKETING_EMAIL, KINDS.values())
    assert counts == AudienceCounts(
        matched=9, reachable=2, excluded={NON_MARKETING: 3, UNENGAGED: 3, NO_EMAIL: 1}
    )
    assert count_audience(Channel.SALES_EMAIL, KINDS.values()) == AudienceCounts(
        matched=9, reachable=6, excluded={NO_EMAIL: 3}
    )
    assert count_audience(Channel.ADS, []) == AudienceCounts()
    assert AudienceCounts().excluded == dict.fromkeys(EXCLUSION_ORDER, 0)


# ---------------------------------------------------------------- any contacts, any channel

CONTACTS = st.lists(
    st.builds(
        contact,
        state=st.sampled_from([N, M, P]),
        email=st.sampled_from([EMAIL, None]),
        bounced=st.booleans(),
        unsubscribed=st.booleans(),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(contacts=CONTACTS, channel=st.sampled_from(list(Channel)))
def test_h1_h2_matched_is_reachable_plus_every_exclusion_for_any_contacts(
    contacts: list[Contact], channel: Channel
) -> None:
    """And the conditions a store counts by (counted_under, reachable_conditions) put each
    contact under exactly one of reachable and the reasons, the one excluded_by names."""
    counts = count_audience(channel, contacts)
    assert counts.matched == len(contacts)
    assert counts.matched == counts.reachable + sum(counts.excluded.values())
    for one in contacts:
        under = [r for r, conditions in counted_under(channel).items() if all_hold(conditions, one)]
        reached = all_hold(reachable_conditions(channel), one)
        assert len(under) + reached == 1
        assert (None if reached else under[0]) is excluded_by(channel, one)

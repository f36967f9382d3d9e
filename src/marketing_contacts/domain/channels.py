"""Channels and who they may reach (H1, H2).

H1: the marketing-only tools (marketing email, ads audiences, the marketing actions of
workflows) reach marketing contacts only, M and P; every other kind of email reaches any
contact. H2: marketing email also leaves out the unengaged (unsubscribed from all email or
hard-bounced, S6), and no email channel reaches a contact without an address.

A contact a channel leaves out is counted under one reason only: the first of EXCLUSION_ORDER
the channel applies and the contact meets. Every reason is written as conditions on a contact's
fields (domain.conditions), the ones it meets when left out for it and the ones it meets when
kept, so a store counts an audience and pages its reachable contacts in its own query language
and the fakes decide the same conditions in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from marketing_contacts.domain.conditions import (
    Condition,
    ContactField,
    Equals,
    OneOf,
    Present,
    all_hold,
)
from marketing_contacts.domain.contacts import Contact
from marketing_contacts.domain.statuses import MarketingState


class Channel(StrEnum):
    """Where a contact may be reached (H1)."""

    MARKETING_EMAIL = "MARKETING_EMAIL"
    ADS = "ADS"
    WORKFLOW_MARKETING_ACTION = "WORKFLOW_MARKETING_ACTION"
    SALES_EMAIL = "SALES_EMAIL"
    SEQUENCE = "SEQUENCE"
    CONVERSATION = "CONVERSATION"
    TRANSACTIONAL_EMAIL = "TRANSACTIONAL_EMAIL"
    REGISTRATION_EMAIL = "REGISTRATION_EMAIL"
    TICKET_EMAIL = "TICKET_EMAIL"
    FEEDBACK_SURVEY = "FEEDBACK_SURVEY"

    @property
    def rule(self) -> ChannelRule:
        return RULES[self]


class Exclusion(StrEnum):
    """Why a channel leaves a contact out."""

    #: H1: a marketing-only channel, a contact in N
    NON_MARKETING = "NON_MARKETING"
    #: H2: marketing email, a contact unsubscribed from all email or hard-bounced (S6)
    UNENGAGED = "UNENGAGED"
    #: H2: an email channel, a contact without an address
    NO_EMAIL = "NO_EMAIL"


#: the order reasons are tried in: a contact left out for several is counted under the first
EXCLUSION_ORDER: tuple[Exclusion, ...] = (
    Exclusion.NON_MARKETING,
    Exclusion.UNENGAGED,
    Exclusion.NO_EMAIL,
)


@dataclass(frozen=True)
class ChannelRule:
    """What a channel asks of a contact."""

    #: H1: marketing contacts only (M and P)
    marketing_only: bool
    #: sent by email: a contact without an address cannot be reached (H2)
    email: bool
    #: H2: the unengaged are left out (marketing email only)
    hygiene: bool = False

    def applies(self, exclusion: Exclusion) -> bool:
        if exclusion is Exclusion.NON_MARKETING:
            return self.marketing_only
        if exclusion is Exclusion.UNENGAGED:
            return self.hygiene
        return self.email


_ANY_EMAIL = ChannelRule(marketing_only=False, email=True)

RULES: Mapping[Channel, ChannelRule] = {
    Channel.MARKETING_EMAIL: ChannelRule(marketing_only=True, email=True, hygiene=True),
    # ads audiences and workflows' marketing actions are marketing tools that send no email
    Channel.ADS: ChannelRule(marketing_only=True, email=False),
    Channel.WORKFLOW_MARKETING_ACTION: ChannelRule(marketing_only=True, email=False),
    Channel.SALES_EMAIL: _ANY_EMAIL,
    Channel.SEQUENCE: _ANY_EMAIL,
    # a conversation's transcript is sent by email (H1: "every other kind of email")
    Channel.CONVERSATION: _ANY_EMAIL,
    Channel.TRANSACTIONAL_EMAIL: _ANY_EMAIL,
    Channel.REGISTRATION_EMAIL: _ANY_EMAIL,
    Channel.TICKET_EMAIL: _ANY_EMAIL,
    # a feedback survey is sent by email
    Channel.FEEDBACK_SURVEY: _ANY_EMAIL,
}


@dataclass(frozen=True)
class Reason:
    """A reason as conditions: what a contact left out for it meets, and what a kept one does."""

    left_out: Condition
    kept: Condition


REASONS: Mapping[Exclusion, Reason] = {
    Exclusion.NON_MARKETING: Reason(
        left_out=Equals(ContactField.STATE, MarketingState.NON_MARKETING),
        kept=OneOf(
            ContactField.STATE,
            frozenset({MarketingState.MARKETING, MarketingState.MARKETING_UNTIL_NEXT_UPDATE}),
        ),
    ),
    Exclusion.UNENGAGED: Reason(
        left_out=Equals(ContactField.UNENGAGED, True),
        kept=Equals(ContactField.UNENGAGED, False),
    ),
    # a contact has an email domain exactly when it has an address (C8)
    Exclusion.NO_EMAIL: Reason(
        left_out=Present(ContactField.EMAIL_DOMAIN, present=False),
        kept=Present(ContactField.EMAIL_DOMAIN),
    ),
}


def exclusions(channel: Channel) -> tuple[Exclusion, ...]:
    """The reasons the channel leaves contacts out for, in EXCLUSION_ORDER."""
    return tuple(reason for reason in EXCLUSION_ORDER if channel.rule.applies(reason))


def reachable_conditions(channel: Channel) -> tuple[Condition, ...]:
    """What a contact meets for the channel to reach it (none: it reaches every contact)."""
    return tuple(REASONS[reason].kept for reason in exclusions(channel))


def counted_under(channel: Channel) -> dict[Exclusion, tuple[Condition, ...]]:
    """For each reason the channel applies, what a contact meets to be counted under it: left
    out for it, and kept by every reason before it."""
    found: dict[Exclusion, tuple[Condition, ...]] = {}
    kept: tuple[Condition, ...] = ()
    for reason in exclusions(channel):
        found[reason] = (*kept, REASONS[reason].left_out)
        kept = (*kept, REASONS[reason].kept)
    return found


def excluded_by(channel: Channel, contact: Contact) -> Exclusion | None:
    """Why the channel leaves the contact out; None when it may reach it."""
    return next(
        (reason for reason in exclusions(channel) if REASONS[reason].left_out.holds(contact)),
        None,
    )


def reaches(channel: Channel, contact: Contact) -> bool:
    return all_hold(reachable_conditions(channel), contact)


@dataclass(frozen=True)
class AudienceCounts:
    """Who of a selection a channel may reach, and how many it leaves out for each reason:
    matched == reachable + every exclusion's count."""

    matched: int = 0
    reachable: int = 0
    #: every reason of EXCLUSION_ORDER, 0 for those the channel does not apply
    excluded: Mapping[Exclusion, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        given = self.excluded
        object.__setattr__(self, "excluded", {r: given.get(r, 0) for r in EXCLUSION_ORDER})

    def excluded_for(self, reason: Exclusion) -> int:
        return self.excluded.get(reason, 0)


def count_audience(channel: Channel, contacts: Iterable[Contact]) -> AudienceCounts:
    """The audience counted contact by contact (what a store counts in its own query)."""
    matched = reachable = 0
    excluded = dict.fromkeys(exclusions(channel), 0)
    for contact in contacts:
        matched += 1
        reason = excluded_by(channel, contact)
        if reason is None:
            reachable += 1
        else:
            excluded[reason] += 1
    return AudienceCounts(matched=matched, reachable=reachable, excluded=excluded)

"""The account (tenant): its tier, schedule, policy, counters and alert state."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

from marketing_contacts.domain.alerts import DEFAULT_THRESHOLDS, AlertState
from marketing_contacts.domain.contacts import Contact, StatusUpdate, move_to
from marketing_contacts.domain.creation import CreationDefaults
from marketing_contacts.domain.errors import DomainError, ErrorCode, refuse
from marketing_contacts.domain.lifecycle import LifecycleDefaults
from marketing_contacts.domain.statuses import MarketingState, StatusSource, StatusSourceType
from marketing_contacts.domain.tiers import DEFAULT_LADDERS, Edition, Ladder, UpgradePolicy
from marketing_contacts.domain.update_dates import (
    CommitmentTerm,
    Period,
    UpdateSchedule,
    local_date,
    zone,
)
from marketing_contacts.domain.usage import Usage, UsageCounts


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    edition: Edition
    schedule: UpdateSchedule
    timezone: str
    ladder: Ladder
    tier_limit: int
    upgrade_policy: UpgradePolicy
    next_update_date: date
    alert_state: AlertState
    created_at: datetime
    alert_thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS
    counts: UsageCounts = field(default_factory=UsageCounts)
    creation_defaults: CreationDefaults = field(default_factory=CreationDefaults)
    #: C4: the lifecycle stage of new contacts by creation source
    lifecycle_defaults: LifecycleDefaults = field(default_factory=LifecycleDefaults)
    #: bumped by every write that moves the counters; writes are conditional on it
    revision: int = 0
    #: K1: False for an account without marketing contacts (legacy billing: every contact
    #: counts, statuses cannot be set); switched on once, never off
    marketing_contacts_enabled: bool = True

    @property
    def commitment_term(self) -> CommitmentTerm:
        return self.schedule.term

    @property
    def usage(self) -> Usage:
        return Usage(self.counts, self.tier_limit, self.next_update_date)

    def today(self, now: datetime) -> date:
        return local_date(now, self.timezone)

    def period_at(self, now: datetime) -> Period:
        """The update period that holds `now` in the account's zone."""
        return self.schedule.period_containing(self.today(now))


def open_account(
    *,
    id: str,
    name: str,
    now: datetime,
    edition: Edition = Edition.STARTER,
    term: CommitmentTerm = CommitmentTerm.ANNUAL,
    timezone: str = "UTC",
    renewal_date: date | None = None,
    ladder: Ladder | None = None,
    upgrade_policy: UpgradePolicy = UpgradePolicy.AUTO,
    legacy: bool = False,
) -> Account:
    """A new account: the first step of its ladder, its first update date ahead of today;
    `legacy`: without marketing contacts (K1)."""
    zone(timezone)
    today = local_date(now, timezone)
    schedule = UpdateSchedule.for_renewal(term, renewal_date or today)
    chosen_ladder = ladder or DEFAULT_LADDERS[edition]
    period = schedule.period_containing(today)
    return Account(
        id=id,
        name=name,
        edition=edition,
        schedule=schedule,
        timezone=timezone,
        ladder=chosen_ladder,
        tier_limit=chosen_ladder.first_limit,
        upgrade_policy=upgrade_policy,
        next_update_date=period.end,
        alert_state=AlertState(period_start=period.start, tier_limit=chosen_ladder.first_limit),
        created_at=now,
        marketing_contacts_enabled=not legacy,
    )


#: K1: the source of a contact created in an account without marketing contacts (MARKETING)
LEGACY_SOURCE = StatusSource(StatusSourceType.LEGACY)
LEGACY_MESSAGE = "this account runs without marketing contacts (K1)"


def statuses_not_settable(*field: str) -> DomainError:
    """K1: in an account without marketing contacts no status is chosen: every contact is
    MARKETING, since every contact counts toward the tier."""
    return refuse(
        ErrorCode.FORBIDDEN,
        f"{LEGACY_MESSAGE}: every contact counts and statuses cannot be set; an admin may "
        "enable marketing contacts",
        *field,
    )


def check_statuses_settable(account: Account, *field: str) -> None:
    """K1: FORBIDDEN at `field` in an account without marketing contacts."""
    if not account.marketing_contacts_enabled:
        raise statuses_not_settable(*field)


def with_marketing_contacts(account: Account) -> Account | None:
    """K1: the account with the feature switched on (one-way), at its next revision; None
    when it is on already (switching it on again changes nothing)."""
    if account.marketing_contacts_enabled:
        return None
    return replace(account, marketing_contacts_enabled=True, revision=account.revision + 1)


def leaving_legacy(contact: Contact, source: StatusSource, at: datetime) -> StatusUpdate | None:
    """K1: the operation that switches marketing contacts on sets a contact NON_MARKETING at
    once, not pending until the next update date (S3): it was marketing only because every
    contact counted, nobody chose it; None for a contact non-marketing already."""
    if contact.state is MarketingState.NON_MARKETING:
        return None
    return move_to(contact, MarketingState.NON_MARKETING, source, at)

"""Opening accounts and changing their settings."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from marketing_contacts.domain.accounts import (
    Account,
    check_statuses_settable,
    open_account,
    with_marketing_contacts,
)
from marketing_contacts.domain.alerts import TierAlert, validate_thresholds
from marketing_contacts.domain.bulk import (
    BulkOperation,
    BulkOperationStatus,
    BulkProgress,
    Selection,
)
from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.errors import ErrorCode, check_no_controls, refuse
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.permissions import check_marketing_access
from marketing_contacts.domain.statuses import MarketingStatus, StatusSourceType
from marketing_contacts.domain.tiers import (
    DEFAULT_LADDERS,
    Edition,
    Ladder,
    TierChange,
    UpgradePolicy,
)
from marketing_contacts.domain.update_dates import CommitmentTerm, zone
from marketing_contacts.domain.users import check_admin
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.paging import Page, Stored, paged
from marketing_contacts.services.wiring import Ports

log = logging.getLogger(__name__)

MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class AccountOpening:
    name: str
    edition: Edition = Edition.STARTER
    term: CommitmentTerm = CommitmentTerm.ANNUAL
    timezone: str = "UTC"
    renewal_date: date | None = None
    upgrade_policy: UpgradePolicy = UpgradePolicy.AUTO
    tier_limit: int | None = None
    tier_step: int | None = None
    #: K1: without marketing contacts (legacy billing: every contact counts)
    legacy: bool = False


@dataclass(frozen=True)
class AccountSettings:
    """Only the fields that are set change."""

    name: str | None = None
    timezone: str | None = None
    upgrade_policy: UpgradePolicy | None = None
    alert_thresholds: tuple[int, ...] | None = None
    #: D2: the default status of these creation sources, for contacts created afterwards
    creation_defaults: tuple[tuple[CreationSource, MarketingStatus], ...] | None = None
    #: C4: the lifecycle stage of these creation sources (None: no stage), likewise
    lifecycle_defaults: tuple[tuple[CreationSource, LifecycleStage | None], ...] | None = None


def check_name(name: str, *field: str) -> str:
    """An account's name, trimmed: 1 to MAX_NAME_LENGTH characters, no control character."""
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise refuse(ErrorCode.INVALID, f"a name has 1 to {MAX_NAME_LENGTH} characters", *field)
    check_no_controls(name, *field)
    return name


def ladder_for(opening: AccountOpening) -> Ladder:
    """T5: the edition's ladder, or the one `--tier-limit/--tier-step` define (prices kept)."""
    default = DEFAULT_LADDERS[opening.edition]
    first = opening.tier_limit if opening.tier_limit is not None else default.first_limit
    step = opening.tier_step if opening.tier_step is not None else default.step
    if first < 1 or step < 1:
        raise refuse(
            ErrorCode.INVALID, "tier limit and step are whole numbers from 1", "tier_limit"
        )
    return replace(default, first_limit=first, step=step)


def check_default_permission(
    caller: Caller, defaults: Sequence[tuple[CreationSource, MarketingStatus]]
) -> None:
    """S5: a MARKETING default makes marketing contacts without a further check, so setting one
    needs the marketing access permission."""
    for _, status in defaults:
        check_marketing_access(
            status,
            marketing_access=caller.marketing_access,
            field=("creation_defaults",),
            what="a MARKETING creation default",
        )


class AccountService:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports

    async def open(self, opening: AccountOpening) -> Account:
        account = open_account(
            id=self.ports.ids.new_id(),
            name=check_name(opening.name, "name"),
            now=self.ports.clock.now(),
            edition=opening.edition,
            term=opening.term,
            timezone=opening.timezone,
            renewal_date=opening.renewal_date,
            ladder=ladder_for(opening),
            upgrade_policy=opening.upgrade_policy,
            legacy=opening.legacy,
        )
        await self.ports.accounts.insert(account)
        return account

    async def get(self, caller: Caller) -> Account:
        return await self.ports.account(caller.account_id)

    async def tier_changes(
        self, caller: Caller, first: int, after: str | None
    ) -> Page[Stored[TierChange]]:
        return await paged(
            first, after, self.ports.tier_records.tier_changes(caller.account_id, first, after)
        )

    async def alerts(
        self, caller: Caller, first: int, after: str | None
    ) -> Page[Stored[TierAlert]]:
        return await paged(
            first, after, self.ports.tier_records.alerts(caller.account_id, first, after)
        )

    async def tier_change_count(self, caller: Caller) -> int:
        return await self.ports.tier_records.count_tier_changes(caller.account_id)

    async def alert_count(self, caller: Caller) -> int:
        return await self.ports.tier_records.count_alerts(caller.account_id)

    async def alerts_since(
        self, caller: Caller, since: datetime, limit: int
    ) -> list[Stored[TierAlert]]:
        """The account's alerts raised from `since` on, oldest first (a subscription catching
        up after its feed broke)."""
        return await self.ports.tier_records.alerts_since(caller.account_id, since, limit)

    async def update_settings(self, caller: Caller, settings: AccountSettings) -> Account:
        """P1: the account's settings are an ADMIN's."""
        check_admin(caller.role)
        name = None if settings.name is None else check_name(settings.name, "name")
        if settings.timezone is not None:
            zone(settings.timezone)
        thresholds = (
            None
            if settings.alert_thresholds is None
            else validate_thresholds(settings.alert_thresholds)
        )

        defaults = settings.creation_defaults
        if defaults is not None:
            check_default_permission(caller, defaults)
        stages = settings.lifecycle_defaults

        async def attempt() -> Account:
            before = await self.ports.account(caller.account_id)
            if defaults is not None:
                check_statuses_settable(before, "creation_defaults")
            after = replace(
                before,
                name=name or before.name,
                timezone=settings.timezone or before.timezone,
                upgrade_policy=settings.upgrade_policy or before.upgrade_policy,
                alert_thresholds=before.alert_thresholds if thresholds is None else thresholds,
                creation_defaults=before.creation_defaults
                if defaults is None
                else before.creation_defaults.configured(defaults, "creation_defaults"),
                lifecycle_defaults=before.lifecycle_defaults
                if stages is None
                else before.lifecycle_defaults.configured(stages, "lifecycle_defaults"),
                revision=before.revision + 1,
            )
            audit = self.ports.audit_entry(
                before.id, caller.actor, "updateAccountSettings", [before.id]
            )
            await self.ports.accounts.replace_settings(before, after, audit)
            return after

        return await self.ports.retrying_on(caller.account_id, attempt)

    async def enable_marketing_contacts(self, caller: Caller) -> Account:
        """K1, P1: an ADMIN switches the feature on, once: the flag and a background operation
        that sets every contact of the account NON_MARKETING are written in one transaction
        (with the audit entry), then the operation is enqueued (the sweeper enqueues what this
        misses). On already: nothing is written and the account is returned as it is."""
        check_admin(caller.role)

        async def attempt() -> tuple[Account, BulkOperation | None]:
            before = await self.ports.account(caller.account_id)
            after = with_marketing_contacts(before)
            if after is None:
                return before, None
            operation = self._enablement(caller, before)
            audit = self.ports.audit_entry(
                before.id, caller.actor, "enableMarketingContacts", [before.id, operation.id]
            )
            await self.ports.accounts.enable_marketing_contacts(before, after, operation, audit)
            return after, operation

        account, operation = await self.ports.retrying_on(caller.account_id, attempt)
        if operation is not None:
            try:
                await self.ports.jobs.enqueue_account_bulk(account.id)
            except Exception:
                log.exception(
                    "enqueueing operation %s (K1) failed; the sweeper will retry", operation.id
                )
        return account

    def _enablement(self, caller: Caller, account: Account) -> BulkOperation:
        """K1: every contact of the account (whatever the admin's own visibility: the switch
        is the account's), to NON_MARKETING at once (source LEGACY: decide_chunk), requested
        by the admin; its contacts are those created up to now (B1), all of them counted."""
        return BulkOperation(
            id=self.ports.ids.new_id(),
            account_id=account.id,
            target=MarketingStatus.NON_MARKETING,
            selection=Selection(filter=ContactFilter()),
            status=BulkOperationStatus.QUEUED,
            created_at=self.ports.clock.now(),
            requested_by=caller.user_id,
            owners=None,
            progress=BulkProgress(matched=account.counts.total),
            source_type=StatusSourceType.LEGACY,
        )

"""Bulk status changes (B1-B5): selections, previews, chunks and progress."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from marketing_contacts.domain.accounts import Account, leaving_legacy
from marketing_contacts.domain.changes import UsageChange, plan_usage_change
from marketing_contacts.domain.conditions import Condition, ContactField, Earlier, OneOf
from marketing_contacts.domain.contacts import Contact, StatusUpdate, change_status
from marketing_contacts.domain.errors import (
    MAX_ID_LENGTH,
    ErrorCode,
    UserError,
    check_id,
    check_ids,
    check_length,
    refuse,
)
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import (
    MarketingState,
    MarketingStatus,
    StatusSource,
    StatusSourceType,
)
from marketing_contacts.domain.tiers import UpgradePolicy
from marketing_contacts.domain.usage import Transition
from marketing_contacts.domain.visibility import Scope

MAX_SELECTED_IDS = 10_000
#: P5: background operations an account may have queued or running at once (the default of
#: MAX_ACTIVE_BACKGROUND_OPERATIONS)
MAX_ACTIVE_OPERATIONS = 5


class BulkOperationStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def finished(self) -> bool:
        return self in _FINISHED


_FINISHED = frozenset(
    {BulkOperationStatus.COMPLETED, BulkOperationStatus.FAILED, BulkOperationStatus.CANCELLED}
)


@dataclass(frozen=True)
class Selection:
    """B1: exactly one of ids, filter, list or unengaged."""

    ids: tuple[str, ...] | None = None
    filter: ContactFilter | None = None
    list_id: str | None = None
    unengaged: bool | None = None

    def __post_init__(self) -> None:
        if self.ids is not None:  # an id given twice selects one contact
            check_ids(self.ids, "selection", "ids")
            object.__setattr__(self, "ids", tuple(dict.fromkeys(self.ids)))
        given = [v for v in (self.ids, self.filter, self.list_id, self.unengaged) if v is not None]
        if len(given) != 1:
            raise refuse(
                ErrorCode.INVALID,
                "a selection names exactly one of its fields",
                "selection",
            )
        if self.unengaged is False:
            raise refuse(
                ErrorCode.INVALID,
                "unengaged selects with true only; select engaged contacts with a filter",
                "selection",
                "unengaged",
            )
        if self.ids is not None and len(self.ids) > MAX_SELECTED_IDS:
            raise refuse(
                ErrorCode.TOO_MANY,
                f"a selection holds at most {MAX_SELECTED_IDS} ids",
                "selection",
                "ids",
            )
        if self.ids == ():
            raise refuse(
                ErrorCode.INVALID,
                "a selection by ids names at least one id",
                "selection",
                "ids",
            )
        check_id(self.list_id, "selection", "list_id")
        if self.filter is not None:
            self.filter.check("selection", "filter")

    def in_selection_order(self, found: Collection[str]) -> list[str]:
        """T6's selection order for an ids selection: the order the ids were given in, of those
        `found` (other selections apply in id order, as they are read)."""
        assert self.ids is not None
        return [contact_id for contact_id in self.ids if contact_id in found]

    def as_filter(self) -> ContactFilter:
        """What the selection selects besides its ids (S6: unengaged means marketing ones)."""
        if self.filter is not None:
            return self.filter
        if self.list_id is not None:
            return ContactFilter(list_id=self.list_id)
        if self.unengaged:
            return ContactFilter(marketing_status=MarketingStatus.MARKETING, unengaged=True)
        return ContactFilter()

    def conditions(self, created_until: datetime | None = None) -> tuple[Condition, ...]:
        """What a contact meets to be selected; with `created_until`, only contacts created by
        then (B1: an operation selects what existed when it started)."""
        found = list(self.as_filter().conditions())
        if self.ids is not None:
            found.append(OneOf(ContactField.ID, frozenset(self.ids)))
        if created_until is not None:
            found.append(Earlier(ContactField.CREATED_AT, created_until, inclusive=True))
        return tuple(found)


@dataclass(frozen=True)
class StatusChangePreview:
    """B2: what a change would do, decided from the selection's contacts by state."""

    matched: int
    change_now: int
    become_pending: int
    unchanged: int
    marketing_contacts_after: int
    projected_after_next_update: int
    tier_limit_after: int
    would_upgrade: bool
    would_be_blocked: bool
    #: T6: non-marketing contacts that would not fit a BLOCK tier (the operation's `failed`)
    blocked_by_tier: int = 0


def preview_status_change(
    account: Account, selected: Mapping[MarketingState, int], target: MarketingStatus
) -> StatusChangePreview:
    n = selected.get(MarketingState.NON_MARKETING, 0)
    m = selected.get(MarketingState.MARKETING, 0)
    p = selected.get(MarketingState.MARKETING_UNTIL_NEXT_UPDATE, 0)
    counts = account.counts
    joining = n if target is MarketingStatus.MARKETING else 0
    wanted = counts.marketing + joining
    blocked = account.upgrade_policy is UpgradePolicy.BLOCK and wanted > account.tier_limit
    # T6: under BLOCK the operation applies what fits; the rest stays non-marketing
    fits = min(joining, max(account.tier_limit - counts.marketing, 0)) if blocked else joining
    if target is MarketingStatus.MARKETING:
        change_now, become_pending, unchanged = fits + p, 0, m
        pending_after = counts.pending - p
    else:
        change_now, become_pending, unchanged = 0, m, n + p
        pending_after = counts.pending + m
    marketing_after = counts.marketing + fits
    upgrade = account.upgrade_policy is UpgradePolicy.AUTO and wanted > account.tier_limit
    return StatusChangePreview(
        matched=n + m + p,
        change_now=change_now,
        become_pending=become_pending,
        unchanged=unchanged,
        marketing_contacts_after=marketing_after,
        projected_after_next_update=marketing_after - pending_after,
        tier_limit_after=account.ladder.limit_for(wanted) if upgrade else account.tier_limit,
        would_upgrade=upgrade,
        would_be_blocked=blocked,
        blocked_by_tier=joining - fits,
    )


def check_idempotency_key(key: str | None) -> None:
    """B5: a key names one request among the caller's: a short id with something in it (an
    empty or blank key is a slip, a template left unfilled, that would tie unrelated requests
    to one operation)."""
    if key is None:
        return
    check_length(key, MAX_ID_LENGTH, "idempotency_key")
    if not key.strip():
        raise refuse(ErrorCode.INVALID, "an idempotency key is not blank", "idempotency_key")


#: S7: the sources a bulk operation's changes may name: the operation itself, or a workflow
BULK_SOURCE_TYPES = frozenset({StatusSourceType.BULK_OPERATION, StatusSourceType.WORKFLOW})


def check_bulk_source(source_type: StatusSourceType, source_id: str | None) -> None:
    """S7: an operation's changes name the operation, or the workflow (by `source_id`) whose
    action it is; no other source is a bulk operation's to claim."""
    if source_type not in BULK_SOURCE_TYPES:
        raise refuse(
            ErrorCode.INVALID,
            "a bulk operation's source is BULK_OPERATION or WORKFLOW",
            "source_type",
        )
    if source_type is StatusSourceType.WORKFLOW and (source_id is None or not source_id.strip()):
        raise refuse(ErrorCode.INVALID, "a WORKFLOW operation names its workflow's id", "source_id")


def check_confirmation(target: MarketingStatus, confirm_count: int | None, matched: int) -> None:
    """B3: a bulk change to MARKETING names the number of contacts it matches."""
    if target is MarketingStatus.MARKETING and confirm_count != matched:
        raise refuse(
            ErrorCode.CONFIRMATION_MISMATCH,
            f"the selection matches {matched} contacts; confirmCount must say {matched}"
            + ("" if confirm_count is None else f", not {confirm_count}"),
            "confirm_count",
        )


@dataclass(frozen=True)
class BulkProgress:
    """The counters an operation records after every chunk."""

    matched: int = 0
    processed: int = 0
    changed_now: int = 0
    became_pending: int = 0
    unchanged: int = 0
    failed: int = 0
    #: contacts left unchanged, by the reason's code
    failures: Mapping[ErrorCode, int] = field(default_factory=dict)

    @property
    def progress(self) -> float:
        return 1.0 if self.matched == 0 else min(self.processed / self.matched, 1.0)

    def errors(self) -> list[UserError]:
        return [UserError(code, _failure_message(code, n)) for code, n in self.failures.items()]

    def plus(self, page: BulkProgress) -> BulkProgress:
        """The counters after a page that added `page`'s (whose `matched` is 0)."""
        failures = dict(self.failures)
        for code, n in page.failures.items():
            failures[code] = failures.get(code, 0) + n
        return BulkProgress(
            matched=self.matched + page.matched,
            processed=self.processed + page.processed,
            changed_now=self.changed_now + page.changed_now,
            became_pending=self.became_pending + page.became_pending,
            unchanged=self.unchanged + page.unchanged,
            failed=self.failed + page.failed,
            failures=failures,
        )


def _failure_message(code: ErrorCode, count: int) -> str:
    if code is ErrorCode.TIER_LIMIT_REACHED:
        return (
            f"{count} contacts were left non-marketing: the tier is full and the account's "
            "upgrade policy is BLOCK"
        )
    if code is ErrorCode.NOT_FOUND:
        return f"{count} contacts were deleted before the operation reached them"
    return f"{count} contacts were left unchanged ({code.value})"


@dataclass(frozen=True)
class ChunkOutcome:
    """One chunk decided: the updates to write, the usage change, the progress it adds."""

    updates: tuple[StatusUpdate, ...]
    change: UsageChange
    progress: BulkProgress


def decide_chunk(
    account: Account,
    contacts: Sequence[Contact],
    target: MarketingStatus,
    source: StatusSource,
    now: datetime,
) -> ChunkOutcome:
    """B4: each contact by S2 from `source` (the operation's `status_source`); under BLOCK
    what fits applies in order, the rest fails (T6)."""
    if source.type is StatusSourceType.LEGACY:  # K1: switching marketing contacts on
        decided = [u for c in contacts if (u := leaving_legacy(c, source, now))]
    else:
        decided = [u for c in contacts if (u := change_status(c, target, source, now))]
    change = plan_usage_change(
        account,
        [Transition(u.before.id, u.before.state, u.after.state) for u in decided],
        now,
        partial=True,
    )
    refused = {t.contact_id for t in change.refused}
    applied = tuple(u for u in decided if u.before.id not in refused)
    pending = sum(u.after.state is MarketingState.MARKETING_UNTIL_NEXT_UPDATE for u in applied)
    progress = BulkProgress(
        processed=len(contacts),
        changed_now=len(applied) - pending,
        became_pending=pending,
        unchanged=len(contacts) - len(decided),
        failed=len(refused),
        failures={ErrorCode.TIER_LIMIT_REACHED: len(refused)} if refused else {},
    )
    return ChunkOutcome(updates=applied, change=change, progress=progress)


def with_missing(progress: BulkProgress) -> BulkProgress:
    """At the end: contacts matched but gone before their chunk count as failed (NOT_FOUND)."""
    missing = progress.matched - progress.processed
    if missing <= 0:
        return progress
    failures = dict(progress.failures)
    failures[ErrorCode.NOT_FOUND] = failures.get(ErrorCode.NOT_FOUND, 0) + missing
    return replace(
        progress, processed=progress.matched, failed=progress.failed + missing, failures=failures
    )


@dataclass(frozen=True)
class BulkOperation:
    """A queued status change over a selection, applied in the background (B4)."""

    id: str
    account_id: str
    target: MarketingStatus
    selection: Selection
    status: BulkOperationStatus
    created_at: datetime
    #: the user who started it
    requested_by: str
    #: P3: the owners of the contacts it selects, as its requester saw them when it started
    #: (None: the whole account's)
    owners: frozenset[str] | None = None
    progress: BulkProgress = BulkProgress()
    source_id: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    #: True once the selection was resolved (its contact ids written down, page by page)
    resolved: bool = False
    #: which resolution's pages the operation follows (storage's token)
    resolution: str | None = None
    #: the pages of the resolved selection applied so far (the next one to apply)
    next_page: int = 0
    #: how many pages the resolved selection has (None for one resolved before it was kept)
    page_count: int | None = None
    #: a worker holds the operation until then; past it, another may resume it
    lease_until: datetime | None = None
    #: the run that holds the lease (its job id); only it may apply pages
    lease_owner: str | None = None
    #: why it FAILED, when it did
    failure: str | None = None
    #: S7: BULK_OPERATION, or WORKFLOW for a workflow's action (`source_id` is the workflow)
    source_type: StatusSourceType = StatusSourceType.BULK_OPERATION

    @property
    def status_source(self) -> StatusSource:
        """The source its changes name: the workflow (S7), else the operation itself."""
        if self.source_type is StatusSourceType.WORKFLOW:
            return StatusSource(StatusSourceType.WORKFLOW, self.source_id)
        if self.source_type is StatusSourceType.LEGACY:  # K1: enableMarketingContacts's
            return StatusSource(StatusSourceType.LEGACY, self.id)
        return StatusSource(StatusSourceType.BULK_OPERATION, self.id)

    @property
    def for_workflow(self) -> bool:
        """S7: a workflow's action, which a transient failure never ends (it is retried)."""
        return self.source_type is StatusSourceType.WORKFLOW

    @property
    def scope(self) -> Scope:
        """What the operation selects from: its requester's records, fixed when it started."""
        return Scope(self.account_id, self.owners)

    def past_page(self, page: BulkProgress, lease_until: datetime) -> BulkOperation:
        """As its run's commit of the next page leaves it: past the page, with the page's
        progress and the lease renewed (what storage writes, conditionally, in that commit)."""
        return replace(
            self,
            next_page=self.next_page + 1,
            progress=self.progress.plus(page),
            lease_until=lease_until,
        )

    def claimable_by(self, owner: str, now: datetime) -> bool:
        """B4: `owner` may take the operation: it waits, or it runs under a lease that ran out
        (its worker died or stalled) or that `owner` holds."""
        if self.status is BulkOperationStatus.QUEUED:
            return True
        return self.status is BulkOperationStatus.RUNNING and (
            self.lease_owner == owner or (self.lease_until is not None and self.lease_until < now)
        )


def check_cancellable(operation: BulkOperation) -> None:
    if operation.status.finished:
        raise refuse(
            ErrorCode.INVALID,
            f"operation {operation.id} is {operation.status.value} and cannot be cancelled",
            "id",
        )

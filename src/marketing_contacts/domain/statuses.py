"""Marketing status: the three states and their transitions (S1-S4, S7)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from marketing_contacts.domain.errors import ErrorCode, refuse


class MarketingStatus(StrEnum):
    """What a caller asks for, and what a contact shows."""

    MARKETING = "MARKETING"
    NON_MARKETING = "NON_MARKETING"


class MarketingState(StrEnum):
    """S1: exactly one of three states; NON_MARKETING with a pending flag cannot be written."""

    NON_MARKETING = "N"
    MARKETING = "M"
    #: marketing now, non-marketing from the next update date on
    MARKETING_UNTIL_NEXT_UPDATE = "P"

    @property
    def status(self) -> MarketingStatus:
        if self is MarketingState.NON_MARKETING:
            return MarketingStatus.NON_MARKETING
        return MarketingStatus.MARKETING

    @property
    def marketing_until_next_update(self) -> bool:
        return self is MarketingState.MARKETING_UNTIL_NEXT_UPDATE

    @property
    def counts_toward_tier(self) -> bool:
        """T1: marketing contacts are those in M or P."""
        return self is not MarketingState.NON_MARKETING


class StatusSourceType(StrEnum):
    USER = "USER"
    BULK_OPERATION = "BULK_OPERATION"
    IMPORT = "IMPORT"
    FORM = "FORM"
    CHATFLOW = "CHATFLOW"
    INTEGRATION = "INTEGRATION"
    WORKFLOW = "WORKFLOW"
    CREATION_DEFAULT = "CREATION_DEFAULT"
    UPDATE_DATE = "UPDATE_DATE"
    MERGE = "MERGE"
    #: K1: the account ran without marketing contacts when the contact was created
    LEGACY = "LEGACY"


#: Source types only the service itself writes; a caller claiming one is refused.
SYSTEM_SOURCE_TYPES = frozenset(
    {
        StatusSourceType.BULK_OPERATION,
        StatusSourceType.CREATION_DEFAULT,
        StatusSourceType.UPDATE_DATE,
        StatusSourceType.MERGE,
        StatusSourceType.LEGACY,
    }
)


@dataclass(frozen=True)
class StatusSource:
    """S4 provenance: the kind of tool and the id of the user, operation, form, ... behind it."""

    type: StatusSourceType
    id: str | None = None


@dataclass(frozen=True)
class StatusChange:
    """One entry of a contact's status history (S4)."""

    at: datetime
    from_state: MarketingState
    to_state: MarketingState
    source: StatusSource

    @property
    def from_status(self) -> MarketingStatus:
        return self.from_state.status

    @property
    def to_status(self) -> MarketingStatus:
        """The status the change asked for: a change to P reads as 'to NON_MARKETING, pending'."""
        if self.to_state is MarketingState.MARKETING_UNTIL_NEXT_UPDATE:
            return MarketingStatus.NON_MARKETING
        return self.to_state.status

    @property
    def pending(self) -> bool:
        """True when the change was scheduled for the next update date instead of applied."""
        return self.to_state is MarketingState.MARKETING_UNTIL_NEXT_UPDATE


@dataclass(frozen=True)
class HistoryEntry:
    """A status history entry of one contact; `seq` orders a contact's entries."""

    account_id: str
    contact_id: str
    seq: int
    change: StatusChange


def decide_status_change(current: MarketingState, target: MarketingStatus) -> MarketingState | None:
    """S2 for a caller's request: the state to move to, or None when nothing changes.

    S3: a marketing contact never becomes non-marketing here; it becomes pending (P) and only
    the update date takes it to N.
    """
    if target is MarketingStatus.MARKETING:
        return None if current is MarketingState.MARKETING else MarketingState.MARKETING
    if current is MarketingState.MARKETING:
        return MarketingState.MARKETING_UNTIL_NEXT_UPDATE
    return None


def state_after_update_date(current: MarketingState) -> MarketingState | None:
    """S2 at an update date: P becomes N; M and N stay."""
    if current is MarketingState.MARKETING_UNTIL_NEXT_UPDATE:
        return MarketingState.NON_MARKETING
    return None


def check_claimable_source(source_type: StatusSourceType) -> None:
    """Callers may name the tool acting through them, but not the service's own sources."""
    if source_type in SYSTEM_SOURCE_TYPES:
        raise refuse(
            ErrorCode.INVALID,
            f"source type {source_type.value} is set by the service itself",
            "source_type",
        )

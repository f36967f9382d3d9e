"""Deals (C1, C3, C5): what an account sells, in the default pipeline's stages.

A deal has an owner (C1) and is associated with contacts and companies. Its stage drives
theirs, forward only (C3): being associated with an open deal makes a record an OPPORTUNITY,
with a won deal a CUSTOMER; a lost deal moves nobody, so a record already associated with a
won deal never falls back from CUSTOMER (C5). `lifecycle_target` says where a deal's stage
takes its records; `moved_by` which stages that move leaves behind, as a store selects them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.errors import ErrorCode, record_name, refuse
from marketing_contacts.domain.lifecycle import forward_to

#: how many contacts, and how many companies, one deal may be associated with: a won deal
#: moves them all in the transaction that wins it
MAX_RECORDS_PER_DEAL = 1_000
#: an amount is money a person types: up to a trillion in the account's currency
MAX_AMOUNT = Decimal("1000000000000")


class DealStage(StrEnum):
    """The default pipeline's stages, in their order."""

    APPOINTMENT_SCHEDULED = "APPOINTMENT_SCHEDULED"
    QUALIFIED_TO_BUY = "QUALIFIED_TO_BUY"
    PRESENTATION_SCHEDULED = "PRESENTATION_SCHEDULED"
    DECISION_MAKER_BOUGHT_IN = "DECISION_MAKER_BOUGHT_IN"
    CONTRACT_SENT = "CONTRACT_SENT"
    CLOSED_WON = "CLOSED_WON"
    CLOSED_LOST = "CLOSED_LOST"

    @property
    def is_open(self) -> bool:
        return self not in (DealStage.CLOSED_WON, DealStage.CLOSED_LOST)


@dataclass(frozen=True)
class Deal:
    id: str
    account_id: str
    name: str
    stage: DealStage
    created_at: datetime
    updated_at: datetime
    amount: Decimal | None = None
    close_date: date | None = None
    owner_id: str | None = None
    #: the associated records, in the order they were associated
    contact_ids: tuple[str, ...] = ()
    company_ids: tuple[str, ...] = ()


def lifecycle_target(stage: DealStage) -> LifecycleStage | None:
    """C5: the stage a deal in `stage` moves its contacts and companies forward to: an open
    deal makes opportunities, a won one customers; a lost one moves nobody (None)."""
    if stage is DealStage.CLOSED_WON:
        return LifecycleStage.CUSTOMER
    if stage is DealStage.CLOSED_LOST:
        return None
    return LifecycleStage.OPPORTUNITY


def moved_by(target: LifecycleStage) -> frozenset[LifecycleStage | None]:
    """C3: the stages (None: no stage) an automatic move to `target` changes; the others it
    leaves as they are."""
    stages: list[LifecycleStage | None] = [None, *LifecycleStage]
    return frozenset(stage for stage in stages if forward_to(stage, target) is not None)


def deal_name(raw: str, *field: str) -> str:
    return record_name("deal", raw, *field)


def deal_amount(amount: Decimal | None, *field: str) -> Decimal | None:
    """An amount is 0 to MAX_AMOUNT (a refund is no deal)."""
    if amount is not None and not Decimal(0) <= amount <= MAX_AMOUNT:
        raise refuse(ErrorCode.INVALID, f"an amount is 0 to {MAX_AMOUNT:,}", *field)
    return amount

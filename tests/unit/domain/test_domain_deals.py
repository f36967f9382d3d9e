"""Deals (C5): where a deal's stage takes its records, which stages that move changes (C3: forward
only), and a deal's own fields; associations with deals (C2)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketing_contacts.domain.associations import (
    Association,
    DealRecord,
    RecordType,
    pair_of,
)
from marketing_contacts.domain.contacts import LifecycleStage, stage_rank
from marketing_contacts.domain.deals import (
    MAX_AMOUNT,
    DealStage,
    deal_amount,
    deal_name,
    lifecycle_target,
    moved_by,
)
from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.lifecycle import forward_to

S = LifecycleStage
CONTACT, COMPANY, DEAL = RecordType.CONTACT, RecordType.COMPANY, RecordType.DEAL


@pytest.mark.parametrize(
    ("stage", "target"),
    [
        (DealStage.APPOINTMENT_SCHEDULED, S.OPPORTUNITY),
        (DealStage.QUALIFIED_TO_BUY, S.OPPORTUNITY),
        (DealStage.PRESENTATION_SCHEDULED, S.OPPORTUNITY),
        (DealStage.DECISION_MAKER_BOUGHT_IN, S.OPPORTUNITY),
        (DealStage.CONTRACT_SENT, S.OPPORTUNITY),
        (DealStage.CLOSED_WON, S.CUSTOMER),
        (DealStage.CLOSED_LOST, None),
    ],
)
def test_c5_an_open_deal_makes_opportunities_a_won_one_customers_a_lost_one_nobody(
    stage: DealStage, target: S | None
) -> None:
    assert lifecycle_target(stage) is target
    assert stage.is_open is (target is S.OPPORTUNITY)


@pytest.mark.parametrize(
    ("target", "moved"),
    [
        (S.OPPORTUNITY, {None, S.OTHER, S.SUBSCRIBER, S.LEAD, S.MARKETING_QUALIFIED_LEAD,
                         S.SALES_QUALIFIED_LEAD}),
        (S.CUSTOMER, {None, S.OTHER, S.SUBSCRIBER, S.LEAD, S.MARKETING_QUALIFIED_LEAD,
                      S.SALES_QUALIFIED_LEAD, S.OPPORTUNITY}),
    ],
)  # fmt: skip
def test_c3_a_deal_moves_only_the_stages_behind_its_target(target: S, moved: set[S | None]) -> None:
    """No stage, OTHER and the earlier stages move; the target itself and later ones stay."""
    assert moved_by(target) == moved


STAGES = st.sampled_from(list(DealStage))


@given(start=st.none() | st.sampled_from(list(S)), stages=st.lists(STAGES, max_size=10))
def test_c5_a_record_never_falls_back_whatever_its_deals_do(
    start: S | None, stages: list[DealStage]
) -> None:
    """A record moved by one deal after another, in any stages: its stage never goes back, and
    once a deal was won it stays a customer or later (C3, C5)."""
    stage = start
    won = False
    for deal_stage in stages:
        target = lifecycle_target(deal_stage)
        before = stage
        if target is not None and stage in moved_by(target):
            stage = forward_to(stage, target)
        if before not in (None, S.OTHER):
            assert stage is not None and stage_rank(stage) >= stage_rank(before)
        won = won or deal_stage is DealStage.CLOSED_WON
        if won:
            assert stage is not None and stage_rank(stage) >= stage_rank(S.CUSTOMER)


@pytest.mark.parametrize(
    ("association", "pair"),
    [
        (Association(DEAL, "d", CONTACT, "p"), DealRecord("d", CONTACT, "p")),
        (Association(CONTACT, "p", DEAL, "d"), DealRecord("d", CONTACT, "p")),
        (Association(COMPANY, "c", DEAL, "d"), DealRecord("d", COMPANY, "c")),
    ],
)
def test_c5_a_deal_association_is_the_same_whichever_side_names_it(
    association: Association, pair: DealRecord
) -> None:
    assert pair_of(association) == pair


@pytest.mark.parametrize(
    ("amount", "ok"),
    [
        (None, True),
        (Decimal("0"), True),
        (Decimal("1200.50"), True),
        (MAX_AMOUNT, True),
        (Decimal("-0.01"), False),
        (MAX_AMOUNT + 1, False),
    ],
)
def test_a_deal_amount_is_zero_to_a_trillion(amount: Decimal | None, ok: bool) -> None:
    if ok:
        assert deal_amount(amount, "amount") == amount
        return
    with pytest.raises(DomainError) as refused:
        deal_amount(amount, "amount")
    assert [(e.code, e.field) for e in refused.value.errors] == [(ErrorCode.INVALID, ("amount",))]


@pytest.mark.parametrize("raw", ["", "   ", "x" * 201, "a\x00b"])
def test_a_deal_name_is_one_to_two_hundred_printable_characters(raw: str) -> None:
    with pytest.raises(DomainError) as refused:
        deal_name(raw, "name")
    assert [(e.code, e.field) for e in refused.value.errors] == [(ErrorCode.INVALID, ("name",))]
    assert deal_name("  Renewal  ", "name") == "Renewal"

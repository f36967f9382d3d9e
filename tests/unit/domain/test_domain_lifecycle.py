"""C3 and C4: the stage a creation source gives a new contact, configured per account, and
automatic moves that only go forward."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketing_contacts.domain.contacts import LifecycleStage, stage_rank
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.lifecycle import LifecycleDefaults, forward_to, initial_stage

S = LifecycleStage
C = CreationSource
C4 = LifecycleDefaults()


@pytest.mark.parametrize(
    ("source", "stage"),
    [
        (C.FORM, S.LEAD),
        (C.EXTERNAL_FORM, S.LEAD),
        (C.MANUAL, S.LEAD),
        (C.API, S.LEAD),
        (C.INTEGRATION, S.LEAD),
        (C.IMPORT, None),  # the import chooses
        (C.CHATFLOW, None),
        (C.SALES_EMAIL, None),
    ],
)
def test_c4_each_source_has_its_default_stage(source: CreationSource, stage: S | None) -> None:
    assert C4.default_for(source) is stage
    assert initial_stage(source, None, C4) is stage


def test_c4_a_stage_asked_for_wins_over_the_default() -> None:
    assert initial_stage(C.API, S.CUSTOMER, C4) is S.CUSTOMER


def test_c4_an_account_configures_its_defaults_for_contacts_made_afterwards() -> None:
    configured = C4.configured([(C.API, S.SUBSCRIBER), (C.FORM, None), (C.IMPORT, S.LEAD)])
    assert configured.default_for(C.API) is S.SUBSCRIBER
    assert configured.default_for(C.FORM) is None
    assert configured.default_for(C.IMPORT) is S.LEAD
    assert configured.default_for(C.MANUAL) is S.LEAD
    back = configured.configured([(C.API, S.LEAD)])
    assert back.default_for(C.API) is S.LEAD
    assert C.API not in back.overrides  # the default again: nothing stored for it
    assert set(configured.all()) == set(CreationSource)


def test_c4_a_source_named_twice_is_invalid() -> None:
    with pytest.raises(DomainError) as refused:
        C4.configured([(C.API, S.LEAD), (C.API, S.SUBSCRIBER)], "lifecycle_defaults")
    assert [(e.code, e.field) for e in refused.value.errors] == [
        (ErrorCode.INVALID, ("lifecycle_defaults", "1"))
    ]


@pytest.mark.parametrize(
    ("current", "target", "after"),
    [
        (None, S.OPPORTUNITY, S.OPPORTUNITY),
        (S.LEAD, S.OPPORTUNITY, S.OPPORTUNITY),
        (S.OPPORTUNITY, S.OPPORTUNITY, None),  # already there: no change
        (S.CUSTOMER, S.OPPORTUNITY, None),  # never back
        (S.EVANGELIST, S.CUSTOMER, None),
        (S.OTHER, S.CUSTOMER, S.CUSTOMER),  # OTHER stands outside the order
    ],
)
def test_c3_an_automatic_change_moves_a_stage_forward_only(
    current: S | None, target: S, after: S | None
) -> None:
    assert forward_to(current, target) is after


ORDERED = st.sampled_from([stage for stage in LifecycleStage if stage is not S.OTHER])


@given(start=st.none() | ORDERED, moves=st.lists(ORDERED, max_size=12))
def test_c3_automatic_changes_never_move_a_stage_back(start: S | None, moves: list[S]) -> None:
    stage = start
    for target in moves:
        moved = forward_to(stage, target)
        if moved is not None:
            assert stage is None or stage_rank(moved) > stage_rank(stage)
            stage = moved
    if moves:
        assert stage is not None
        assert stage_rank(stage) == max(
            stage_rank(s) for s in [*moves, *([start] if start else [])]
        )

"""D3: form submissions of existing contacts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from marketing_contacts.domain.contacts import Contact, apply_form_submission
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.statuses import MarketingState, StatusSource, StatusSourceType

AT = datetime(2026, 11, 25, 12, tzinfo=UTC)
N, M, P = (
    MarketingState.NON_MARKETING,
    MarketingState.MARKETING,
    MarketingState.MARKETING_UNTIL_NEXT_UPDATE,
)


def contact(state: MarketingState, created_via: CreationSource) -> Contact:
    return Contact(
        id="c1",
        account_id="a1",
        created_via=created_via,
        created_at=AT,
        updated_at=AT,
        state=state,
        status_source=StatusSource(StatusSourceType.CREATION_DEFAULT),
        status_changed_at=AT,
        pending_since=AT if state is P else None,
    )


@pytest.mark.parametrize("created_via", [CreationSource.SALES_EMAIL, CreationSource.IMPORT])
@pytest.mark.parametrize("state", [N, P])
def test_d3_form_with_setting_on_makes_an_existing_submitter_marketing(
    state: MarketingState, created_via: CreationSource
) -> None:
    update = apply_form_submission(contact(state, created_via), True, "form-7", AT)
    assert update is not None
    assert update.after.state is M
    assert update.after.pending_since is None
    assert update.after.status_source == StatusSource(StatusSourceType.FORM, "form-7")
    assert update.change.from_state is state


def test_d3_marketing_submitter_stays_and_stores_nothing() -> None:
    assert apply_form_submission(contact(M, CreationSource.FORM), True, "form-7", AT) is None


@pytest.mark.parametrize("state", [N, P, M])
def test_d3_form_with_setting_off_leaves_the_status(state: MarketingState) -> None:
    assert apply_form_submission(contact(state, CreationSource.API), False, "form-7", AT) is None

"""Chatflows and connected apps, pure (F2, F3, F4): the status a new contact gets from the
channel's setting, the setting toggled with marketingSince, who may turn it on, the names and
the sources a channel's contacts show."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from marketing_contacts.domain.apps import (
    App,
    AppKind,
    app_name,
    check_may_turn_on,
    new_app,
    status_for_new_contact,
    toggled,
)
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.statuses import MarketingStatus, StatusSource, StatusSourceType

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
T1 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def app(kind: AppKind = AppKind.INTEGRATION, *, on: bool = False) -> App:
    return new_app("a1", "acc", kind, "Shop", on, T0)


@pytest.mark.parametrize(
    ("on", "status"),
    [(False, MarketingStatus.NON_MARKETING), (True, MarketingStatus.MARKETING)],
)
@pytest.mark.parametrize("kind", list(AppKind))
def test_f2_f3_a_new_contact_is_marketing_only_while_the_setting_is_on(
    kind: AppKind, on: bool, status: MarketingStatus
) -> None:
    assert status_for_new_contact(app(kind, on=on)) is status


@pytest.mark.parametrize(
    ("kind", "created_via", "source"),
    [
        (AppKind.CHATFLOW, CreationSource.CHATFLOW, StatusSourceType.CHATFLOW),
        (AppKind.INTEGRATION, CreationSource.INTEGRATION, StatusSourceType.INTEGRATION),
    ],
)
def test_f2_f3_a_channels_contacts_name_it(
    kind: AppKind, created_via: CreationSource, source: StatusSourceType
) -> None:
    assert kind.created_via is created_via
    assert app(kind).status_source == StatusSource(source, "a1")


@pytest.mark.parametrize(
    ("on", "since"),
    [(False, None), (True, T0)],
)
def test_f3_a_new_app_is_off_by_default_and_marketing_since_its_creation_when_on(
    on: bool, since: datetime | None
) -> None:
    made = app(on=on)
    assert (made.sets_marketing, made.marketing_since) == (on, since)


@pytest.mark.parametrize(
    ("was_on", "turn_on", "expected"),
    [
        (False, True, (True, T1)),  # turned on: since now
        (True, False, (False, None)),  # turned off: no since
        (False, False, None),  # as it is: nothing to write
        (True, True, None),  # on already: keeps its first since
    ],
)
def test_f3_toggling_sets_marketing_since_when_turned_on_and_clears_it_when_off(
    was_on: bool, turn_on: bool, expected: tuple[bool, datetime | None] | None
) -> None:
    after = toggled(app(on=was_on), turn_on, T1)
    if expected is None:
        assert after is None
    else:
        assert after is not None
        assert (after.sets_marketing, after.marketing_since, after.updated_at) == (*expected, T1)


@pytest.mark.parametrize(
    ("turn_on", "access", "refused"),
    [(True, True, False), (True, False, True), (False, False, False), (False, True, False)],
)
def test_f4_turning_the_setting_on_needs_marketing_access(
    turn_on: bool, access: bool, refused: bool
) -> None:
    if not refused:
        check_may_turn_on(turn_on, marketing_access=access, field=("setting",))
        return
    with pytest.raises(DomainError) as error:
        check_may_turn_on(turn_on, marketing_access=access, field=("setting",))
    assert [(e.code, e.field) for e in error.value.errors] == [(ErrorCode.FORBIDDEN, ("setting",))]


@pytest.mark.parametrize(
    ("raw", "name"),
    [("  Website chat ", "Website chat"), ("x" * 200, "x" * 200), ("", None), ("x" * 201, None)],
)
def test_a_channels_name_is_trimmed_and_bounded(raw: str, name: str | None) -> None:
    if name is not None:
        assert app_name(AppKind.CHATFLOW, raw, "name") == name
        return
    with pytest.raises(DomainError) as error:
        app_name(AppKind.CHATFLOW, raw, "name")
    assert [(e.code, e.field) for e in error.value.errors] == [(ErrorCode.INVALID, ("name",))]

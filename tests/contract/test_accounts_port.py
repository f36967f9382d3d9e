"""AccountStore: accounts read back whole, settings are written at the revision they were read
at, and the update-date job finds the accounts whose update date has started in their zone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType

import pytest

from marketing_contacts.domain.alerts import AlertState
from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.creation import CreationDefaults, CreationSource
from marketing_contacts.domain.lifecycle import LifecycleDefaults
from marketing_contacts.domain.statuses import MarketingStatus
from marketing_contacts.domain.tiers import UpgradePolicy
from marketing_contacts.domain.usage import UsageCounts
from marketing_contacts.services.ports.accounts import DueUpdateDate
from marketing_contacts.services.ports.changes import StaleWrite
from marketing_contacts.services.wiring import Ports
from tests.contract.records import stored_account

FORMS_NON_MARKETING = CreationDefaults(
    MappingProxyType({CreationSource.FORM: MarketingStatus.NON_MARKETING})
)
#: C4: API contacts start as subscribers, chat ones as leads, form ones with no stage
STAGES = LifecycleDefaults(
    MappingProxyType(
        {
            CreationSource.API: LifecycleStage.SUBSCRIBER,
            CreationSource.CHATFLOW: LifecycleStage.LEAD,
            CreationSource.FORM: None,
        }
    )
)
MILLISECOND = timedelta(milliseconds=1)


async def test_an_account_reads_back_with_every_field(ports: Ports) -> None:
    account = await stored_account(
        ports,
        timezone="Europe/Paris",
        tier_limit=2000,
        upgrade_policy=UpgradePolicy.BLOCK,
        next_update_date=date(2025, 3, 1),
        alert_state=AlertState(date(2025, 2, 1), 2000, frozenset({75, 90}), upgrade_blocked=True),
        alert_thresholds=(50, 100),
        counts=UsageCounts(marketing=3, pending=1, total=7),
        creation_defaults=FORMS_NON_MARKETING,
        lifecycle_defaults=STAGES,
        revision=4,
    )
    assert await ports.accounts.get(account.id) == account


async def test_an_account_that_is_not_stored_reads_as_none(ports: Ports) -> None:
    await stored_account(ports)
    assert await ports.accounts.get(ports.ids.new_id()) is None
    assert await ports.accounts.get("not-an-id") is None


async def test_settings_are_written_at_the_revision_they_were_read_at(ports: Ports) -> None:
    account = await stored_account(ports)
    after = replace(
        account,
        name="Renamed",
        timezone="America/New_York",
        upgrade_policy=UpgradePolicy.BLOCK,
        alert_thresholds=(60, 100),
        creation_defaults=FORMS_NON_MARKETING,
        lifecycle_defaults=STAGES,
        revision=account.revision + 1,
    )
    await ports.accounts.replace_settings(account, after)
    assert await ports.accounts.get(account.id) == after


async def test_replacing_settings_writes_nothing_but_the_settings(ports: Ports) -> None:
    account = await stored_account(ports)
    after = replace(
        account,
        name="Renamed",
        tier_limit=account.tier_limit * 2,
        counts=UsageCounts(marketing=5, pending=0, total=5),
        revision=account.revision + 1,
    )
    await ports.accounts.replace_settings(account, after)
    assert await ports.accounts.get(account.id) == replace(
        account, name="Renamed", revision=after.revision
    )


async def test_settings_read_before_another_write_are_refused_and_write_nothing(
    ports: Ports,
) -> None:
    account = await stored_account(ports)
    first = replace(account, name="First", revision=account.revision + 1)
    await ports.accounts.replace_settings(account, first)
    with pytest.raises(StaleWrite):
        await ports.accounts.replace_settings(
            account, replace(account, name="Second", revision=account.revision + 1)
        )
    assert await ports.accounts.get(account.id) == first
    ghost = replace(account, id=ports.ids.new_id())
    with pytest.raises(StaleWrite):
        await ports.accounts.replace_settings(ghost, replace(ghost, name="Nobody"))
    assert await ports.accounts.get(ghost.id) is None


async def test_an_account_is_due_once_its_update_date_starts_in_its_zone(ports: Ports) -> None:
    first_of_march = date(2025, 3, 1)
    in_utc = await stored_account(ports, timezone="UTC", next_update_date=first_of_march)
    in_tokyo = await stored_account(ports, timezone="Asia/Tokyo", next_update_date=first_of_march)
    await stored_account(ports, timezone="UTC", next_update_date=date(2025, 4, 1))
    tokyo_midnight = datetime(2025, 2, 28, 15, 0, tzinfo=UTC)
    utc_midnight = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)

    assert await ports.accounts.due_for_update(tokyo_midnight - MILLISECOND) == []
    assert await ports.accounts.due_for_update(tokyo_midnight) == [
        DueUpdateDate(in_tokyo.id, first_of_march)
    ]
    due = await ports.accounts.due_for_update(utc_midnight)
    assert sorted(due, key=lambda d: d.account_id) == sorted(
        [DueUpdateDate(in_utc.id, first_of_march), DueUpdateDate(in_tokyo.id, first_of_march)],
        key=lambda d: d.account_id,
    )


async def test_a_new_zone_moves_the_instant_the_account_is_due(ports: Ports) -> None:
    account = await stored_account(ports, timezone="UTC", next_update_date=date(2025, 3, 1))
    tokyo_midnight = datetime(2025, 2, 28, 15, 0, tzinfo=UTC)
    assert await ports.accounts.due_for_update(tokyo_midnight) == []
    await ports.accounts.replace_settings(
        account, replace(account, timezone="Asia/Tokyo", revision=account.revision + 1)
    )
    assert await ports.accounts.due_for_update(tokyo_midnight) == [
        DueUpdateDate(account.id, date(2025, 3, 1))
    ]


async def test_all_ids_names_every_account(ports: Ports) -> None:
    assert await ports.accounts.all_ids() == []
    made = [await stored_account(ports) for _ in range(3)]
    assert sorted(await ports.accounts.all_ids()) == sorted(a.id for a in made)

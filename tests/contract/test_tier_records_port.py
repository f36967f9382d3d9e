"""TierRecords: an account's tier changes and alerts newest first in keyset pages, and the alerts
raised since an instant, oldest first (a subscription catching up)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from marketing_contacts.domain.alerts import TierAlert
from marketing_contacts.domain.tiers import TierChange
from marketing_contacts.services.paging import BadCursor, Page, Stored
from marketing_contacts.services.ports.changes import ChangeBatch
from marketing_contacts.services.wiring import Ports
from tests.contract.records import (
    alert,
    all_pages,
    items_of,
    now,
    raise_alerts,
    stored_account,
    tier_change,
)

MINUTE = timedelta(minutes=1)


async def test_tier_changes_page_newest_first(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    stored = []
    for limit in (2000, 3000, 4000):
        committed = await ports.writer.commit(
            ChangeBatch(account, account, tier_change=tier_change(ports, limit))
        )
        assert committed.tier_change is not None
        stored.append(committed.tier_change)
    await ports.writer.commit(ChangeBatch(other, other, tier_change=tier_change(ports, 9000)))

    async def read(first: int, after: str | None) -> Page[Stored[TierChange]]:
        return await ports.tier_records.tier_changes(account.id, first, after)

    pages = await all_pages(read, 2)
    assert items_of(pages) == stored[::-1]
    assert [page.has_next_page for page in pages] == [True, False]
    assert [page.has_previous_page for page in pages] == [False] + [True] * (len(pages) - 1)
    assert await ports.tier_records.count_tier_changes(account.id) == 3
    assert await ports.tier_records.count_tier_changes(other.id) == 1


async def test_alerts_page_newest_first(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    start = now(ports) - timedelta(hours=1)
    committed = await raise_alerts(ports, account, *(alert(start + i * MINUTE) for i in range(3)))
    await raise_alerts(ports, other, alert(start))

    async def read(first: int, after: str | None) -> Page[Stored[TierAlert]]:
        return await ports.tier_records.alerts(account.id, first, after)

    pages = await all_pages(read, 1)
    assert items_of(pages) == list(committed.alerts)[::-1]
    assert [page.has_next_page for page in pages] == [True, True, False]
    assert [page.has_previous_page for page in pages] == [False] + [True] * (len(pages) - 1)
    assert await ports.tier_records.count_alerts(account.id) == 3
    assert await ports.tier_records.count_alerts(other.id) == 1


async def test_an_account_without_records_has_empty_pages(ports: Ports) -> None:
    account = await stored_account(ports)
    assert await ports.tier_records.alerts(account.id, 10, None) == Page([], [], False)
    assert await ports.tier_records.tier_changes(account.id, 10, None) == Page([], [], False)
    assert await ports.tier_records.count_alerts(account.id) == 0
    assert await ports.tier_records.count_tier_changes(account.id) == 0


async def test_a_cursor_of_another_connection_is_refused(ports: Ports) -> None:
    account = await stored_account(ports)
    await raise_alerts(ports, account, alert(now(ports)))
    await ports.writer.commit(ChangeBatch(account, account, tier_change=tier_change(ports, 2000)))
    (alert_cursor,) = (await ports.tier_records.alerts(account.id, 1, None)).cursors
    (change_cursor,) = (await ports.tier_records.tier_changes(account.id, 1, None)).cursors
    for read, cursor in (
        (ports.tier_records.alerts, change_cursor),
        (ports.tier_records.tier_changes, alert_cursor),
        (ports.tier_records.alerts, "%%%"),
    ):
        with pytest.raises(BadCursor):
            await read(account.id, 1, cursor)


async def test_alerts_since_an_instant_come_oldest_first(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    start = now(ports) - timedelta(hours=1)
    committed = await raise_alerts(
        ports, account, *(alert(start + i * MINUTE, 70 + i) for i in range(4))
    )
    await raise_alerts(ports, other, alert(start + MINUTE))
    since = ports.tier_records.alerts_since
    stored = list(committed.alerts)
    assert await since(account.id, start + MINUTE, 10) == stored[1:]
    assert await since(account.id, start + MINUTE, 2) == stored[1:3]
    assert await since(account.id, start - MINUTE, 10) == stored
    assert await since(account.id, start + 4 * MINUTE, 10) == []

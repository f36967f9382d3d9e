"""AppStore: chatflows and connected apps read back whole, only in their account and of their
kind, all of an account's in creation order; an account keeps at most `limit` of a kind; a
setting change holds only while the stored setting is the one read, and writes nothing when it
is not or the channel is gone; each write records its audit entry (P4)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.apps import App, AppKind, new_app, toggled
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.wiring import Ports
from tests.contract.records import now, stored_account
from tests.contract.test_companies_port import entry


def made(ports: Ports, account: Account, kind: AppKind, name: str, *, on: bool = False) -> App:
    at = now(ports)
    return new_app(ports.ids.new_id(at=at), account.id, kind, name, on, at)


async def actions(ports: Ports, account: Account) -> list[str]:
    page = await ports.audit.page(Scope(account.id), None, 50, None)
    return sorted(e.action for e in page.items)


@pytest.mark.parametrize("kind", list(AppKind))
async def test_a_channel_reads_back_whole_only_in_its_account_and_kind(
    ports: Ports, kind: AppKind
) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    first = made(ports, account, kind, "Website", on=True)
    second = made(ports, account, kind, "Shop")
    theirs = made(ports, other, kind, "Theirs")
    for app in (first, second, theirs):
        assert await ports.apps.insert(app, 10, entry(ports, account, "create", app.id))
    assert await ports.apps.get(account.id, kind, first.id) == first
    assert await ports.apps.get(other.id, kind, first.id) is None
    assert await ports.apps.get(account.id, kind, "not-an-id") is None
    (elsewhere,) = [k for k in AppKind if k is not kind]
    assert await ports.apps.get(account.id, elsewhere, first.id) is None
    assert await ports.apps.all(account.id, kind) == [first, second]
    assert await ports.apps.all(account.id, elsewhere) == []
    assert await ports.apps.all(other.id, kind) == [theirs]


async def test_an_account_keeps_at_most_limit_channels_of_a_kind(ports: Ports) -> None:
    account = await stored_account(ports)
    kept = [made(ports, account, AppKind.CHATFLOW, f"Chat {n}") for n in range(2)]
    for app in kept:
        assert await ports.apps.insert(app, 2, entry(ports, account, "createChatflow", app.id))
    extra = made(ports, account, AppKind.CHATFLOW, "One more")
    assert not await ports.apps.insert(extra, 2, entry(ports, account, "createChatflow", "x"))
    assert await ports.apps.all(account.id, AppKind.CHATFLOW) == kept
    assert await actions(ports, account) == ["createChatflow"] * 2
    # the other kind counts apart
    app = made(ports, account, AppKind.INTEGRATION, "App")
    assert await ports.apps.insert(app, 2)


async def test_a_setting_change_holds_only_over_the_setting_read(ports: Ports) -> None:
    account = await stored_account(ports)
    app = made(ports, account, AppKind.INTEGRATION, "Shop")
    assert await ports.apps.insert(app, 10)
    on = toggled(app, True, now(ports))
    assert on is not None
    assert await ports.apps.set_marketing(app, on, entry(ports, account, "updateIntegration"))
    assert await ports.apps.get(account.id, AppKind.INTEGRATION, app.id) == on
    # decided on the old setting: stale, nothing written
    stale = replace(on, name="Shop", updated_at=now(ports))
    assert not await ports.apps.set_marketing(app, stale, entry(ports, account, "stale"))
    off = toggled(on, False, now(ports))
    assert off is not None
    assert await ports.apps.set_marketing(on, off)
    assert await ports.apps.get(account.id, AppKind.INTEGRATION, app.id) == off
    gone = made(ports, account, AppKind.INTEGRATION, "Gone")
    assert not await ports.apps.set_marketing(gone, replace(gone, sets_marketing=True))
    assert await actions(ports, account) == ["updateIntegration"]

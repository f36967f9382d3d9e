"""The demo account `marketing-contacts dev` creates on its first start."""

from __future__ import annotations

from dataclasses import dataclass

from marketing_contacts.runtime import open_runtime
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.settings import Settings

DEMO_NAME = "Demo account"


@dataclass(frozen=True)
class DemoAccount:
    account_id: str
    token: str


async def ensure_demo_account(settings: Settings) -> DemoAccount | None:
    """Open a demo account and a token for it, unless the database has accounts already."""
    async with open_runtime(settings) as runtime:
        services = runtime.services
        if await services.ports.accounts.all_ids():
            return None
        account = await services.accounts.open(AccountOpening(name=DEMO_NAME))
        _, secret = await services.tokens.issue(account.id, "demo")
        return DemoAccount(account.id, secret)

"""Accounts to measure, opened and filled through the services (what a user could do)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from marketing_contacts.domain.statuses import MarketingStatus
from marketing_contacts.runtime import open_runtime
from marketing_contacts.services.accounts import AccountOpening, AccountSettings
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.services.registry import Services
from marketing_contacts.settings import Settings

#: accounts filled at once: each account's writes queue on its lock, different accounts' do not
CONCURRENT_ACCOUNTS = 8


@dataclass(frozen=True)
class AccountPlan:
    """What each account gets: its tier ladder, its alert thresholds (the domain's default
    when None), and its contacts, in order, by status."""

    tier_limit: int
    tier_step: int
    contacts: tuple[MarketingStatus, ...] = ()
    alert_thresholds: tuple[int, ...] | None = None


@dataclass(frozen=True)
class BenchAccount:
    id: str
    token: str
    contact_ids: tuple[str, ...]


async def _open_one(services: Services, name: str, plan: AccountPlan) -> BenchAccount:
    opening = AccountOpening(name=name, tier_limit=plan.tier_limit, tier_step=plan.tier_step)
    account = await services.accounts.open(opening)
    admin = await services.users.first_admin(account.id)
    _, secret = await services.tokens.issue(admin, "bench")
    caller = await services.tokens.authenticate(secret)
    assert caller is not None
    if plan.alert_thresholds is not None:
        settings = AccountSettings(alert_thresholds=plan.alert_thresholds)
        await services.accounts.update_settings(caller, settings)
    ids = []
    for number, status in enumerate(plan.contacts):
        draft = ContactDraft(marketing_status=status, email=f"{name}-{number}@example.com")
        ids.append((await services.contacts.create(caller, draft)).id)
    return BenchAccount(account.id, secret, tuple(ids))


async def open_accounts(
    settings: Settings, prefix: str, count: int, plan: AccountPlan
) -> list[BenchAccount]:
    """`count` accounts named `prefix-N`, each opened and filled by `plan`, in order."""
    gate = asyncio.Semaphore(CONCURRENT_ACCOUNTS)
    async with open_runtime(settings) as runtime:

        async def one(number: int) -> BenchAccount:
            async with gate:
                return await _open_one(runtime.services, f"{prefix}-{number}", plan)

        return list(await asyncio.gather(*(one(n) for n in range(count))))


def statuses(marketing: int, non_marketing: int) -> tuple[MarketingStatus, ...]:
    """`marketing` MARKETING contacts, then `non_marketing` NON_MARKETING ones."""
    return (MarketingStatus.MARKETING,) * marketing + (
        MarketingStatus.NON_MARKETING,
    ) * non_marketing

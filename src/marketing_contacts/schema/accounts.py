"""Accounts: the caller's account, its settings, its tier changes and alerts."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from marketing_contacts.domain.accounts import Account as DomainAccount
from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.statuses import MarketingStatus
from marketing_contacts.domain.tiers import Edition, UpgradePolicy
from marketing_contacts.domain.update_dates import CommitmentTerm
from marketing_contacts.schema.connections import After, Connection, First, connection, first_or
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.errors import UserError, attempt
from marketing_contacts.schema.tiers import TierAlert, TierChange
from marketing_contacts.schema.usage import Usage
from marketing_contacts.services.accounts import AccountSettings


@strawberry.type(description="The marketing status a creation source gives new contacts.")
class CreationDefault:
    source: CreationSource = strawberry.field(description="How the contacts come in.")
    marketing_status: MarketingStatus = strawberry.field(
        description="The status contacts created this way get when the request names none."
    )


@strawberry.type(description="The lifecycle stage a creation source gives new contacts (C4).")
class LifecycleDefault:
    source: CreationSource = strawberry.field(description="How the contacts come in.")
    lifecycle_stage: LifecycleStage | None = strawberry.field(
        description="The stage contacts created this way get when the request names none; "
        "null: no stage."
    )


@strawberry.type(description="One customer of the service: its contacts, tier and settings.")
class Account:
    id: strawberry.ID = strawberry.field(description="The account's id.")
    name: str = strawberry.field(description="The account's name.")
    edition: Edition = strawberry.field(
        description="The product edition; it sets the ladder of tiers."
    )
    commitment_term: CommitmentTerm = strawberry.field(
        description="How the account is billed; it sets the update dates."
    )
    timezone: str = strawberry.field(
        description="IANA zone name, e.g. Europe/Amsterdam; update dates start at 00:00 there."
    )
    tier_limit: int = strawberry.field(
        description="How many marketing contacts the tier holds; it never goes down by itself."
    )
    next_update_date: date = strawberry.field(
        description="The day pending contacts become non-marketing."
    )
    upgrade_policy: UpgradePolicy = strawberry.field(
        description="What a change that would exceed the tier does: upgrade it, or be refused."
    )
    alert_thresholds: list[int] = strawberry.field(
        description="Percents of the tier that raise an alert once per update period."
    )
    usage: Usage = strawberry.field(description="The account's counts against its tier.")
    creation_defaults: list[CreationDefault] = strawberry.field(
        description="The default marketing status of every creation source."
    )
    lifecycle_defaults: list[LifecycleDefault] = strawberry.field(
        description="The default lifecycle stage of every creation source (C4)."
    )
    marketing_contacts_enabled: bool = strawberry.field(
        description="False for an account without marketing contacts (K1): every contact "
        "counts and statuses cannot be set."
    )

    @strawberry.field(description="The account's tier upgrades, newest first.")
    async def tier_changes(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[TierChange]:
        accounts, caller = info.context.services.accounts, info.context.caller
        page = await accounts.tier_changes(caller, first_or(first, 20), after)
        return connection(page, TierChange.of, lambda: accounts.tier_change_count(caller))

    @strawberry.field(description="Every alert the account has had, newest first.")
    async def alerts(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[TierAlert]:
        accounts, caller = info.context.services.accounts, info.context.caller
        page = await accounts.alerts(caller, first_or(first, 20), after)
        return connection(page, TierAlert.of, lambda: accounts.alert_count(caller))

    @classmethod
    def of(cls, account: DomainAccount) -> Account:
        return cls(
            id=strawberry.ID(account.id),
            name=account.name,
            edition=account.edition,
            commitment_term=account.commitment_term,
            timezone=account.timezone,
            tier_limit=account.tier_limit,
            next_update_date=account.next_update_date,
            upgrade_policy=account.upgrade_policy,
            alert_thresholds=list(account.alert_thresholds),
            usage=Usage.of(account.usage),
            creation_defaults=[
                CreationDefault(source=source, marketing_status=status)
                for source, status in account.creation_defaults.all().items()
            ],
            lifecycle_defaults=[
                LifecycleDefault(source=source, lifecycle_stage=stage)
                for source, stage in account.lifecycle_defaults.all().items()
            ],
            marketing_contacts_enabled=account.marketing_contacts_enabled,
        )


@strawberry.input(description="One creation source's default marketing status.")
class CreationDefaultInput:
    source: CreationSource = strawberry.field(description="How the contacts come in.")
    marketing_status: MarketingStatus = strawberry.field(
        description="The status contacts created this way get from now on when the request "
        "names none."
    )


@strawberry.input(description="One creation source's default lifecycle stage (C4).")
class LifecycleDefaultInput:
    source: CreationSource = strawberry.field(description="How the contacts come in.")
    lifecycle_stage: LifecycleStage | None = strawberry.field(
        description="The stage contacts created this way get from now on when the request "
        "names none; null: no stage."
    )


@strawberry.input(description="The settings to change; fields left out or null stay as they are.")
class AccountSettingsInput:
    name: str | None = strawberry.field(
        default=None, description="The account's name: 1 to 200 characters, trimmed."
    )
    timezone: str | None = strawberry.field(
        default=None,
        description="An IANA zone name, e.g. Europe/Amsterdam: update dates start at 00:00 "
        "there from the next one on.",
    )
    upgrade_policy: UpgradePolicy | None = strawberry.field(
        default=None, description="AUTO or BLOCK, for changes from now on."
    )
    alert_thresholds: list[int] | None = strawberry.field(
        default=None,
        description="Percents of the tier, each from 1 to 100 and none twice, that raise an "
        "alert once per update period; replaces the whole list.",
    )
    creation_defaults: list[CreationDefaultInput] | None = strawberry.field(
        default=None,
        description="Default statuses to change; contacts created afterwards take them. The "
        "sources that always create non-marketing contacts cannot be MARKETING.",
    )
    lifecycle_defaults: list[LifecycleDefaultInput] | None = strawberry.field(
        default=None,
        description="Default lifecycle stages to change (C4); contacts created afterwards "
        "take them.",
    )

    def to_settings(self) -> AccountSettings:
        return AccountSettings(
            name=self.name,
            timezone=self.timezone,
            upgrade_policy=self.upgrade_policy,
            alert_thresholds=None
            if self.alert_thresholds is None
            else tuple(self.alert_thresholds),
            creation_defaults=None
            if self.creation_defaults is None
            else tuple((d.source, d.marketing_status) for d in self.creation_defaults),
            lifecycle_defaults=None
            if self.lifecycle_defaults is None
            else tuple((d.source, d.lifecycle_stage) for d in self.lifecycle_defaults),
        )


@strawberry.type(description="The result of updateAccountSettings or enableMarketingContacts.")
class AccountPayload:
    account: Account | None = strawberry.field(
        description="The account with its new settings; null when userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was changed; empty on success."
    )


@strawberry.type
class AccountQueries:
    @strawberry.field(description="The account of the caller's token.")
    async def account(self, info: Info) -> Account:
        return Account.of(await info.context.services.accounts.get(info.context.caller))


@strawberry.type
class AccountMutations:
    @strawberry.mutation(
        description="Changes the caller's account's settings; all or nothing on a userError."
    )
    async def update_account_settings(
        self,
        info: Info,
        input: Annotated[
            AccountSettingsInput, strawberry.argument(description="The settings to change.")
        ],
    ) -> AccountPayload:
        ctx = info.context
        result = await attempt(
            info, ctx.services.accounts.update_settings(ctx.caller, input.to_settings())
        )
        if isinstance(result, list):
            return AccountPayload(account=None, user_errors=result)
        return AccountPayload(account=Account.of(result), user_errors=[])

    @strawberry.mutation(
        description="K1: one-way; every existing contact becomes non-marketing and the tier "
        "rules apply from then on. Admins only."
    )
    async def enable_marketing_contacts(self, info: Info) -> AccountPayload:
        ctx = info.context
        result = await attempt(info, ctx.services.accounts.enable_marketing_contacts(ctx.caller))
        if isinstance(result, list):
            return AccountPayload(account=None, user_errors=result)
        return AccountPayload(account=Account.of(result), user_errors=[])

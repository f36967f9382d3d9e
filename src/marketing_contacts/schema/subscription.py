"""The Subscription root: alerts, usage and bulk progress as they happen (A3)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from marketing_contacts.domain.errors import DomainError, ErrorCode, quoted, refuse
from marketing_contacts.schema.bulk import BulkOperation, OperationId
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.imports import Import, ImportId
from marketing_contacts.schema.tiers import TierAlert
from marketing_contacts.schema.usage import Usage
from marketing_contacts.services.subscriptions import EventFeed


def hub_of(info: Info) -> EventFeed:
    hub = info.context.hub
    if hub is None:
        raise refuse(ErrorCode.INVALID, "subscriptions are served over WebSocket only")
    return hub


def undelivered(what: str) -> DomainError:
    """The subscription could not hold every alert (the client was slow, or too many were
    raised while the feed was down): it ends, and the client reads them all."""
    return refuse(
        ErrorCode.TOO_MANY,
        f"{what} could not be delivered; read Account.alerts for every alert, then subscribe again",
    )


@strawberry.type(
    description="What a caller hears as it happens, over WebSocket (graphql-transport-ws) at "
    "/graphql; always about the account of its token."
)
class Subscription:
    @strawberry.subscription(
        description="Alerts of the caller's account as they happen: thresholds, exceeding, "
        "upgrades, blocked upgrades."
    )
    async def tier_alerts(self, info: Info) -> AsyncGenerator[TierAlert, None]:
        caller, accounts = info.context.caller, info.context.services.accounts
        async with hub_of(info).subscribe(caller.account_id) as subscriber:
            while True:
                await subscriber.wait()
                since = subscriber.take_break()
                if since is not None:  # the feed broke: read what was stored meanwhile
                    capacity = subscriber.alert_capacity
                    stored = await accounts.alerts_since(caller, since, capacity + 1)
                    if len(stored) > capacity:
                        raise undelivered(f"more than {capacity} alerts")
                    subscriber.caught_up(stored)
                while (alert := subscriber.next_alert()) is not None:
                    yield TierAlert.of(alert)
                if subscriber.missed_alerts:
                    raise undelivered(f"{subscriber.missed_alerts} alert notices")

    @strawberry.subscription(description="The caller's usage after every change of its counts.")
    async def usage_changed(self, info: Info) -> AsyncGenerator[Usage, None]:
        caller = info.context.caller
        async with hub_of(info).subscribe(caller.account_id) as subscriber:
            while True:
                await subscriber.wait()
                usage = subscriber.take_usage()
                if (
                    subscriber.take_break() is not None
                ):  # the feed broke: changes may not have been heard
                    usage = await info.context.services.usage.usage(caller)
                if usage is not None:
                    yield Usage.of(usage)

    @strawberry.subscription(
        description="The operation's state after each processed chunk, then once more when it ends."
    )
    async def bulk_operation_progress(
        self,
        info: Info,
        id: OperationId,
    ) -> AsyncGenerator[BulkOperation, None]:
        caller, bulk = info.context.caller, info.context.services.bulk
        async with hub_of(info).subscribe(caller.account_id) as subscriber:
            operation = await bulk.get(caller, str(id))
            if operation is None:
                raise refuse(ErrorCode.NOT_FOUND, f"operation {quoted(id)} does not exist", "id")
            yield BulkOperation.of(operation)
            while not operation.status.finished:
                await subscriber.wait()
                # after a break in the feed, progress may have gone unheard: read it afresh
                stale = subscriber.take_break() is not None
                if subscriber.take_progress(operation.id) or stale:
                    current = await bulk.get(caller, operation.id)
                    if current is None:
                        return
                    operation = current
                    yield BulkOperation.of(operation)

    @strawberry.subscription(
        description="The import's state after each chunk, then once more when it ends."
    )
    async def import_progress(self, info: Info, id: ImportId) -> AsyncGenerator[Import, None]:
        caller, imports = info.context.caller, info.context.services.imports
        async with hub_of(info).subscribe(caller.account_id) as subscriber:
            imported = await imports.get(caller, str(id))
            if imported is None:
                raise refuse(ErrorCode.NOT_FOUND, f"import {quoted(id)} does not exist", "id")
            yield Import.of(imported)
            while not imported.status.finished:
                await subscriber.wait()
                # after a break in the feed, progress may have gone unheard: read it afresh
                stale = subscriber.take_break() is not None
                if subscriber.take_progress(imported.id) or stale:
                    current = await imports.get(caller, imported.id)
                    if current is None:
                        return
                    imported = current
                    yield Import.of(imported)

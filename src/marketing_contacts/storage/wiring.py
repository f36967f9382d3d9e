"""The MongoDB implementations of the ports, and every index they need."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import IndexModel

from marketing_contacts.services.ports.clock import Clock
from marketing_contacts.services.ports.events import EventPublisher
from marketing_contacts.services.ports.jobs import JobQueue
from marketing_contacts.services.wiring import Ports
from marketing_contacts.storage import (
    accounts,
    alert_outbox,
    apps,
    audit,
    bulk_operations,
    bulk_pages,
    companies,
    contacts,
    deals,
    email_events,
    engagements,
    exports,
    files,
    forms,
    history,
    imports,
    lists,
    tier_records,
    tokens,
    users,
    writer,
)
from marketing_contacts.storage.database import Mongo, ensure_indexes
from marketing_contacts.storage.ids import MongoIds


def all_indexes() -> dict[str, Sequence[IndexModel]]:
    indexes: dict[str, list[IndexModel]] = {}
    for module in (
        accounts,
        alert_outbox,
        apps,
        audit,
        bulk_operations,
        bulk_pages,
        companies,
        contacts,
        deals,
        email_events,
        engagements,
        exports,
        forms,
        history,
        files,
        imports,
        lists,
        tier_records,
        tokens,
        users,
    ):
        for collection, models in module.INDEXES.items():
            indexes.setdefault(collection, []).extend(models)
    return dict(indexes)


async def prepare(mongo: Mongo) -> None:
    """Create every index the queries need (idempotent; run at each start)."""
    await ensure_indexes(mongo, all_indexes())


def mongo_ports(mongo: Mongo, events: EventPublisher, jobs: JobQueue, clock: Clock) -> Ports:
    return Ports(
        accounts=accounts.MongoAccountStore(mongo),
        contacts=contacts.MongoContactStore(mongo),
        writer=writer.MongoChangeWriter(mongo),
        history=history.MongoHistoryStore(mongo),
        tier_records=tier_records.MongoTierRecords(mongo),
        alert_outbox=alert_outbox.MongoAlertOutbox(mongo),
        tokens=tokens.MongoTokenStore(mongo),
        users=users.MongoUserStore(mongo),
        teams=users.MongoTeamStore(mongo),
        lists=lists.MongoListStore(mongo),
        companies=companies.MongoCompanyStore(mongo),
        deals=deals.MongoDealStore(mongo),
        apps=apps.MongoAppStore(mongo),
        email_events=email_events.MongoEmailEvents(mongo),
        engagements=engagements.MongoEngagementStore(mongo),
        forms=forms.MongoFormStore(mongo),
        imports=imports.MongoImportStore(mongo),
        files=files.MongoFileStore(mongo),
        exports=exports.MongoExportStore(mongo),
        events=events,
        operations=bulk_operations.MongoBulkOperations(mongo),
        idempotency=bulk_operations.MongoIdempotencyKeys(mongo),
        bulk_pages=bulk_pages.MongoBulkPages(mongo),
        jobs=jobs,
        audit=audit.MongoAuditLog(mongo),
        clock=clock,
        ids=MongoIds(),
        patience=mongo.timeout,
    )

"""Every use case over one set of ports."""

from __future__ import annotations

from dataclasses import dataclass

from marketing_contacts.domain.bulk import MAX_ACTIVE_OPERATIONS
from marketing_contacts.domain.engagements import MAX_ENGAGEMENTS_PER_RECORD
from marketing_contacts.domain.imports import DEFAULT_MAX_BYTES
from marketing_contacts.services.accounts import AccountService
from marketing_contacts.services.alerts import AlertDeliveryService
from marketing_contacts.services.apps import AppService
from marketing_contacts.services.associations import AssociationService
from marketing_contacts.services.audiences import AudienceService
from marketing_contacts.services.audit import AuditService
from marketing_contacts.services.bulk import BulkService
from marketing_contacts.services.bulk_runner import BulkRunner, BulkRunnerSettings
from marketing_contacts.services.companies import CompanyService
from marketing_contacts.services.contacts import ContactService
from marketing_contacts.services.deals import DealService
from marketing_contacts.services.email_events import EmailActivityService
from marketing_contacts.services.engagements import EngagementService
from marketing_contacts.services.exports import ExportService
from marketing_contacts.services.forms import FormService
from marketing_contacts.services.imports import ImportRunner, ImportService
from marketing_contacts.services.lists import ListService
from marketing_contacts.services.merge import ContactMerger
from marketing_contacts.services.statuses import StatusService
from marketing_contacts.services.tokens import TokenService
from marketing_contacts.services.update_dates import UpdateDateService
from marketing_contacts.services.usage import UsageService
from marketing_contacts.services.users import UserService
from marketing_contacts.services.wiring import Ports


@dataclass(frozen=True)
class Services:
    ports: Ports
    accounts: AccountService
    alert_delivery: AlertDeliveryService
    apps: AppService
    audiences: AudienceService
    audit: AuditService
    bulk: BulkService
    bulk_runner: BulkRunner
    associations: AssociationService
    companies: CompanyService
    contacts: ContactService
    deals: DealService
    email_activity: EmailActivityService
    engagements: EngagementService
    exports: ExportService
    forms: FormService
    imports: ImportService
    import_runner: ImportRunner
    lists: ListService
    merger: ContactMerger
    statuses: StatusService
    tokens: TokenService
    update_dates: UpdateDateService
    usage: UsageService
    users: UserService

    @classmethod
    def over(
        cls,
        ports: Ports,
        bulk: BulkRunnerSettings | None = None,
        max_active_operations: int = MAX_ACTIVE_OPERATIONS,
        engagements_per_record: int = MAX_ENGAGEMENTS_PER_RECORD,
        import_max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> Services:
        runner = bulk or BulkRunnerSettings()
        return cls(
            ports=ports,
            accounts=AccountService(ports),
            alert_delivery=AlertDeliveryService(ports),
            apps=AppService(ports, ContactService(ports)),
            audiences=AudienceService(ports),
            audit=AuditService(ports),
            bulk=BulkService(ports, max_active_operations),
            bulk_runner=BulkRunner(ports, bulk),
            associations=AssociationService(CompanyService(ports), DealService(ports)),
            companies=CompanyService(ports),
            contacts=ContactService(ports),
            deals=DealService(ports),
            email_activity=EmailActivityService(ports),
            engagements=EngagementService(ports, engagements_per_record),
            exports=ExportService(ports, max_active_operations),
            forms=FormService(ports),
            imports=ImportService(ports, max_active_operations, import_max_bytes),
            import_runner=ImportRunner(ports, runner.chunk, runner.lease),
            lists=ListService(ports),
            merger=ContactMerger(ports, max_active_operations),
            statuses=StatusService(ports),
            tokens=TokenService(ports),
            update_dates=UpdateDateService(ports),
            usage=UsageService(ports),
            users=UserService(ports),
        )

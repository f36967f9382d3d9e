"""The Query root: the read fields of every noun's module."""

from __future__ import annotations

import strawberry

from marketing_contacts.schema.accounts import AccountQueries
from marketing_contacts.schema.apps import AppQueries
from marketing_contacts.schema.audiences import AudienceQueries
from marketing_contacts.schema.audit import AuditQueries
from marketing_contacts.schema.bulk import BulkQueries
from marketing_contacts.schema.companies import CompanyQueries
from marketing_contacts.schema.contacts import ContactQueries
from marketing_contacts.schema.deals import DealQueries
from marketing_contacts.schema.exports import ExportQueries
from marketing_contacts.schema.forms import FormQueries
from marketing_contacts.schema.imports import ImportQueries
from marketing_contacts.schema.lists import ListQueries
from marketing_contacts.schema.usage import UsageQueries
from marketing_contacts.schema.users import UserQueries


@strawberry.type(description="What a caller reads: always within the account of its token.")
class Query(
    AccountQueries,
    UsageQueries,
    ContactQueries,
    BulkQueries,
    ListQueries,
    CompanyQueries,
    DealQueries,
    FormQueries,
    ImportQueries,
    AppQueries,
    UserQueries,
    AuditQueries,
    AudienceQueries,
    ExportQueries,
):
    pass

"""The Mutation root: the write fields of every noun's module. Expected failures come back as
userErrors, with nothing half-applied."""

from __future__ import annotations

import strawberry

from marketing_contacts.schema.accounts import AccountMutations
from marketing_contacts.schema.apps import AppMutations
from marketing_contacts.schema.bulk import BulkMutations
from marketing_contacts.schema.companies import CompanyMutations
from marketing_contacts.schema.contacts import ContactMutations
from marketing_contacts.schema.deals import DealMutations
from marketing_contacts.schema.email_events import EmailEventMutations
from marketing_contacts.schema.engagements import EngagementMutations
from marketing_contacts.schema.exports import ExportMutations
from marketing_contacts.schema.forms import FormMutations
from marketing_contacts.schema.imports import ImportMutations
from marketing_contacts.schema.lists import ListMutations
from marketing_contacts.schema.merge import MergeMutations
from marketing_contacts.schema.statuses import StatusMutations
from marketing_contacts.schema.users import UserMutations


@strawberry.type(
    description="What a caller changes, in the account of its token. Expected failures come "
    "back as userErrors in the payload, and nothing is applied."
)
class Mutation(
    ContactMutations,
    MergeMutations,
    StatusMutations,
    BulkMutations,
    AccountMutations,
    ListMutations,
    CompanyMutations,
    DealMutations,
    AppMutations,
    EmailEventMutations,
    EngagementMutations,
    FormMutations,
    ImportMutations,
    UserMutations,
    ExportMutations,
):
    pass

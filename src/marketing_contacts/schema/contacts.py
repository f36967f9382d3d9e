"""Contacts: the contact, its status history, and reading, creating, editing, deleting them."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from marketing_contacts.domain.associations import RecordRef, RecordType
from marketing_contacts.domain.contacts import Contact as DomainContact
from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import HistoryEntry, MarketingStatus, StatusSourceType
from marketing_contacts.schema.connections import After, Connection, First, connection, first_or
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.errors import UserError, attempt
from marketing_contacts.schema.filters import ContactFilterInput
from marketing_contacts.schema.users import Loaders, User
from marketing_contacts.services.contacts import EDITABLE_FIELDS, ContactDraft, ContactEdit

if TYPE_CHECKING:
    from marketing_contacts.schema.companies import Company
    from marketing_contacts.schema.deals import Deal
    from marketing_contacts.schema.email_events import EmailEvent
    from marketing_contacts.schema.engagements import Engagement

ContactId = Annotated[strawberry.ID, strawberry.argument(description="The contact's id.")]


@strawberry.type(description="One change of a contact's marketing status.")
class StatusChange:
    at: datetime = strawberry.field(description="When the status changed.")
    from_status: MarketingStatus = strawberry.field(description="The status before the change.")
    to_status: MarketingStatus = strawberry.field(
        description="The status the change set (NON_MARKETING for a pending change)."
    )
    pending: bool = strawberry.field(
        description="True when the change was scheduled for the next update date instead of "
        "applied."
    )
    source_type: StatusSourceType = strawberry.field(
        description="The kind of tool that made the change."
    )
    source_id: str | None = strawberry.field(
        description="Id of the user, operation, form, import or integration that made the "
        "change; the date, for an update date."
    )

    @classmethod
    def of(cls, entry: HistoryEntry) -> StatusChange:
        change = entry.change
        return cls(
            at=change.at,
            from_status=change.from_status,
            to_status=change.to_status,
            pending=change.pending,
            source_type=change.source.type,
            source_id=change.source.id,
        )


@strawberry.type(description="A person the account keeps, markets to, or sells to.")
class Contact:
    id: strawberry.ID = strawberry.field(description="The contact's id.")
    email: str | None = strawberry.field(
        description="The email address, unique in the account whatever its case; null when "
        "the contact has none."
    )
    first_name: str | None = strawberry.field(description="First name.")
    last_name: str | None = strawberry.field(description="Last name.")
    job_title: str | None = strawberry.field(description="Job title.")
    company_name: str | None = strawberry.field(
        description="Free text; independent of company associations."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        description="The user who owns the contact; null when nobody does."
    )
    lifecycle_stage: LifecycleStage | None = strawberry.field(
        description="Where the contact stands in the sales cycle; null when not set."
    )
    created_via: CreationSource = strawberry.field(
        description="How the contact came into the account."
    )
    created_at: datetime = strawberry.field(description="When the contact was created.")
    updated_at: datetime = strawberry.field(description="When the contact last changed.")
    marketing_status: MarketingStatus = strawberry.field(
        description="Whether the contact is marketing (counted toward the tier)."
    )
    marketing_until_next_update: bool = strawberry.field(
        description="True while the contact is marketing but becomes non-marketing at the next "
        "update date."
    )
    status_source_type: StatusSourceType = strawberry.field(
        description="The kind of tool that set the status last."
    )
    status_source_id: str | None = strawberry.field(
        description="Id of the user, operation, form, import or integration that set the "
        "status last."
    )
    status_changed_at: datetime = strawberry.field(description="When the status last changed.")
    email_hard_bounced: bool = strawberry.field(
        description="True when email to the contact's address hard-bounced."
    )
    unsubscribed_from_all: bool = strawberry.field(
        description="True when the contact unsubscribed from all email; the status stays as it is."
    )
    last_activity_at: datetime | None = strawberry.field(
        description="When the latest engagement logged against the contact happened (C12); "
        "null before the first."
    )
    last_contacted_at: datetime | None = strawberry.field(
        description="When the latest call, email or meeting logged against the contact "
        "happened (C12); null before the first."
    )
    merged_ids: list[strawberry.ID] = strawberry.field(
        description="Ids of the contacts merged into this one (C10)."
    )
    #: the sequence of its newest history entry, as read: where its first history page starts
    status_seq: strawberry.Private[int]
    #: C10: the addresses of the contacts merged into it, whose email activity it shows too
    merged_emails: strawberry.Private[frozenset[str]]
    company_ids: strawberry.Private[frozenset[str]]
    primary_company_id: strawberry.Private[str | None]

    @strawberry.field(
        description="Associated companies the caller sees, the primary one first (a page of "
        "contacts reads its companies together)."
    )
    async def companies(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[Annotated[Company, strawberry.lazy("marketing_contacts.schema.companies")]]:
        from marketing_contacts.schema.companies import contact_companies

        size = first_or(first, 20)
        return await contact_companies(info, self.company_ids, self.primary_company_id, size, after)

    @strawberry.field(
        description="Every email event of the contact's address, and of the addresses of "
        "the contacts merged into it (C10), newest first, including those from before the "
        "contact existed (C7; a page of contacts reads its first pages together)."
    )
    async def email_activity(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[
        Annotated[EmailEvent, strawberry.lazy("marketing_contacts.schema.email_events")]
    ]:
        from marketing_contacts.schema.email_events import contact_activity

        return await contact_activity(
            info, self.email, self.merged_emails, first_or(first, 20), after
        )

    @strawberry.field(
        description="The engagements associated with the contact, newest first by when they "
        "happened (C6; a page of contacts reads its first pages together)."
    )
    async def engagements(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[
        Annotated[Engagement, strawberry.lazy("marketing_contacts.schema.engagements")]
    ]:
        from marketing_contacts.schema.engagements import record_engagements

        return await record_engagements(info, str(self.id), first_or(first, 20), after)

    @strawberry.field(
        description="Deals the contact is associated with that the caller sees, in the order "
        "they were created (a page of contacts reads its first pages together)."
    )
    async def deals(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[Annotated[Deal, strawberry.lazy("marketing_contacts.schema.deals")]]:
        from marketing_contacts.schema.deals import record_deals

        return await record_deals(info, RecordRef(RecordType.CONTACT, str(self.id)), first, after)

    @strawberry.field(
        description="The primary associated company; independent of companyName (C2)."
    )
    async def primary_company(
        self, info: Info
    ) -> Annotated[Company, strawberry.lazy("marketing_contacts.schema.companies")] | None:
        from marketing_contacts.schema.companies import primary_company

        return await primary_company(info, self.primary_company_id)

    @strawberry.field(
        description="The user who owns the contact (C1); null when nobody does (a page of "
        "contacts reads its owners together)."
    )
    async def owner(self, info: Info) -> User | None:
        if self.owner_id is None:
            return None
        loaders = Loaders.of_request(info)
        user = await loaders.users.load(str(self.owner_id))
        return None if user is None else User.of(user, loaders)

    @strawberry.field(
        description="Every change of the contact's marketing status, newest first (a page of "
        "contacts reads its histories, and counts them, together)."
    )
    async def status_history(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[StatusChange]:
        ctx, contact_id, size = info.context, str(self.id), first_or(first, 20)
        if after is None:
            page = await ctx.first_history_pages.load((contact_id, self.status_seq, size))
        else:
            page = await ctx.services.contacts.history(ctx.caller, contact_id, size, after)
        return connection(page, StatusChange.of, partial(ctx.history_counts.load, contact_id))

    @classmethod
    def of(cls, contact: DomainContact) -> Contact:
        return cls(
            id=strawberry.ID(contact.id),
            email=contact.email,
            first_name=contact.first_name,
            last_name=contact.last_name,
            job_title=contact.job_title,
            company_name=contact.company_name,
            owner_id=None if contact.owner_id is None else strawberry.ID(contact.owner_id),
            lifecycle_stage=contact.lifecycle_stage,
            created_via=contact.created_via,
            created_at=contact.created_at,
            updated_at=contact.updated_at,
            marketing_status=contact.marketing_status,
            marketing_until_next_update=contact.marketing_until_next_update,
            status_source_type=contact.status_source.type,
            status_source_id=contact.status_source.id,
            status_changed_at=contact.status_changed_at,
            email_hard_bounced=contact.email_hard_bounced,
            unsubscribed_from_all=contact.unsubscribed_from_all,
            last_activity_at=contact.last_activity_at,
            last_contacted_at=contact.last_contacted_at,
            merged_ids=[strawberry.ID(merged) for merged in contact.merged_ids],
            status_seq=contact.status_seq,
            merged_emails=contact.merged_emails,
            company_ids=contact.company_ids,
            primary_company_id=contact.primary_company_id,
        )


_TEXT = "at most 1,000 characters"


@strawberry.input(description="A new contact. Text fields hold " + _TEXT + ".")
class CreateContactInput:
    email: str | None = strawberry.field(
        default=None,
        description="A valid address, trimmed; unique in the account whatever its case "
        "(DUPLICATE otherwise). Omitted, null or blank: no email.",
    )
    first_name: str | None = strawberry.field(default=None, description="First name.")
    last_name: str | None = strawberry.field(default=None, description="Last name.")
    job_title: str | None = strawberry.field(default=None, description="Job title.")
    company_name: str | None = strawberry.field(
        default=None, description="Free text; independent of company associations."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="The user who owns the contact."
    )
    lifecycle_stage: LifecycleStage | None = strawberry.field(
        default=None, description="Where the contact stands in the sales cycle."
    )
    created_via: CreationSource | None = strawberry.field(
        default=CreationSource.API,
        description="How the contact comes in; it decides the default marketing status.",
    )
    marketing_status: MarketingStatus | None = strawberry.field(
        default=None,
        description="Omitted: the account's default for createdVia. MARKETING needs marketing "
        "access, counts toward the tier at once, and is INVALID for the sources that always "
        "create non-marketing contacts.",
    )
    email_hard_bounced: bool | None = strawberry.field(
        default=False, description="True when email to the address hard-bounced."
    )
    unsubscribed_from_all: bool | None = strawberry.field(
        default=False, description="True when the contact unsubscribed from all email."
    )
    integration_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The connected app creating the contact: createdVia becomes INTEGRATION "
        "and the app's setting decides the status (F3), unless marketingStatus names one.",
    )

    def to_draft(self) -> ContactDraft:
        return ContactDraft(
            created_via=self.created_via or CreationSource.API,
            marketing_status=self.marketing_status,
            email=self.email,
            first_name=self.first_name,
            last_name=self.last_name,
            job_title=self.job_title,
            company_name=self.company_name,
            owner_id=self.owner_id,
            lifecycle_stage=self.lifecycle_stage,
            email_hard_bounced=bool(self.email_hard_bounced),
            unsubscribed_from_all=bool(self.unsubscribed_from_all),
            integration_id=None if self.integration_id is None else str(self.integration_id),
        )


@strawberry.input(
    description="The fields to change: fields left out stay as they are; null clears a field "
    "(false, for the flags). Text fields hold " + _TEXT + "."
)
class UpdateContactInput:
    email: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A valid address, unique in the account whatever its case; null or blank "
        "removes it.",
    )
    first_name: str | None = strawberry.field(default=strawberry.UNSET, description="First name.")
    last_name: str | None = strawberry.field(default=strawberry.UNSET, description="Last name.")
    job_title: str | None = strawberry.field(default=strawberry.UNSET, description="Job title.")
    company_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Free text; independent of company associations."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The user who owns the contact."
    )
    lifecycle_stage: LifecycleStage | None = strawberry.field(
        default=strawberry.UNSET,
        description="A later stage, or null; an earlier stage only once the stage was cleared "
        "(INVALID otherwise).",
    )
    email_hard_bounced: bool | None = strawberry.field(
        default=strawberry.UNSET, description="True when email to the address hard-bounced."
    )
    unsubscribed_from_all: bool | None = strawberry.field(
        default=strawberry.UNSET, description="True when the contact unsubscribed from all email."
    )
    marketing_status: MarketingStatus | None = strawberry.field(
        default=strawberry.UNSET,
        description="Changes the status by the same rules as setMarketingStatus (source USER).",
    )

    def to_edit(self) -> ContactEdit:
        given: dict[str, Any] = {
            name: getattr(self, name)
            for name in EDITABLE_FIELDS
            if getattr(self, name) is not strawberry.UNSET
        }
        for flag in ("email_hard_bounced", "unsubscribed_from_all"):
            if given.get(flag, False) is None:
                given[flag] = False
        status = None if self.marketing_status is strawberry.UNSET else self.marketing_status
        return ContactEdit(changes=given, marketing_status=status)


@strawberry.type(description="The result of createContact, updateContact or mergeContacts.")
class ContactPayload:
    contact: Contact | None = strawberry.field(
        description="The contact as written; null when userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was written; empty on success."
    )


@strawberry.type(description="The result of deleteContact.")
class DeleteContactPayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        description="The id of the deleted contact; null when userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was deleted; empty on success."
    )


async def contacts_where(
    info: Info, where: ContactFilter, first: int | None, after: str | None
) -> Connection[Contact]:
    """The contacts the filter selects that the caller sees, in the order they were created
    (a company's, a deal's)."""
    contacts, caller = info.context.services.contacts, info.context.caller
    page = await contacts.page(caller, where, first_or(first, 20), after)
    return connection(page, Contact.of, lambda: contacts.count(caller, where))


def contact_payload(result: DomainContact | list[UserError]) -> ContactPayload:
    if isinstance(result, list):
        return ContactPayload(contact=None, user_errors=result)
    return ContactPayload(contact=Contact.of(result), user_errors=[])


@strawberry.type
class ContactQueries:
    @strawberry.field(description="A contact of the caller's account; null when none has this id.")
    async def contact(self, info: Info, id: ContactId) -> Contact | None:
        found = await info.context.services.contacts.get(info.context.caller, str(id))
        return None if found is None else Contact.of(found)

    @strawberry.field(
        description="The caller's contacts that match the filter, in the order they were "
        "created. totalCount counts what the filter selects (without a filter it is the "
        "account's own exact count of its contacts)."
    )
    async def contacts(
        self,
        info: Info,
        where: Annotated[
            ContactFilterInput | None,
            strawberry.argument(
                name="filter", description="Which contacts; omitted or null: every contact."
            ),
        ] = None,
        first: First = 50,
        after: After = None,
    ) -> Connection[Contact]:
        contacts, caller = info.context.services.contacts, info.context.caller
        selection = where.to_filter() if where is not None else ContactFilter()
        page = await contacts.page(caller, selection, first_or(first, 50), after)
        return connection(page, Contact.of, lambda: contacts.count(caller, selection))


@strawberry.type
class ContactMutations:
    @strawberry.mutation(
        description="Creates a contact of the caller's account; nothing on a userError."
    )
    async def create_contact(
        self,
        info: Info,
        input: Annotated[
            CreateContactInput, strawberry.argument(description="The new contact's fields.")
        ],
    ) -> ContactPayload:
        ctx = info.context
        return contact_payload(
            await attempt(info, ctx.services.contacts.create(ctx.caller, input.to_draft()))
        )

    @strawberry.mutation(description="Changes a contact's fields; nothing on a userError.")
    async def update_contact(
        self,
        info: Info,
        id: ContactId,
        input: Annotated[
            UpdateContactInput, strawberry.argument(description="The fields to change.")
        ],
    ) -> ContactPayload:
        ctx = info.context
        return contact_payload(
            await attempt(info, ctx.services.contacts.update(ctx.caller, str(id), input.to_edit()))
        )

    @strawberry.mutation(
        description="Deletes a contact; a marketing contact leaves the count at once."
    )
    async def delete_contact(self, info: Info, id: ContactId) -> DeleteContactPayload:
        ctx = info.context
        result = await attempt(info, ctx.services.contacts.delete(ctx.caller, str(id)))
        if isinstance(result, list):
            return DeleteContactPayload(deleted_id=None, user_errors=result)
        return DeleteContactPayload(deleted_id=strawberry.ID(result), user_errors=[])

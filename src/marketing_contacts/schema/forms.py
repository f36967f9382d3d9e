"""Forms and their submissions: their types, queries and mutations (F1, F4, D3, C4, C8).

Forms are the account's: every user of the account sees them all. A submission's contact is
shown only to a caller who sees that contact (P3), and so are the values it sent (they hold the
contact's address and names); the contacts of a page of submissions are read together, once per
request (`submitter_loader`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.dataloader import DataLoader

from marketing_contacts.domain.contacts import Contact as DomainContact
from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.forms import (
    MAX_VALUE_LENGTH,
    MAX_VALUE_NAME_LENGTH,
    MAX_VALUES,
    FormKind,
)
from marketing_contacts.domain.forms import Form as DomainForm
from marketing_contacts.domain.forms import FormSubmission as DomainFormSubmission
from marketing_contacts.domain.forms import (
    FormValue as DomainFormValue,
)
from marketing_contacts.schema.connections import After, First, PageInfo, first_or
from marketing_contacts.schema.contacts import Contact
from marketing_contacts.schema.context import Info
from marketing_contacts.schema.errors import UserError, attempt
from marketing_contacts.services.forms import EDITABLE_FIELDS, FormDraft
from marketing_contacts.services.paging import Page

FormId = Annotated[strawberry.ID, strawberry.argument(description="The form's id.")]
SubmitterLoader = DataLoader[str, DomainContact | None]


def submitter_loader(info: Info) -> SubmitterLoader:
    """The request's own: the contacts of a page of submissions that the caller sees, read
    together."""
    ctx = info.context
    if ctx.submitter_loader is None:
        caller, forms = ctx.caller, ctx.services.forms

        async def load(contact_ids: list[str]) -> list[DomainContact | None]:
            found = {c.id: c for c in await forms.contacts_seen(caller, contact_ids)}
            return [found.get(contact_id) for contact_id in contact_ids]

        ctx.submitter_loader = DataLoader(load_fn=load)
    loader: SubmitterLoader = ctx.submitter_loader
    return loader


@strawberry.type(description="One field of a submission, as it was sent.")
class FormValue:
    name: str = strawberry.field(description="The field's name; `email` is the standard one.")
    value: str = strawberry.field(description="What was sent in it.")


@strawberry.type(description="One submission of a form, stored whatever it holds (F1).")
class FormSubmission:
    id: strawberry.ID = strawberry.field(description="The submission's id.")
    at: datetime = strawberry.field(description="When it was submitted.")
    stored_values: strawberry.Private[tuple[DomainFormValue, ...]]
    contact_id: strawberry.Private[str | None]
    created_contact: bool = strawberry.field(
        description="True when the submission created its contact (false when it matched one "
        "by its email, or created none)."
    )
    blocked_by_tier: bool = strawberry.field(
        description="True when the tier's BLOCK policy kept the submitter non-marketing (F1)."
    )

    @strawberry.field(
        description="The fields sent, in their order; empty for a caller who does not see the "
        "submission's contact (P3: they hold its address)."
    )
    async def values(self, info: Info) -> list[FormValue]:
        if (
            self.contact_id is not None
            and not info.context.caller.scope.whole_account
            and await submitter_loader(info).load(self.contact_id) is None
        ):
            return []
        return [FormValue(name=v.name, value=v.value) for v in self.stored_values]

    @strawberry.field(
        description="The contact created or matched; null when the submission created none."
    )
    async def contact(self, info: Info) -> Contact | None:
        if self.contact_id is None:
            return None
        found = await submitter_loader(info).load(self.contact_id)
        return None if found is None else Contact.of(found)

    @classmethod
    def of(cls, submission: DomainFormSubmission) -> FormSubmission:
        return cls(
            id=strawberry.ID(submission.id),
            at=submission.at,
            stored_values=submission.values,
            contact_id=submission.contact_id,
            created_contact=submission.created_contact,
            blocked_by_tier=submission.blocked_by_tier,
        )


@strawberry.type(description="One submission of a page, with its cursor.")
class FormSubmissionEdge:
    cursor: str = strawberry.field(
        description="Opaque; pass it as after to read the submissions that follow this one."
    )
    node: FormSubmission = strawberry.field(description="The submission.")


@strawberry.type(description="One page of a form's submissions, newest first.")
class FormSubmissionConnection:
    edges: list[FormSubmissionEdge] = strawberry.field(
        description="The page's submissions with their cursors, newest first."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether more pages follow or precede, and the cursors to go on from."
    )

    @classmethod
    def of(cls, page: Page[DomainFormSubmission]) -> FormSubmissionConnection:
        edges = [
            FormSubmissionEdge(cursor=cursor, node=FormSubmission.of(item))
            for item, cursor in zip(page.items, page.cursors, strict=True)
        ]
        return cls(edges=edges, page_info=PageInfo.of(page))


@strawberry.type(description="A form whose submissions create or match contacts (F1).")
class Form:
    id: strawberry.ID = strawberry.field(description="The form's id.")
    name: str = strawberry.field(description="The form's name.")
    kind: FormKind = strawberry.field(description="A form of this service, or of another site.")
    set_contacts_as_marketing: bool = strawberry.field(
        description="On: new submitters are marketing and existing non-marketing submitters "
        "become marketing (D3)."
    )
    create_without_email: bool = strawberry.field(
        description="On: a submission without an email field still creates a contact."
    )
    lifecycle_stage: LifecycleStage = strawberry.field(
        description="The stage of the contacts the form creates (C4)."
    )
    submission_count: int = strawberry.field(
        description="How many submissions the form has had: exact, moved in each one's transaction."
    )
    created_at: datetime = strawberry.field(description="When the form was created.")

    @strawberry.field(description="The form's submissions, newest first.")
    async def submissions(
        self, info: Info, first: First = 20, after: After = None
    ) -> FormSubmissionConnection:
        ctx = info.context
        page = await ctx.services.forms.submissions(
            ctx.caller, str(self.id), first_or(first, 20), after
        )
        return FormSubmissionConnection.of(page)

    @classmethod
    def of(cls, form: DomainForm) -> Form:
        return cls(
            id=strawberry.ID(form.id),
            name=form.name,
            kind=form.kind,
            set_contacts_as_marketing=form.set_contacts_as_marketing,
            create_without_email=form.create_without_email,
            lifecycle_stage=form.lifecycle_stage,
            submission_count=form.submission_count,
            created_at=form.created_at,
        )


_NAME = "1 to 200 characters, trimmed"
_MARKETING = (
    "On: new submitters are created MARKETING and existing non-marketing or pending ones become "
    "MARKETING (D3); turning it on needs marketing access (F4)."
)


@strawberry.input(description="A new form.")
class CreateFormInput:
    name: str = strawberry.field(description=f"The form's name: {_NAME}.")
    kind: FormKind | None = strawberry.field(
        default=FormKind.NATIVE, description="NATIVE or EXTERNAL; null means NATIVE."
    )
    set_contacts_as_marketing: bool | None = strawberry.field(
        default=True, description=f"{_MARKETING} Null means true."
    )
    create_without_email: bool | None = strawberry.field(
        default=False,
        description="On: a submission without a valid email still creates a contact; null "
        "means false.",
    )
    lifecycle_stage: LifecycleStage | None = strawberry.field(
        default=LifecycleStage.LEAD,
        description="The stage of the contacts the form creates, e.g. SUBSCRIBER for a "
        "subscription form (C4); null means LEAD.",
    )

    def to_draft(self) -> FormDraft:
        return FormDraft(
            name=self.name,
            kind=self.kind or FormKind.NATIVE,
            set_contacts_as_marketing=(
                True if self.set_contacts_as_marketing is None else self.set_contacts_as_marketing
            ),
            create_without_email=bool(self.create_without_email),
            lifecycle_stage=self.lifecycle_stage or LifecycleStage.LEAD,
        )


@strawberry.input(description="The settings to change; those left out stay as they are.")
class UpdateFormInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description=f"The form's name: {_NAME}."
    )
    set_contacts_as_marketing: bool | None = strawberry.field(
        default=strawberry.UNSET, description=_MARKETING
    )
    create_without_email: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="On: a submission without a valid email still creates a contact.",
    )
    lifecycle_stage: LifecycleStage | None = strawberry.field(
        default=strawberry.UNSET, description="The stage of the contacts the form creates (C4)."
    )

    def to_changes(self) -> dict[str, Any]:
        return {
            name: getattr(self, name)
            for name in EDITABLE_FIELDS
            if getattr(self, name) is not strawberry.UNSET
        }


@strawberry.input(description="One field of a submission.")
class FormValueInput:
    name: str = strawberry.field(
        description=f"The field's name, 1 to {MAX_VALUE_NAME_LENGTH} characters, no control "
        "character, once per submission; only `email` creates or matches a contact (C8), and "
        "firstName, lastName, jobTitle, companyName fill a new contact's fields."
    )
    value: str = strawberry.field(
        description=f"What was sent: at most {MAX_VALUE_LENGTH:,} characters."
    )


@strawberry.input(description="A submission of a form.")
class SubmitFormInput:
    form_id: strawberry.ID = strawberry.field(description="The form submitted.")
    values: list[FormValueInput] = strawberry.field(
        description=f"The fields sent, at most {MAX_VALUES}."
    )

    def to_values(self) -> list[DomainFormValue]:
        return [DomainFormValue(v.name, v.value) for v in self.values]


@strawberry.type(description="The result of createForm or updateForm.")
class FormPayload:
    form: Form | None = strawberry.field(
        description="The form as written; null when userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was written; empty on success."
    )


@strawberry.type(description="The result of submitForm.")
class FormSubmissionPayload:
    submission: FormSubmission | None = strawberry.field(
        description="The submission as stored; null when userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was stored; empty on success."
    )


def _form_payload(result: DomainForm | list[UserError]) -> FormPayload:
    if isinstance(result, list):
        return FormPayload(form=None, user_errors=result)
    return FormPayload(form=Form.of(result), user_errors=[])


@strawberry.type
class FormQueries:
    @strawberry.field(description="Every form of the account, in the order they were created.")
    async def forms(self, info: Info) -> list[Form]:
        ctx = info.context
        return [Form.of(form) for form in await ctx.services.forms.all(ctx.caller)]

    @strawberry.field(description="A form of the account; null when none has this id.")
    async def form(self, info: Info, id: FormId) -> Form | None:
        found = await info.context.services.forms.get(info.context.caller, str(id))
        return None if found is None else Form.of(found)


@strawberry.type
class FormMutations:
    @strawberry.mutation(
        description="Creates a form; one that sets contacts as marketing needs marketing "
        "access (F4); nothing on a userError."
    )
    async def create_form(
        self,
        info: Info,
        input: Annotated[CreateFormInput, strawberry.argument(description="The new form.")],
    ) -> FormPayload:
        ctx = info.context
        return _form_payload(
            await attempt(info, ctx.services.forms.create(ctx.caller, input.to_draft()))
        )

    @strawberry.mutation(
        description="Changes a form's name or settings; turning setContactsAsMarketing on "
        "needs marketing access (F4); nothing on a userError."
    )
    async def update_form(
        self,
        info: Info,
        id: FormId,
        input: Annotated[
            UpdateFormInput, strawberry.argument(description="The settings to change.")
        ],
    ) -> FormPayload:
        ctx = info.context
        change = ctx.services.forms.update(ctx.caller, str(id), input.to_changes())
        return _form_payload(await attempt(info, change))

    @strawberry.mutation(
        description="Stores a submission of a form and, in the same transaction, creates or "
        "matches its contact from the email field and moves the counts (F1, D3, C8); under "
        "the tier's BLOCK policy the lead is kept, non-marketing."
    )
    async def submit_form(
        self,
        info: Info,
        input: Annotated[SubmitFormInput, strawberry.argument(description="The submission.")],
    ) -> FormSubmissionPayload:
        ctx = info.context
        call = ctx.services.forms.submit(ctx.caller, str(input.form_id), input.to_values())
        result = await attempt(info, call)
        if isinstance(result, list):
            return FormSubmissionPayload(submission=None, user_errors=result)
        return FormSubmissionPayload(submission=FormSubmission.of(result), user_errors=[])

"""Creating, editing, deleting and reading contacts (C3, C8, D1-D4, F2, F3, S2 delete, S5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from marketing_contacts.domain.accounts import (
    LEGACY_SOURCE,
    check_statuses_settable,
    statuses_not_settable,
)
from marketing_contacts.domain.apps import App, AppKind, status_for_new_contact
from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.changes import UsageChange, plan_usage_change
from marketing_contacts.domain.contacts import (
    Contact,
    LifecycleStage,
    change_status,
    check_lifecycle_change,
    check_text_fields,
    history_of,
    normalize_email,
    transitions_of,
)
from marketing_contacts.domain.creation import CreationSource, initial_status
from marketing_contacts.domain.errors import ErrorCode, check_id, quoted, record_not_found, refuse
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.lifecycle import initial_stage
from marketing_contacts.domain.permissions import check_status_permission
from marketing_contacts.domain.statuses import (
    HistoryEntry,
    MarketingState,
    MarketingStatus,
    StatusSource,
    StatusSourceType,
)
from marketing_contacts.domain.usage import Transition
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.ledger import batch_for
from marketing_contacts.services.owners import check_owner
from marketing_contacts.services.paging import Page, check_first, paged
from marketing_contacts.services.ports.changes import ChangeBatch
from marketing_contacts.services.ports.contacts import DuplicateEmail
from marketing_contacts.services.statuses import source_for, tier_limit_reached
from marketing_contacts.services.wiring import Ports

#: the contact fields a caller edits directly (UpdateContactInput)
EDITABLE_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "job_title",
    "company_name",
    "owner_id",
    "lifecycle_stage",
    "email_hard_bounced",
    "unsubscribed_from_all",
)


@dataclass(frozen=True)
class ContactDraft:
    created_via: CreationSource = CreationSource.API
    marketing_status: MarketingStatus | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    job_title: str | None = None
    company_name: str | None = None
    owner_id: str | None = None
    lifecycle_stage: LifecycleStage | None = None
    email_hard_bounced: bool = False
    unsubscribed_from_all: bool = False
    #: F3: the connected app creating the contact (createdVia INTEGRATION)
    integration_id: str | None = None


@dataclass(frozen=True)
class ContactEdit:
    """Only the fields present in `changes` are written; None clears a field."""

    changes: dict[str, Any] = field(default_factory=dict)
    marketing_status: MarketingStatus | None = None


def duplicate_email() -> Exception:
    """C8: the address is the one the client sent, at the field named: no need to repeat it."""
    return refuse(ErrorCode.DUPLICATE, "a contact with this email address exists", "email")


class ContactService:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports

    async def get(self, caller: Caller, contact_id: str) -> Contact | None:
        check_id(contact_id, "id")
        return await self.ports.contacts.get(caller.scope, contact_id)

    async def page(
        self, caller: Caller, where: ContactFilter, first: int, after: str | None
    ) -> Page[Contact]:
        where.check("filter")
        read = self.ports.contacts.page(caller.scope, where, first, after)
        if not await self._list_is_live(caller, where):
            read.close()
            read = _no_contacts()
        return await paged(first, after, read)

    async def count(self, caller: Caller, where: ContactFilter) -> int:
        """How many contacts the filter selects that the caller sees; every contact of the
        account, for a caller who sees them all, is the account's own counter (T1 keeps it
        exact), not a count of the contacts."""
        where.check("filter")
        if where == ContactFilter() and caller.scope.whole_account:
            return (await self.ports.account(caller.account_id)).usage.total_contacts
        if not await self._list_is_live(caller, where):
            return 0
        return await self.ports.contacts.count(caller.scope, where)

    async def _list_is_live(self, caller: Caller, where: ContactFilter) -> bool:
        """The filter names no list, or a live one: a deleted list has no member to show,
        though a worker may still be taking them out."""
        if where.list_id is None:
            return True
        return await self.ports.lists.get(caller.account_id, where.list_id) is not None

    async def create(
        self,
        caller: Caller,
        draft: ContactDraft,
        *,
        via: App | None = None,
        action: str = "createContact",
    ) -> Contact:
        """The new contact, in the status D1/D2/D4 give it; created `via` a chatflow or a
        connected app (or one `draft.integration_id` names), in the status the channel's
        setting gives it as of now, unless the draft names one (F2, F3): the channel's setting
        needs no marketing access of the caller (F4), and a contact it would make marketing past
        a BLOCK tier is created non-marketing instead, the alert raised (a lead is not lost)."""
        email = normalize_email(draft.email, "email")
        check_text_fields(vars(draft))
        await check_owner(self.ports, caller, draft.owner_id)
        if draft.integration_id is not None:
            via = await self._integration(caller, draft)
            draft = replace(draft, created_via=CreationSource.INTEGRATION)

        async def attempt() -> Contact:
            account = await self.ports.account(caller.account_id)
            by_channel = via is not None and draft.marketing_status is None
            if not account.marketing_contacts_enabled:  # K1: every contact counts
                if draft.marketing_status is not None:
                    raise statuses_not_settable("marketing_status")
                status, source, by_channel = MarketingStatus.MARKETING, LEGACY_SOURCE, False
            elif via is not None and by_channel:
                status, source = status_for_new_contact(via), via.status_source
            else:
                status, source_type = initial_status(
                    draft.created_via, draft.marketing_status, account.creation_defaults
                )
                check_status_permission(
                    status,
                    source_type,
                    marketing_access=caller.marketing_access,
                    edition=account.edition,
                    field=("marketing_status",),
                )
                source = source_for(caller, source_type, None if via is None else via.id)
            now = self.ports.clock.now()
            blank = Contact(
                # the id carries its creation time: created after or before a time is a range
                # of ids (an attempt that is tried again commits nothing: a new id is safe)
                id=self.ports.ids.new_id(at=now),
                account_id=account.id,
                created_via=draft.created_via,
                created_at=now,
                updated_at=now,
                state=MarketingState.NON_MARKETING,
                status_source=source,
                status_changed_at=now,
                email=email,
                first_name=draft.first_name,
                last_name=draft.last_name,
                job_title=draft.job_title,
                company_name=draft.company_name,
                owner_id=draft.owner_id,
                lifecycle_stage=initial_stage(
                    draft.created_via, draft.lifecycle_stage, account.lifecycle_defaults
                ),
                email_hard_bounced=draft.email_hard_bounced,
                unsubscribed_from_all=draft.unsubscribed_from_all,
            )
            update = change_status(blank, status, source, now)
            contact = blank if update is None else update.after
            change = plan_usage_change(account, [Transition(contact.id, None, contact.state)], now)
            if change.blocked and by_channel:
                contact, update = blank, None
                change = _kept_non_marketing(change, contact.id, now)
            if change.blocked:
                if change.alerts:
                    await self.ports.ledger.commit(batch_for(account, change))
                raise tier_limit_reached(account)
            batch = replace(
                batch_for(account, change),
                created=(contact,),
                history=() if update is None else history_of([update]),
                audit=self._audit(caller, action, contact.id),
            )
            try:
                await self.ports.ledger.commit(batch)
            except DuplicateEmail as error:
                raise duplicate_email() from error
            return contact

        return await self.ports.retrying_on(caller.account_id, attempt)

    async def update(self, caller: Caller, contact_id: str, edit: ContactEdit) -> Contact:
        check_id(contact_id, "id")
        changes = dict(edit.changes)
        if "email" in changes:
            changes["email"] = normalize_email(changes["email"], "email")
        check_text_fields(changes)
        await check_owner(self.ports, caller, changes.get("owner_id"))
        source = StatusSource(StatusSourceType.USER, caller.user_id)

        async def attempt() -> Contact:
            # the account matters only to a status change: read once, for permission and counts
            account = None
            if edit.marketing_status is not None:
                account = await self.ports.account(caller.account_id)
                check_statuses_settable(account, "marketing_status")
                check_status_permission(
                    edit.marketing_status,
                    StatusSourceType.USER,
                    marketing_access=caller.marketing_access,
                    edition=account.edition,
                    field=("marketing_status",),
                )
            contact = await self._existing(caller, contact_id)
            if "lifecycle_stage" in changes:
                check_lifecycle_change(contact.lifecycle_stage, changes["lifecycle_stage"])
            now = self.ports.clock.now()
            edited = replace(contact, **changes, updated_at=now) if changes else contact
            update = None
            if edit.marketing_status is not None:
                update = change_status(edited, edit.marketing_status, source, now)
            try:
                audit = self._audit(caller, "updateContact", contact.id)
                if update is None:
                    if changes:
                        await self.ports.contacts.update_fields(contact, edited, audit)
                    return edited
                assert account is not None  # read above: a status change was asked for
                change = plan_usage_change(account, transitions_of([update]), now)
                if change.blocked:
                    if change.alerts:
                        await self.ports.ledger.commit(batch_for(account, change))
                    raise tier_limit_reached(account)
                status_update = replace(update, before=contact)
                await self.ports.ledger.commit(batch_for(account, change, [status_update], audit))
                return update.after
            except DuplicateEmail as error:
                raise duplicate_email() from error

        return await self.ports.retrying_on(caller.account_id, attempt)

    async def delete(self, caller: Caller, contact_id: str) -> str:
        """S2: a deleted marketing contact leaves the count at once."""
        check_id(contact_id, "id")

        async def attempt() -> str:
            contact = await self._existing(caller, contact_id)
            account = await self.ports.account(caller.account_id)
            now = self.ports.clock.now()
            change = plan_usage_change(account, [Transition(contact.id, contact.state, None)], now)
            await self.ports.ledger.commit(
                ChangeBatch(
                    account_before=account,
                    account_after=change.account,
                    deleted=(contact,),
                    audit=self._audit(caller, "deleteContact", contact.id),
                )
            )
            return contact.id

        return await self.ports.retrying_on(caller.account_id, attempt)

    async def history(
        self, caller: Caller, contact_id: str, first: int, after: str | None
    ) -> Page[HistoryEntry]:
        return await paged(
            first, after, self.ports.history.page(caller.account_id, contact_id, first, after)
        )

    async def first_history_pages(
        self, caller: Caller, newest: Mapping[str, int], first: int
    ) -> dict[str, Page[HistoryEntry]]:
        """The first history page of many contacts at once (one read for a page of contacts),
        each as of its newest entry (contact id -> its status_seq, as read with it)."""
        check_first(first)
        return await self.ports.history.first_pages(caller.account_id, newest, first)

    async def history_counts(self, caller: Caller, contact_ids: Sequence[str]) -> dict[str, int]:
        """How many entries each contact's history holds (one read for a page of contacts)."""
        return await self.ports.history.counts(caller.account_id, contact_ids)

    async def _integration(self, caller: Caller, draft: ContactDraft) -> App:
        """F3: the app the draft names, of the caller's account; it makes createdVia
        INTEGRATION, so a createdVia of another source is INVALID beside it."""
        assert draft.integration_id is not None
        check_id(draft.integration_id, "integration_id")
        if draft.created_via not in (CreationSource.API, CreationSource.INTEGRATION):
            raise refuse(
                ErrorCode.INVALID,
                "a contact created by a connected app is created via INTEGRATION",
                "created_via",
            )
        app = await self.ports.apps.get(
            caller.account_id, AppKind.INTEGRATION, draft.integration_id
        )
        if app is None:
            raise record_not_found("integration", draft.integration_id, "integration_id")
        return app

    def _audit(self, caller: Caller, action: str, contact_id: str) -> AuditEntry:
        return self.ports.audit_entry(caller.account_id, caller.actor, action, [contact_id])

    async def _existing(self, caller: Caller, contact_id: str) -> Contact:
        contact = await self.ports.contacts.get(caller.scope, contact_id)
        if contact is None:
            raise refuse(ErrorCode.NOT_FOUND, f"contact {quoted(contact_id)} does not exist", "id")
        return contact


def _kept_non_marketing(blocked: UsageChange, contact_id: str, now: datetime) -> UsageChange:
    """D4 under BLOCK for a channel's contact: refused as marketing, it is created
    non-marketing, with the UPGRADE_BLOCKED alert the refusal raised (in the same write)."""
    kept = plan_usage_change(
        blocked.account, [Transition(contact_id, None, MarketingState.NON_MARKETING)], now
    )
    return replace(kept, alerts=blocked.alerts + kept.alerts)


async def _no_contacts() -> Page[Contact]:
    return Page(items=[], cursors=[], has_next_page=False)

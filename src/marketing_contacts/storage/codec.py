"""Documents <-> domain objects. The only place that knows the stored field names."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from bson import ObjectId

from marketing_contacts.domain.accounts import Account
from marketing_contacts.domain.alerts import AlertState, TierAlert, TierAlertKind
from marketing_contacts.domain.contacts import Contact, LifecycleStage, email_domain, email_key
from marketing_contacts.domain.creation import CreationDefaults, CreationSource
from marketing_contacts.domain.lifecycle import LifecycleDefaults
from marketing_contacts.domain.statuses import (
    HistoryEntry,
    MarketingState,
    MarketingStatus,
    StatusChange,
    StatusSource,
    StatusSourceType,
)
from marketing_contacts.domain.tiers import Edition, Ladder, TierChange, UpgradePolicy
from marketing_contacts.domain.update_dates import CommitmentTerm, UpdateSchedule, update_instant
from marketing_contacts.domain.usage import UsageCounts
from marketing_contacts.services.ports.tokens import ApiToken

Doc = dict[str, Any]


def _opt(kind: Any, value: Any) -> Any:
    return None if value is None else kind(value)


def counts_doc(counts: UsageCounts) -> Doc:
    return {"marketing": counts.marketing, "pending": counts.pending, "total": counts.total}


def counts_from(doc: Doc) -> UsageCounts:
    return UsageCounts(doc["marketing"], doc["pending"], doc["total"])


def account_state_doc(account: Account) -> Doc:
    """Every field of an account that changes after it is opened."""
    state = account.alert_state
    return {
        "name": account.name,
        "timezone": account.timezone,
        "tier_limit": account.tier_limit,
        "upgrade_policy": account.upgrade_policy.value,
        "alert_thresholds": list(account.alert_thresholds),
        "next_update_date": account.next_update_date.isoformat(),
        "next_update_at": update_instant(account.next_update_date, account.timezone),
        "alert_state": {
            "period_start": state.period_start.isoformat(),
            "tier_limit": state.tier_limit,
            "raised": sorted(state.raised),
            "upgrade_blocked": state.upgrade_blocked,
        },
        "counts": counts_doc(account.counts),
        "creation_defaults": {
            k.value: v.value for k, v in account.creation_defaults.overrides.items()
        },
        "lifecycle_defaults": {
            k.value: None if v is None else v.value
            for k, v in account.lifecycle_defaults.overrides.items()
        },
        "revision": account.revision,
        "marketing_contacts_enabled": account.marketing_contacts_enabled,
    }


#: what a change of settings writes: the settings, the update instant a new zone moves, and
#: the revision (the counters, the tier and the alert state are written by their own changes)
SETTINGS_FIELDS = (
    "name",
    "timezone",
    "next_update_at",
    "upgrade_policy",
    "alert_thresholds",
    "creation_defaults",
    "lifecycle_defaults",
    "revision",
)


def account_settings_doc(account: Account) -> Doc:
    state = account_state_doc(account)
    return {name: state[name] for name in SETTINGS_FIELDS}


def account_doc(account: Account) -> Doc:
    ladder = account.ladder
    return {
        "_id": ObjectId(account.id),
        "edition": account.edition.value,
        "term": account.schedule.term.value,
        "anchor_day": account.schedule.anchor_day,
        "ladder": {
            "first_limit": ladder.first_limit,
            "step": ladder.step,
            "first_price": str(ladder.first_price),
            "step_price": str(ladder.step_price),
        },
        "created_at": account.created_at,
        **account_state_doc(account),
    }


def account_from(doc: Doc) -> Account:
    ladder, state = doc["ladder"], doc["alert_state"]
    return Account(
        id=str(doc["_id"]),
        name=doc["name"],
        edition=Edition(doc["edition"]),
        schedule=UpdateSchedule(CommitmentTerm(doc["term"]), doc["anchor_day"]),
        timezone=doc["timezone"],
        ladder=Ladder(
            ladder["first_limit"],
            ladder["step"],
            Decimal(ladder["first_price"]),
            Decimal(ladder["step_price"]),
        ),
        tier_limit=doc["tier_limit"],
        upgrade_policy=UpgradePolicy(doc["upgrade_policy"]),
        next_update_date=date.fromisoformat(doc["next_update_date"]),
        alert_state=AlertState(
            period_start=date.fromisoformat(state["period_start"]),
            tier_limit=state["tier_limit"],
            raised=frozenset(state["raised"]),
            upgrade_blocked=state["upgrade_blocked"],
        ),
        created_at=doc["created_at"],
        alert_thresholds=tuple(doc["alert_thresholds"]),
        counts=counts_from(doc["counts"]),
        creation_defaults=CreationDefaults(
            MappingProxyType(
                {CreationSource(k): MarketingStatus(v) for k, v in doc["creation_defaults"].items()}
            )
        ),
        lifecycle_defaults=LifecycleDefaults(
            MappingProxyType(
                {
                    CreationSource(k): _opt(LifecycleStage, v)
                    for k, v in doc.get("lifecycle_defaults", {}).items()
                }
            )
        ),
        revision=doc["revision"],
        # K1: an account stored before the feature could be off has it on
        marketing_contacts_enabled=doc.get("marketing_contacts_enabled", True),
    )


def contact_details(contact: Contact) -> Doc:
    """Every field of a contact that may change after it is created, but its status."""
    return {
        "email": contact.email,
        "email_key": email_key(contact.email),
        "email_domain": email_domain(contact.email),
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "job_title": contact.job_title,
        "company_name": contact.company_name,
        "owner_id": contact.owner_id,
        "lifecycle_stage": contact.lifecycle_stage.value if contact.lifecycle_stage else None,
        "updated_at": contact.updated_at,
        "email_hard_bounced": contact.email_hard_bounced,
        "unsubscribed_from_all": contact.unsubscribed_from_all,
        # S6, as the domain decides it, stored for the filter and its index; written with
        # the two fields it follows from
        "unengaged": contact.unengaged,
        "list_ids": sorted(contact.list_ids),
        "company_ids": sorted(contact.company_ids),
        "primary_company_id": contact.primary_company_id,
        # C11: what a search finds it by, written with the fields it follows from
        "search_keys": sorted(contact.search_keys),
        # C10: the contacts merged into it, and their addresses
        "merged_ids": list(contact.merged_ids),
        "merged_emails": sorted(contact.merged_emails),
    }


def contact_status(contact: Contact) -> Doc:
    """A contact's status: what only the change writer writes (conditional on `status_seq`)."""
    return {
        "state": contact.state.value,
        "status_source_type": contact.status_source.type.value,
        "status_source_id": contact.status_source.id,
        "status_changed_at": contact.status_changed_at,
        "pending_since": contact.pending_since,
        "status_seq": contact.status_seq,
    }


def contact_fields(contact: Contact) -> Doc:
    """Every field of a contact that may change after it is created."""
    return {**contact_details(contact), **contact_status(contact)}


def contact_doc(contact: Contact) -> Doc:
    return {
        "_id": ObjectId(contact.id),
        "account_id": ObjectId(contact.account_id),
        "created_via": contact.created_via.value,
        "created_at": contact.created_at,
        **contact_fields(contact),
    }


def contact_diff(before: Contact, after: Contact) -> Doc:
    """Only the fields that differ: concurrent edits of other fields are not overwritten."""
    return _differing(contact_fields(before), contact_fields(after))


def details_diff(before: Contact, after: Contact) -> Doc:
    """The fields but the status that differ (a field edit leaves the status to the writer)."""
    return _differing(contact_details(before), contact_details(after))


def _differing(before: Doc, after: Doc) -> Doc:
    return {key: value for key, value in after.items() if before[key] != value}


def contact_from(doc: Doc) -> Contact:
    return Contact(
        id=str(doc["_id"]),
        account_id=str(doc["account_id"]),
        created_via=CreationSource(doc["created_via"]),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        state=MarketingState(doc["state"]),
        status_source=StatusSource(
            StatusSourceType(doc["status_source_type"]), doc["status_source_id"]
        ),
        status_changed_at=doc["status_changed_at"],
        email=doc["email"],
        first_name=doc["first_name"],
        last_name=doc["last_name"],
        job_title=doc["job_title"],
        company_name=doc["company_name"],
        owner_id=doc["owner_id"],
        lifecycle_stage=_opt(LifecycleStage, doc["lifecycle_stage"]),
        email_hard_bounced=doc["email_hard_bounced"],
        unsubscribed_from_all=doc["unsubscribed_from_all"],
        pending_since=doc["pending_since"],
        status_seq=doc["status_seq"],
        list_ids=frozenset(doc["list_ids"]),
        company_ids=frozenset(doc.get("company_ids", ())),
        primary_company_id=doc.get("primary_company_id"),
        # C12: written by the engagements store alone ($max), never by a contact's own writes
        last_activity_at=doc.get("last_activity_at"),
        last_contacted_at=doc.get("last_contacted_at"),
        merged_ids=tuple(doc.get("merged_ids", ())),
        merged_emails=frozenset(doc.get("merged_emails", ())),
    )


def history_doc(entry: HistoryEntry) -> Doc:
    change = entry.change
    return {
        "account_id": ObjectId(entry.account_id),
        "contact_id": ObjectId(entry.contact_id),
        "seq": entry.seq,
        "at": change.at,
        "from_state": change.from_state.value,
        "to_state": change.to_state.value,
        "source_type": change.source.type.value,
        "source_id": change.source.id,
    }


def history_from(doc: Doc) -> HistoryEntry:
    return HistoryEntry(
        account_id=str(doc["account_id"]),
        contact_id=str(doc["contact_id"]),
        seq=doc["seq"],
        change=StatusChange(
            at=doc["at"],
            from_state=MarketingState(doc["from_state"]),
            to_state=MarketingState(doc["to_state"]),
            source=StatusSource(StatusSourceType(doc["source_type"]), doc["source_id"]),
        ),
    )


def tier_change_doc(account_id: str, change: TierChange) -> Doc:
    return {
        "_id": ObjectId(),
        "account_id": ObjectId(account_id),
        "from_limit": change.from_limit,
        "to_limit": change.to_limit,
        "at": change.at,
        "charge_date": change.charge_date.isoformat(),
        "prorated_amount": str(change.prorated_amount),
        "marketing_contacts": change.marketing_contacts,
    }


def tier_change_from(doc: Doc) -> TierChange:
    return TierChange(
        from_limit=doc["from_limit"],
        to_limit=doc["to_limit"],
        at=doc["at"],
        charge_date=date.fromisoformat(doc["charge_date"]),
        prorated_amount=Decimal(doc["prorated_amount"]),
        marketing_contacts=doc["marketing_contacts"],
    )


#: set while an alert waits to be published (the time it was raised); cleared once it is
AWAITING_DELIVERY = "awaiting_delivery"


def alert_doc(account_id: str, alert: TierAlert) -> Doc:
    return {
        "_id": ObjectId(),
        "account_id": ObjectId(account_id),
        "kind": alert.kind.value,
        "threshold": alert.threshold,
        "marketing_contacts": alert.marketing_contacts,
        "tier_limit": alert.tier_limit,
        "at": alert.at,
        "period_start": alert.period_start.isoformat(),
        AWAITING_DELIVERY: alert.at,
    }


def alert_from(doc: Doc) -> TierAlert:
    return TierAlert(
        kind=TierAlertKind(doc["kind"]),
        threshold=doc["threshold"],
        marketing_contacts=doc["marketing_contacts"],
        tier_limit=doc["tier_limit"],
        at=doc["at"],
        period_start=date.fromisoformat(doc["period_start"]),
    )


def token_doc(token: ApiToken) -> Doc:
    return {
        "_id": ObjectId(token.id),
        "account_id": ObjectId(token.account_id),
        "name": token.name,
        "marketing_access": token.marketing_access,
        "secret_hash": token.secret_hash,
        "created_at": token.created_at,
        "user_id": None if token.user_id is None else ObjectId(token.user_id),
        "last_used_at": token.last_used_at,
        "revoked": token.revoked,
    }


def token_from(doc: Doc) -> ApiToken:
    """Tokens stored before users have no user_id, last_used_at or revoked."""
    user_id = doc.get("user_id")
    return ApiToken(
        id=str(doc["_id"]),
        account_id=str(doc["account_id"]),
        name=doc["name"],
        marketing_access=doc["marketing_access"],
        secret_hash=doc["secret_hash"],
        created_at=doc["created_at"],
        user_id=None if user_id is None else str(user_id),
        last_used_at=doc.get("last_used_at"),
        revoked=doc.get("revoked", False),
    )

"""Merging two contacts into one (C10).

The primary stays, with its id, its creation and its associations; the secondary is merged into
it and goes, leaving the count (T1) in the same write. This module decides what the primary
becomes; storage writes it, with what else points at the secondary, in one transaction.

How C10 is read here:

- The marketing state is the stronger of the two, M over P over N (`merged_state`). "A pending
  flag survives only if both were P" is read as a consequence of that order, not as a rule of
  its own: the result is P exactly when the stronger of the two is P (P with P, and P with N),
  since a pending contact is still marketing and N would let a marketing contact leave the count
  before its update date. A merge never adds a marketing contact: the contacts it leaves
  counted are at most those counted before (the primary is M or P if either was), so its tier
  check (`domain.changes.plan_usage_change`, run as for any other write) never upgrades, blocks
  or raises a threshold alert; both transitions are planned at once, so no alert is raised
  midway either.
- When the state changes, the primary's status names the merge (source MERGE, the secondary's
  id) and one history entry records the change. A P taken over from the secondary keeps when the
  secondary became pending (so the update date due for it applies to the merged contact as it
  would have to the secondary); two P keep the earlier time.
- The histories are combined: the secondary's entries become the primary's, numbered after the
  primary's own (their times stay), then the merge's entry when there is one. So the primary's
  `status_seq` grows by the secondary's and every entry keeps a sequence of its own.
- Fields: the primary's, each empty one (None or "") filled from the secondary, the email
  included (a secondary's address taken over this way stays in use; otherwise it is free once
  the merge commits). The lifecycle stage is the later of the two by C3's order, OTHER below
  every ranked stage and no stage below OTHER (so a merge never moves a stage back).
  `emailHardBounced` and `unsubscribedFromAll` hold if either held (S6: an address that bounced
  stays unengaged whoever keeps it). The activity dates (C12) are the later of each.
- Associations: the lists of both (a list holding both keeps one member); the companies of
  both, at most MAX_COMPANIES_PER_CONTACT: the primary's first, then the secondary's primary
  company, then its others in id order (those past the limit are left out). The primary's
  primary company stays; one without takes the secondary's. Deals and engagements are moved
  by storage, which finds them by the secondary's id.
- `merged_ids`: the primary's, then the secondary, then those merged into the secondary.
  `merged_emails`: the addresses of the secondary and of those merged into it (and the
  primary's own), but the merged contact's own address: its email activity lists the events
  of all of them (C7: the activity belongs to the address, and they were the person's).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from marketing_contacts.domain.companies import MAX_COMPANIES_PER_CONTACT
from marketing_contacts.domain.contacts import (
    Contact,
    LifecycleStage,
    email_key,
    history_of,
    move_to,
    stage_rank,
)
from marketing_contacts.domain.errors import ErrorCode, refuse
from marketing_contacts.domain.statuses import (
    HistoryEntry,
    MarketingState,
    StatusSource,
    StatusSourceType,
)
from marketing_contacts.domain.usage import Transition

#: M over P over N
_STRENGTH = {
    MarketingState.NON_MARKETING: 0,
    MarketingState.MARKETING_UNTIL_NEXT_UPDATE: 1,
    MarketingState.MARKETING: 2,
}
#: the fields the primary keeps, each filled from the secondary when the primary has none
FILLED_FIELDS = ("email", "first_name", "last_name", "job_title", "company_name", "owner_id")


@dataclass(frozen=True)
class Merge:
    """A decided merge: both contacts as they were read, the primary after it, and the
    history entry of its change of state (none when the state stays)."""

    primary: Contact
    secondary: Contact
    contact: Contact
    history: tuple[HistoryEntry, ...] = ()

    @property
    def transitions(self) -> list[Transition]:
        """T1: the primary moves to the merged state, the secondary leaves the count."""
        return [
            Transition(self.primary.id, self.primary.state, self.contact.state),
            Transition(self.secondary.id, self.secondary.state, None),
        ]


def check_distinct(primary_id: str, secondary_id: str) -> None:
    """A contact is not merged with itself."""
    if primary_id == secondary_id:
        raise refuse(ErrorCode.INVALID, "a contact cannot be merged with itself", "secondary_id")


def merged_state(primary: MarketingState, secondary: MarketingState) -> MarketingState:
    """C10: the stronger of the two states, M over P over N."""
    return max(primary, secondary, key=_STRENGTH.__getitem__)


def later_stage(a: LifecycleStage | None, b: LifecycleStage | None) -> LifecycleStage | None:
    """C3: the later of two stages; OTHER comes below every ranked stage, no stage below it."""
    return max(a, b, key=_stage_order)


def _stage_order(stage: LifecycleStage | None) -> int:
    if stage is None:
        return -2
    if stage is LifecycleStage.OTHER:
        return -1
    return stage_rank(stage)


def merged_companies(
    primary: Contact, secondary: Contact, limit: int = MAX_COMPANIES_PER_CONTACT
) -> tuple[frozenset[str], str | None]:
    """C2: the companies of both, at most `limit` (the primary's first, then the secondary's
    primary company, then its others in id order), and the primary company among them."""
    kept = list(primary.company_ids)
    offered = [secondary.primary_company_id, *sorted(secondary.company_ids)]
    for company_id in dict.fromkeys(c for c in offered if c is not None):
        if len(kept) >= limit:
            break
        if company_id not in primary.company_ids:
            kept.append(company_id)
    main = primary.primary_company_id
    if main is None and secondary.primary_company_id in kept:
        main = secondary.primary_company_id
    return frozenset(kept), main


def merge_contacts(primary: Contact, secondary: Contact, at: datetime) -> Merge:
    """C10: what the primary becomes when `secondary` is merged into it at `at` (the module's
    doc says how each part is decided)."""
    companies, primary_company = merged_companies(primary, secondary)
    fields = replace(
        primary,
        **_filled(primary, secondary),
        lifecycle_stage=later_stage(primary.lifecycle_stage, secondary.lifecycle_stage),
        email_hard_bounced=primary.email_hard_bounced or secondary.email_hard_bounced,
        unsubscribed_from_all=primary.unsubscribed_from_all or secondary.unsubscribed_from_all,
        last_activity_at=_later(primary.last_activity_at, secondary.last_activity_at),
        last_contacted_at=_later(primary.last_contacted_at, secondary.last_contacted_at),
        list_ids=primary.list_ids | secondary.list_ids,
        company_ids=companies,
        primary_company_id=primary_company,
        merged_ids=tuple(dict.fromkeys((*primary.merged_ids, secondary.id, *secondary.merged_ids))),
        updated_at=at,
    )
    contact = replace(fields, merged_emails=_merged_emails(fields, primary, secondary))
    contact, history = _merged_status(contact, secondary, at)
    return Merge(primary=primary, secondary=secondary, contact=contact, history=history)


def _filled(primary: Contact, secondary: Contact) -> dict[str, Any]:
    """The secondary's value of each field the primary has empty (None or "")."""
    return {
        name: getattr(secondary, name)
        for name in FILLED_FIELDS
        if not getattr(primary, name) and getattr(secondary, name)
    }


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return max((d for d in (a, b) if d is not None), default=None)


def _merged_emails(merged: Contact, *contacts: Contact) -> frozenset[str]:
    """The addresses of every contact of the merge, but the merged contact's own."""
    keys: Iterable[str | None] = (
        key for c in contacts for key in (email_key(c.email), *c.merged_emails)
    )
    own = email_key(merged.email)
    return frozenset(key for key in keys if key is not None and key != own)


def _merged_status(
    contact: Contact, secondary: Contact, at: datetime
) -> tuple[Contact, tuple[HistoryEntry, ...]]:
    """The primary's state after the merge, with the secondary's history numbered after its
    own and, when the state changes, the merge's entry after them."""
    combined = replace(contact, status_seq=contact.status_seq + secondary.status_seq)
    state = merged_state(contact.state, secondary.state)
    if state is contact.state:
        return replace(combined, pending_since=_pending_since(contact, secondary)), ()
    update = move_to(combined, state, StatusSource(StatusSourceType.MERGE, secondary.id), at)
    after = update.after
    if state is MarketingState.MARKETING_UNTIL_NEXT_UPDATE:
        after = replace(after, pending_since=secondary.pending_since or at)
    return after, history_of([update])


def _pending_since(primary: Contact, secondary: Contact) -> datetime | None:
    """Two pending contacts: the earlier time (the update date due for either applies)."""
    pending = MarketingState.MARKETING_UNTIL_NEXT_UPDATE
    if primary.state is not pending or secondary.state is not pending:
        return primary.pending_since
    return min(
        (d for d in (primary.pending_since, secondary.pending_since) if d is not None),
        default=None,
    )

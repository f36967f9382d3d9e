"""What a merge writes (C10), in the transaction of its batch (storage.writer).

Before the secondary is deleted, `absorb` checks it is as it was read (its status sequence and
its memberships) and moves onto the primary what points at it: its status history (re-numbered
after the primary's entries, one update of the history index's prefix), its deals and its
engagements (each `$addToSet` the primary where the secondary is named, then `$pull` the
secondary, by the indexes on (account_id, contact_ids, _id) and (account_id, record_ids, _id)).
After the delete (which takes the secondary off its lists' sizes and frees its address),
`write_primary` writes the merged primary, conditional on its status sequence and memberships,
and adds it to the size of each list it joins.

Every read and write here is a lookup by `_id` or served by an index prefix; none is read
outside the transaction, so each sees the snapshot the transaction writes on, and a concurrent
write of either contact meets this one as a write conflict (the transaction runs again, and its
conditions then fail: StaleWrite).
"""

from __future__ import annotations

from collections.abc import Collection

from pymongo import UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession

from marketing_contacts.domain.contacts import Contact
from marketing_contacts.services.ports.changes import ContactMerge, StaleWrite
from marketing_contacts.storage.codec import contact_diff
from marketing_contacts.storage.database import (
    CONTACTS,
    DEALS,
    ENGAGEMENTS,
    LISTS,
    STATUS_HISTORY,
    Doc,
    Mongo,
)
from marketing_contacts.storage.ids import oid

#: C12: the dates the engagements store moves by `$max`, which a merge moves the same way
ACTIVITY_DATES = ("last_activity_at", "last_contacted_at")


async def absorb(mongo: Mongo, merge: ContactMerge, session: AsyncClientSession) -> Doc:
    """The secondary, as read, hands its history, deals and engagements to the primary; what
    the primary's own write then moves by `$max` and `$inc` (StaleWrite if the secondary
    changed since it was read)."""
    primary, secondary = merge.primary, merge.secondary
    found = await mongo[CONTACTS].find_one(
        {**_as_read(secondary), "status_seq": secondary.status_seq},
        {name: 1 for name in ACTIVITY_DATES},
        session=session,
    )
    if found is None:
        raise StaleWrite(f"contact {secondary.id} changed or went since it was read")
    account = oid(primary.account_id)
    await mongo[STATUS_HISTORY].update_many(
        {"account_id": account, "contact_id": oid(secondary.id)},
        {"$set": {"contact_id": oid(primary.id)}, "$inc": {"seq": primary.status_seq}},
        session=session,
    )
    await _take_place(mongo, DEALS, "contact_ids", merge, session)
    engaged = await _take_place(mongo, ENGAGEMENTS, "record_ids", merge, session)
    dates = {name: found[name] for name in ACTIVITY_DATES if found.get(name) is not None}
    moved: Doc = {}
    if dates:
        moved["$max"] = dates
    if engaged:
        moved["$inc"] = {"engagement_count": engaged}
    return moved


async def write_primary(
    mongo: Mongo, merge: ContactMerge, moved: Doc, session: AsyncClientSession
) -> None:
    """The primary as merged (after the secondary's delete: it may take over its address),
    only while it is as it was read; each list it joins counts it."""
    primary, merged = merge.primary, merge.merged
    written = await mongo[CONTACTS].update_one(
        {**_as_read(primary), "status_seq": primary.status_seq},
        {"$set": contact_diff(primary, merged), **moved},
        session=session,
    )
    if written.matched_count != 1:
        raise StaleWrite(f"contact {primary.id} changed since it was read")
    joined = sorted(merged.list_ids - primary.list_ids)
    if joined:
        await mongo[LISTS].bulk_write(
            [UpdateOne({"_id": oid(list_id)}, {"$inc": {"size": 1}}) for list_id in joined],
            session=session,
        )


async def _take_place(
    mongo: Mongo, collection: str, field: str, merge: ContactMerge, session: AsyncClientSession
) -> int:
    """The primary named where the secondary was, once; how many documents newly name it."""
    named = {"account_id": oid(merge.primary.account_id), field: merge.secondary.id}
    added = await mongo[collection].update_many(
        named, {"$addToSet": {field: merge.primary.id}}, session=session
    )
    await mongo[collection].update_many(
        named, {"$pull": {field: merge.secondary.id}}, session=session
    )
    return added.modified_count


def _as_read(contact: Contact) -> Doc:
    """The contact, with the memberships it was read with (whatever their stored order)."""
    return {
        "_id": oid(contact.id),
        "account_id": oid(contact.account_id),
        **_same_set("list_ids", contact.list_ids),
        **_same_set("company_ids", contact.company_ids),
        "primary_company_id": contact.primary_company_id,
    }


def _same_set(field: str, values: Collection[str]) -> Doc:
    if not values:  # empty, or missing on a document stored before the field was
        return {f"{field}.0": {"$exists": False}}
    return {field: {"$size": len(values), "$all": sorted(values)}}

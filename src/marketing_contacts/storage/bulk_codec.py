"""Bulk operation documents <-> domain objects."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from marketing_contacts.domain.bulk import (
    BulkOperation,
    BulkOperationStatus,
    BulkProgress,
    Selection,
)
from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.errors import ErrorCode
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import MarketingStatus, StatusSourceType

Doc = dict[str, Any]

_FILTER_ENUMS: dict[str, Any] = {
    "marketing_status": MarketingStatus,
    "lifecycle_stage": LifecycleStage,
    "created_via": CreationSource,
}


def filter_to_doc(where: ContactFilter) -> Doc:
    out: Doc = {}
    for name, value in vars(where).items():
        if value is not None:
            out[name] = value.value if name in _FILTER_ENUMS else value
    return out


def filter_from(doc: Doc) -> ContactFilter:
    return ContactFilter(
        **{k: _FILTER_ENUMS[k](v) if k in _FILTER_ENUMS else v for k, v in doc.items()}
    )


def selection_doc(selection: Selection) -> Doc:
    return {
        "ids": None if selection.ids is None else list(selection.ids),
        "filter": None if selection.filter is None else filter_to_doc(selection.filter),
        "list_id": selection.list_id,
        "unengaged": selection.unengaged,
    }


def selection_from(doc: Doc) -> Selection:
    return Selection(
        ids=None if doc["ids"] is None else tuple(doc["ids"]),
        filter=None if doc["filter"] is None else filter_from(doc["filter"]),
        list_id=doc["list_id"],
        unengaged=doc["unengaged"],
    )


PROGRESS_FIELDS = ("matched", "processed", "changed_now", "became_pending", "unchanged", "failed")


def progress_doc(progress: BulkProgress) -> Doc:
    return {
        **{name: getattr(progress, name) for name in PROGRESS_FIELDS},
        "failures": {code.value: n for code, n in progress.failures.items()},
    }


def progress_increments(progress: BulkProgress) -> Doc:
    """A chunk's progress as $inc operations on the stored operation."""
    inc = {f"progress.{name}": getattr(progress, name) for name in PROGRESS_FIELDS[1:]}
    inc.update({f"progress.failures.{c.value}": n for c, n in progress.failures.items()})
    return {key: value for key, value in inc.items() if value}


def progress_from(doc: Doc) -> BulkProgress:
    return BulkProgress(
        **{name: doc[name] for name in PROGRESS_FIELDS},
        failures={ErrorCode(code): n for code, n in doc.get("failures", {}).items()},
    )


def operation_doc(operation: BulkOperation) -> Doc:
    return {
        "_id": ObjectId(operation.id),
        "account_id": ObjectId(operation.account_id),
        "target": operation.target.value,
        "selection": selection_doc(operation.selection),
        "status": operation.status.value,
        "created_at": operation.created_at,
        "requested_by": operation.requested_by,
        "owners": None if operation.owners is None else sorted(operation.owners),
        "progress": progress_doc(operation.progress),
        "source_id": operation.source_id,
        "source_type": operation.source_type.value,
        "started_at": operation.started_at,
        "finished_at": operation.finished_at,
        "resolved": operation.resolved,
        "resolution": operation.resolution,
        "next_page": operation.next_page,
        "page_count": operation.page_count,
        "lease_until": operation.lease_until,
        "lease_owner": operation.lease_owner,
        "failure": operation.failure,
    }


def operation_from(doc: Doc) -> BulkOperation:
    return BulkOperation(
        id=str(doc["_id"]),
        account_id=str(doc["account_id"]),
        target=MarketingStatus(doc["target"]),
        selection=selection_from(doc["selection"]),
        status=BulkOperationStatus(doc["status"]),
        created_at=doc["created_at"],
        requested_by=doc["requested_by"],
        owners=None if doc.get("owners") is None else frozenset(doc["owners"]),
        progress=progress_from(doc["progress"]),
        source_id=doc["source_id"],
        # one stored before S7's workflows was the operation's own
        source_type=StatusSourceType(doc.get("source_type", StatusSourceType.BULK_OPERATION)),
        started_at=doc["started_at"],
        finished_at=doc["finished_at"],
        resolved=doc["resolved"],
        resolution=doc.get("resolution"),
        next_page=doc.get("next_page", 0),
        page_count=doc.get("page_count"),
        lease_until=doc["lease_until"],
        lease_owner=doc.get("lease_owner"),
        failure=doc["failure"],
    )

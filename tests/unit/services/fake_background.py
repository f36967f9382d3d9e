"""P5 in memory: an account's background operations (bulk changes, imports, exports) that are
queued or running, as storage.background counts them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from marketing_contacts.domain.bulk import BulkOperationStatus

if TYPE_CHECKING:
    from tests.unit.services.fakes import FakeData

ACTIVE = (BulkOperationStatus.QUEUED, BulkOperationStatus.RUNNING)


def active_operations(data: FakeData, account_id: str) -> int:
    kinds = (data.operations.values(), data.imports.values(), data.exports.values())
    return sum(o.account_id == account_id and o.status in ACTIVE for kind in kinds for o in kind)

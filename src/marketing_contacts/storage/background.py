"""P5: an account's background operations (bulk changes, imports, exports) that are queued or
running, counted in the transaction that starts one more.

Counting alone would let two concurrent starts each see room for one more; each start first
writes the account's document (a counter of starts), so concurrent starts of one account meet
in a write conflict and the driver runs the later one again, after the earlier one committed:
it counts that one too.
"""

from __future__ import annotations

from pymongo.asynchronous.client_session import AsyncClientSession

from marketing_contacts.domain.bulk import BulkOperationStatus
from marketing_contacts.storage.database import ACCOUNTS, BULK_OPERATIONS, EXPORTS, IMPORTS, Mongo
from marketing_contacts.storage.ids import oid

#: the states of an operation that holds one of the account's places
ACTIVE = [BulkOperationStatus.QUEUED.value, BulkOperationStatus.RUNNING.value]
#: where each kind of background operation is kept
KINDS = (BULK_OPERATIONS, IMPORTS, EXPORTS)


async def active_operations(mongo: Mongo, account_id: str, session: AsyncClientSession) -> int:
    """How many background operations of every kind the account has queued or running, read
    after writing its document (see the module's doc)."""
    account = oid(account_id)
    await mongo[ACCOUNTS].update_one(
        {"_id": account}, {"$inc": {"bulk_starts": 1}}, session=session
    )
    active = {"account_id": account, "status": {"$in": ACTIVE}}
    return sum([await mongo[kind].count_documents(active, session=session) for kind in KINDS])

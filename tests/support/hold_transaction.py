"""A process that opens a transaction on an account's document and never ends it.

Run as `python -m tests.support.hold_transaction MONGODB_URI DATABASE ACCOUNT_ID`: it writes the
account document inside a transaction, prints `holding`, and waits (forever, until
killed), as an API process killed in the middle of a transaction leaves it behind.
"""

from __future__ import annotations

import sys
import threading

from bson import ObjectId
from pymongo import MongoClient

from marketing_contacts.storage.database import ACCOUNTS


def main(uri: str, database: str, account_id: str) -> None:
    client: MongoClient[dict[str, object]] = MongoClient(uri)
    session = client.start_session()
    session.start_transaction()
    held = client[database][ACCOUNTS].update_one(
        {"_id": ObjectId(account_id)}, {"$set": {"held_by_a_dead_process": True}}, session=session
    )
    assert held.matched_count == 1
    print("holding", flush=True)
    threading.Event().wait()  # until killed


if __name__ == "__main__":
    main(*sys.argv[1:4])

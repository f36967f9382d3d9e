"""Multi-document transactions with the driver's retry rules, bounded in time.

Every transaction of the adapters runs through `transact`, which is PyMongo's `with_transaction`:
a transient error (a write conflict with a concurrent transaction, a primary that stepped down)
runs the whole transaction again, and a commit whose outcome is unknown is committed again. All
of it within the database timeout (the client's timeoutMS), never the driver's 120 s.

A transaction that met write conflicts until that time ran out met a transaction that holds its
documents and does not end: typically one that a killed process left open, which the server ends
only after `transactionLifetimeLimitSeconds`. That is `StoreBusy`, an answer the services give
their callers (CONFLICT: retry shortly); any other failure is raised as it is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import pymongo
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import OperationFailure, PyMongoError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from marketing_contacts.services.ports.changes import StoreBusy
from marketing_contacts.storage.database import Mongo

T = TypeVar("T")
WRITE_CONFLICT = 112


def is_write_conflict(error: PyMongoError) -> bool:
    return isinstance(error, OperationFailure) and error.code == WRITE_CONFLICT


async def transact(
    mongo: Mongo,
    work: Callable[[AsyncClientSession], Awaitable[T]],
    *,
    snapshot: bool = False,
) -> T:
    """`work(session)` in one transaction (majority writes; snapshot reads if asked), retried by
    the driver's rules for at most the database timeout; StoreBusy when write conflicts used it
    up. `work` may run more than once: it must decide nothing outside the database."""
    conflicted = False

    async def attempt(session: AsyncClientSession) -> T:
        nonlocal conflicted
        try:
            return await work(session)
        except PyMongoError as error:
            conflicted = conflicted or is_write_conflict(error)
            raise

    async with mongo.client.start_session() as session:
        try:
            with pymongo.timeout(mongo.timeout):
                return await session.with_transaction(
                    attempt,
                    read_concern=ReadConcern("snapshot" if snapshot else "local"),
                    write_concern=WriteConcern("majority"),
                )
        except PyMongoError as error:
            if conflicted and error.timeout:
                raise StoreBusy("another transaction holds these documents") from error
            raise

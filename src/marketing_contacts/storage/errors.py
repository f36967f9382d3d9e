"""What the driver's exceptions mean to a client."""

from __future__ import annotations

from pymongo.errors import ConnectionFailure, PyMongoError


def database_unavailable(error: BaseException) -> bool:
    """The database did not answer: unreachable, or past the time an operation may take."""
    return isinstance(error, ConnectionFailure) or (
        isinstance(error, PyMongoError) and error.timeout
    )

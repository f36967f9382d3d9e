"""The database handle and the indexes every query needs, created at start."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

Doc = dict[str, Any]

ACCOUNTS = "accounts"
CONTACTS = "contacts"
STATUS_HISTORY = "status_history"
TIER_CHANGES = "tier_changes"
ALERTS = "alerts"
TOKENS = "tokens"
USERS = "users"
TEAMS = "teams"
UPDATE_DATES = "update_dates"
LISTS = "lists"
BULK_OPERATIONS = "bulk_operations"
IDEMPOTENCY_KEYS = "idempotency_keys"
BULK_PAGES = "bulk_pages"
AUDIT_LOG = "audit_log"
COMPANIES = "companies"
EMAIL_EVENTS = "email_events"
DEALS = "deals"
ENGAGEMENTS = "engagements"
FORMS = "forms"
FORM_SUBMISSIONS = "form_submissions"
CHATFLOWS = "chatflows"
INTEGRATIONS = "integrations"
IMPORTS = "imports"
IMPORT_ERRORS = "import_errors"
IMPORT_FILES = "import_files"
EXPORTS = "exports"
EXPORT_CHUNKS = "export_chunks"

#: how long one operation (and one transaction with its retries) may take when the client sets
#: no timeoutMS of its own
DEFAULT_TIMEOUT_SECONDS = 10.0


class Mongo:
    """One client per event loop (design.md); the collections the adapters use."""

    def __init__(self, client: AsyncMongoClient[Doc], database: str) -> None:
        self.client = client
        self.db: AsyncDatabase[Doc] = client[database]

    @property
    def timeout(self) -> float:
        """The client's timeoutMS in seconds: what bounds a transaction and its retries."""
        configured: float | None = self.client.options.timeout
        return DEFAULT_TIMEOUT_SECONDS if configured is None else configured

    def __getitem__(self, name: str) -> AsyncCollection[Doc]:
        return self.db[name]


def connect(uri: str, database: str, **options: Any) -> Mongo:
    client: AsyncMongoClient[Doc] = AsyncMongoClient(uri, tz_aware=True, **options)
    return Mongo(client, database)


async def ensure_indexes(mongo: Mongo, indexes: Mapping[str, Sequence[IndexModel]]) -> None:
    for collection, models in indexes.items():
        if models:
            await mongo[collection].create_indexes(list(models))


DUPLICATE_KEY = 11000


def is_duplicate_key(error: PyMongoError, key: str) -> bool:
    """The write failed on a unique index holding `key`, not on another one (a transaction
    writes to several collections: an audit entry's id is never a taken address)."""
    details = getattr(error, "details", None) or {}
    return any(
        e.get("code") == DUPLICATE_KEY and key in str(e.get("keyPattern", e))
        for e in details.get("writeErrors", [details])
    )

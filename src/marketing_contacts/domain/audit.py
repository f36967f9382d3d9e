"""Audit (P4): every write records who (user and token), what (the action and the ids it
wrote), when, and the request it came with.

An entry is written in the same transaction as the write it records, so there is never a write
without its entry nor an entry of a write that did not happen. Background writes (bulk pages,
list deletions) name the user who started them and no token or request; the update dates, which
no user starts, name nobody.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

#: a request id a client sends (X-Request-Id) is kept when it looks like one
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@dataclass(frozen=True)
class Actor:
    """Who writes: the user and the token of a request, or the user who started a job."""

    user_id: str | None
    token_id: str | None = None
    request_id: str | None = None


#: writes no user starts (the update dates, the reconciliation)
SYSTEM = Actor(user_id=None)


@dataclass(frozen=True)
class AuditEntry:
    id: str
    account_id: str
    at: datetime
    #: the mutation or background job that wrote, e.g. setMarketingStatus, bulkOperation
    action: str
    #: the ids of the records written, in the order they were named
    record_ids: tuple[str, ...]
    actor: Actor


def audit_entry(
    entry_id: str,
    account_id: str,
    at: datetime,
    action: str,
    record_ids: Iterable[str],
    actor: Actor,
) -> AuditEntry:
    """An entry naming each written record once."""
    return AuditEntry(entry_id, account_id, at, action, tuple(dict.fromkeys(record_ids)), actor)


def kept_request_id(sent: str | None) -> str | None:
    """The client's request id if it is one to keep (short, plain characters), else None (the
    service makes its own)."""
    return sent if sent is not None and REQUEST_ID.fullmatch(sent) else None

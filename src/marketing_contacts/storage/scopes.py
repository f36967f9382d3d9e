"""What a caller's scope sees of a collection (P3), as a query: the account's documents, and
only its owners' when the scope names owners."""

from __future__ import annotations

from marketing_contacts.domain.visibility import Scope
from marketing_contacts.storage.database import Doc
from marketing_contacts.storage.ids import oid


def scoped(scope: Scope, owner_field: str = "owner_id") -> Doc:
    """The documents the scope sees: the account's, of its owners when it names some (held
    in `owner_field`)."""
    query: Doc = {"account_id": oid(scope.account_id)}
    if scope.owners is not None:
        query[owner_field] = {"$in": sorted(scope.owners)}
    return query

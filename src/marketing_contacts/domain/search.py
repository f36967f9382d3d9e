"""Search by prefix (C11): the keys a record is found by, and the prefix a client searches.

A record keeps the lower-cased words it is found by (a contact's email, first and last name; a
company's name and domain) as data written with the record itself, so a search reads an index of
them and finds a record the moment its write commits: there is no search index to catch up.
"""

from __future__ import annotations

from marketing_contacts.domain.errors import check_length, check_no_controls

#: a search is a prefix typed in a search box: longer is no name or address
MAX_SEARCH_LENGTH = 200


def search_key(text: str | None) -> str | None:
    """The key a value is found by: trimmed and lower-cased (None when blank)."""
    if text is None or not text.strip():
        return None
    return text.strip().lower()


def search_keys(*texts: str | None) -> frozenset[str]:
    """The keys of a record's searchable values (blank ones have none)."""
    return frozenset(key for key in map(search_key, texts) if key is not None)


def search_prefix(raw: str | None, *field: str) -> str | None:
    """The prefix a client's search looks for (None, every record, when blank); INVALID under
    `field` past MAX_SEARCH_LENGTH characters or with a control character."""
    check_length(raw, MAX_SEARCH_LENGTH, *field)
    check_no_controls(raw, *field)
    return search_key(raw)


def found_by(keys: frozenset[str], prefix: str) -> bool:
    """C11: one of the record's keys starts with the prefix."""
    return any(key.startswith(prefix) for key in keys)

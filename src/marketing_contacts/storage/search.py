"""A search prefix (C11) as index bounds on a field of lower-cased keys.

The keys a record is found by are stored as an array (`search_keys`) with an index on
(account_id, search_keys, _id). A prefix is the range of keys from the prefix up to the first
string after every string it starts: `$elemMatch` makes both bounds hold for one key (on an
array, two bare bounds may each hold for a different key), and MongoDB reads the index between
them. No `$text`, no regular expression.
"""

from __future__ import annotations

from marketing_contacts.storage.database import Doc

#: the highest code point; a key made of it alone has no string after it that it starts
_LAST = 0x10FFFF
#: UTF-16 surrogates are no characters: BSON strings cannot hold them
_SURROGATES = range(0xD800, 0xE000)


def prefix_range(prefix: str) -> Doc:
    """The condition on a key array that one key starts with `prefix` (a non-empty string)."""
    end = prefix_end(prefix)
    bounds: Doc = {"$gte": prefix} if end is None else {"$gte": prefix, "$lt": end}
    return {"$elemMatch": bounds}


def prefix_end(prefix: str) -> str | None:
    """The first string after every string that starts with `prefix`, in the order MongoDB
    compares strings (UTF-8 bytes, which is code point order); None when no string is (the
    prefix is made of the last code point)."""
    stem = prefix.rstrip(chr(_LAST))
    if not stem:
        return None
    following = ord(stem[-1]) + 1
    if following in _SURROGATES:
        following = _SURROGATES.stop
    return stem[:-1] + chr(following)

"""Which declared index serves a query shape, by MongoDB's equality-sort-range rule.

An index serves a shape when it starts with every field the shape asks to be equal (a value or
`$in`, in any order), then holds the sort's fields in the sort's order (all in the index's
direction, or all reversed; a sort field that is an equality needs no place), then the range
fields. The scan then reads the keys of the matching documents only, already in order. A field
of the query left out of the index is a residual filter: a document read and dropped, which is
allowed only where the index already bounds the read to a few documents (every field of a
unique index equal: a lookup by `_id`), or where the residual is declared to follow an indexed
condition (a contact's `created_at` follows its `_id`, which carries its creation time; a
combination of filters reads what one of them selects).

This is how the guard judges by rule what a real MongoDB would plan: SecantusDB's own explain is
not a reliable witness of it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import IndexModel

from tests.support.query_shapes import Condition, Shape, Sort

Keys = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Index:
    collection: str
    keys: Keys
    unique: bool = False
    #: the fields a sparse or partial index holds only where they are present
    present_only: frozenset[str] = frozenset()
    #: kept for what it enforces (uniqueness, expiry) even where no query reads it
    constraint: bool = False

    def describe(self) -> str:
        keys = ", ".join(f"{name}: {direction}" for name, direction in self.keys)
        return f"{self.collection} {{{keys}}}"


def _id_index(collection: str) -> Index:
    return Index(collection, (("_id", 1),), unique=True)


def declared_indexes(
    declared: Mapping[str, Sequence[IndexModel]], collections: Collection[str] = ()
) -> list[Index]:
    """The indexes of each collection: its `_id` index and the declared ones."""
    found = [_id_index(name) for name in sorted({*declared, *collections})]
    for collection, models in declared.items():
        found.extend(_index(collection, model.document) for model in models)
    return found


def _index(collection: str, document: Mapping[str, Any]) -> Index:
    keys = tuple((name, int(direction)) for name, direction in document["key"].items())
    partial = document.get("partialFilterExpression", {})
    present_only = set(partial)
    if document.get("sparse"):
        present_only.update(name for name, _ in keys)
    unique = bool(document.get("unique"))
    return Index(
        collection,
        keys,
        unique=unique,
        present_only=frozenset(present_only),
        constraint=unique or "expireAfterSeconds" in document,
    )


@dataclass(frozen=True)
class Residual:
    """A field the documents read may be filtered on after the index, when a condition on one
    of the `bound_by` fields already bounds the scan."""

    collection: str
    field: str
    bound_by: frozenset[str]
    reason: str


#: how well a lookup of a few documents by a unique index fits: better than any scan
_LOOKUP = 1_000


def fit(
    index: Index,
    conditions: Mapping[str, Condition],
    sort: Sort,
    residuals: Collection[Residual] = (),
) -> int | None:
    """How many of its keys bound the scan when `index` serves one branch of a query (its
    conditions and the sort), or None when it does not serve it."""
    if not conditions.keys() >= index.present_only or any(
        conditions[name] in (Condition.NULL, Condition.OTHER) for name in index.present_only
    ):
        return None
    keys = list(index.keys)
    equal = {name for name, condition in conditions.items() if condition.is_equality}
    position = 0
    while position < len(keys) and keys[position][0] in equal:
        position += 1
    prefix = {name for name, _ in keys[:position]}
    if position == len(keys) and index.unique:
        return _LOOKUP  # a lookup of a few documents: any other condition is filtered on them
    ordered = [(name, direction) for name, direction in sort if name not in prefix]
    if not _in_order(ordered, keys[position : position + len(ordered)]):
        return None
    position += len(ordered)
    ranged = {name for name, c in conditions.items() if c is Condition.RANGE}
    while position < len(keys) and keys[position][0] in ranged:
        position += 1
    in_index = {name for name, _ in keys[:position]}
    if not in_index:
        return None  # nothing bounds the scan: it reads the whole collection
    bounded = in_index & conditions.keys()
    allowed = {
        r.field
        for r in residuals
        if r.collection == index.collection and (r.bound_by - {r.field}) & bounded
    }
    return len(in_index) if conditions.keys() - in_index <= allowed else None


def _in_order(sort: Sequence[tuple[str, int]], keys: Sequence[tuple[str, int]]) -> bool:
    if [name for name, _ in sort] != [name for name, _ in keys]:
        return False
    same = [a == b for (_, a), (_, b) in zip(sort, keys, strict=True)]
    return all(same) or not any(same)


def serving_indexes(
    shape: Shape, indexes: Sequence[Index], residuals: Collection[Residual] = ()
) -> list[Index | None]:
    """The index serving each way the shape matches (one per $or clause; the tightest one), or
    None for a way that meets none. The shape is served when every way is."""
    candidates = [index for index in indexes if index.collection == shape.collection]
    chosen: list[Index | None] = []
    for branch in shape.branches():
        fits = [(fit(i, branch, shape.sort, residuals), i) for i in candidates]
        found = [(score, -len(i.keys), i) for score, i in fits if score is not None]
        chosen.append(max(found, key=lambda f: f[:2])[2] if found else None)
    return chosen

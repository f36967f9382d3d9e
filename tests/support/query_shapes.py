"""The shapes of the queries the service sends: what the index guard checks (tests/guard).

A shape is what decides which index can serve a query: the command, the collection, each
filtered field with the kind of condition on it (equality, `$in`, range, or anything else), the
clauses of a top-level `$or`, and the sort. Values are left out, so every page of contacts by
state is one shape whatever the states.

`ShapeRecorder` is a pymongo command listener. It records only the commands the service's own code
sends (a frame of the `marketing_contacts` package is on the stack: test code reading the database
directly is left out), each new shape once per process, one JSON line per shape, in a file of its
own process under the directory `QUERY_SHAPES_DIR` names. The test session registers one in its own
process and makes the processes it starts register theirs (tests/support/shape_site).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Any

from pymongo import monitoring

#: the environment variable naming the directory the recorders write to
SHAPES_DIR_VARIABLE = "QUERY_SHAPES_DIR"

_PACKAGE = f"{os.sep}marketing_contacts{os.sep}"
_STORAGE = f"{_PACKAGE}storage{os.sep}"


class Condition(StrEnum):
    """What a filter asks of one field, as far as an index's bounds are concerned."""

    EQUAL = "eq"  # a value (not null) or $eq
    NULL = "null"  # equal to null: also matches a missing field (no sparse index serves it)
    IN = "in"  # $in: equality on each of a few values
    RANGE = "range"  # $gt, $gte, $lt, $lte
    OTHER = "other"  # $ne, $nin, $exists, $type, $regex...: no bounds, a residual filter

    @property
    def is_equality(self) -> bool:
        return self in (Condition.EQUAL, Condition.NULL, Condition.IN)


_RANGES = frozenset({"$gt", "$gte", "$lt", "$lte"})
_STRENGTH = [Condition.EQUAL, Condition.NULL, Condition.IN, Condition.RANGE, Condition.OTHER]

Fields = tuple[tuple[str, Condition], ...]
Sort = tuple[tuple[str, int], ...]


@dataclass(frozen=True, order=True)
class Shape:
    command: str
    collection: str
    fields: Fields = ()
    #: the distinct clauses of a top-level $or (sorted), each with its own fields (the others
    #: hold in each): one clause per contact of a page is one clause
    any_of: tuple[Fields, ...] = ()
    sort: Sort = ()

    def branches(self) -> list[dict[str, Condition]]:
        """The conditions of each way to match: one, or one per $or clause."""
        common = dict(self.fields)
        if not self.any_of:
            return [common]
        return [_merged(common, dict(clause)) for clause in self.any_of]

    def describe(self) -> str:
        def fields(items: Fields) -> str:
            return ", ".join(f"{name} {condition.value}" for name, condition in items)

        parts = [f"{self.command} {self.collection} {{{fields(self.fields)}}}"]
        if self.any_of:
            parts.append("$or [" + " | ".join(f"{{{fields(c)}}}" for c in self.any_of) + "]")
        if self.sort:
            parts.append("sort {" + ", ".join(f"{k}: {d}" for k, d in self.sort) + "}")
        return " ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "collection": self.collection,
            "fields": [list(item) for item in self.fields],
            "any_of": [[list(item) for item in clause] for clause in self.any_of],
            "sort": [list(item) for item in self.sort],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Shape:
        def fields(items: Iterable[Sequence[str]]) -> Fields:
            return tuple((name, Condition(condition)) for name, condition in items)

        return cls(
            command=data["command"],
            collection=data["collection"],
            fields=fields(data["fields"]),
            any_of=tuple(fields(clause) for clause in data["any_of"]),
            sort=tuple((name, int(direction)) for name, direction in data["sort"]),
        )


def _merged(into: dict[str, Condition], more: Mapping[str, Condition]) -> dict[str, Condition]:
    merged = dict(into)
    for name, condition in more.items():
        merged[name] = _strongest(merged.get(name), condition)
    return merged


def _strongest(a: Condition | None, b: Condition) -> Condition:
    return b if a is None else min(a, b, key=_STRENGTH.index)


def condition_of(value: Any) -> Condition:
    if not isinstance(value, Mapping) or not any(str(key).startswith("$") for key in value):
        return Condition.NULL if value is None else Condition.EQUAL
    found = []
    for operator, operand in value.items():
        if operator == "$eq":
            found.append(Condition.NULL if operand is None else Condition.EQUAL)
        elif operator == "$in":
            found.append(Condition.IN)
        elif operator in _RANGES:
            found.append(Condition.RANGE)
        elif operator == "$elemMatch" and _only_ranges(operand):
            found.append(Condition.RANGE)  # bounds that one array member meets: a range
        else:
            found.append(Condition.OTHER)
    return min(found, key=_STRENGTH.index)


def _only_ranges(operand: Any) -> bool:
    return isinstance(operand, Mapping) and bool(operand) and operand.keys() <= _RANGES


def _sorted(conditions: Mapping[str, Condition]) -> Fields:
    return tuple(sorted(conditions.items()))


def filter_shape(query: Mapping[str, Any] | None) -> tuple[Fields, tuple[Fields, ...]]:
    """The fields of a filter and the clauses of its top-level $or ($and is flattened)."""
    conditions: dict[str, Condition] = {}
    any_of: list[Fields] = []
    for name, value in (query or {}).items():
        if name == "$and":
            for part in value:
                fields, clauses = filter_shape(part)
                conditions = _merged(conditions, dict(fields))
                any_of.extend(clauses)
        elif name == "$or" and not any_of:
            for clause in value:
                fields, nested = filter_shape(clause)
                any_of.append(fields if not nested else (*fields, ("$or", Condition.OTHER)))
        elif name.startswith("$"):  # $expr, $nor, a second $or...: nothing an index bounds
            conditions = _merged(conditions, {name: Condition.OTHER})
        else:
            conditions = _merged(conditions, {name: condition_of(value)})
    return _sorted(conditions), tuple(sorted(set(any_of)))


def _sort_of(spec: Mapping[str, Any] | None) -> Sort:
    return tuple((name, int(direction)) for name, direction in (spec or {}).items())


def shape(command: str, collection: str, query: Mapping[str, Any] | None, sort: Sort = ()) -> Shape:
    fields, any_of = filter_shape(query)
    return Shape(command, collection, fields, any_of, sort)


def shapes_of(name: str, command: Mapping[str, Any]) -> list[Shape]:
    """The query shapes of one database command; none for commands that query nothing."""
    collection = command.get(name)
    if not isinstance(collection, str):
        return []
    if name in ("find", "count", "distinct"):
        query = command.get("filter") if name == "find" else command.get("query")
        return [shape(name, collection, query, _sort_of(command.get("sort")))]
    if name == "findAndModify":
        return [shape(name, collection, command.get("query"), _sort_of(command.get("sort")))]
    if name == "update":
        return [shape(name, collection, u.get("q")) for u in command.get("updates", [])]
    if name == "delete":
        return [shape(name, collection, d.get("q")) for d in command.get("deletes", [])]
    if name == "aggregate":
        return [_aggregate_shape(collection, command.get("pipeline", []))]
    return []


def _aggregate_shape(collection: str, pipeline: Sequence[Mapping[str, Any]]) -> Shape:
    """An aggregation reads what its leading $match selects, in the order of a $sort after it."""
    stages = list(pipeline)
    query: Mapping[str, Any] = {}
    if stages and "$match" in stages[0]:
        query = stages.pop(0)["$match"]
    sort = _sort_of(stages[0]["$sort"]) if stages and "$sort" in stages[0] else ()
    return shape("aggregate", collection, query, sort)


@dataclass(frozen=True)
class Recorded:
    shape: Shape
    #: the service code that sent it: module and function, e.g. storage.contacts:...page
    where: str

    def to_line(self) -> str:
        return json.dumps({"where": self.where, **self.shape.to_json()}, sort_keys=True)

    @classmethod
    def from_line(cls, line: str) -> Recorded:
        data = json.loads(line)
        return cls(Shape.from_json(data), data["where"])


def _service_frame(frame: FrameType | None) -> str | None:
    """The service code on the stack: the outermost storage frame (the port a service called),
    else the innermost frame of the package; None when no code of the service is on it."""
    found: str | None = None
    storage: str | None = None
    while frame is not None:
        path = frame.f_code.co_filename
        if _PACKAGE in path:
            module = path.rsplit(_PACKAGE, 1)[1].removesuffix(".py").replace(os.sep, ".")
            where = f"{module}:{frame.f_code.co_qualname}"
            found = found or where
            if _STORAGE in path:
                storage = where
        frame = frame.f_back
    return storage or found


class ShapeRecorder(monitoring.CommandListener):
    """Writes each new (shape, where) of this process as one line of `<dir>/<pid>.jsonl`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._seen: set[Recorded] = set()
        self._lock = threading.Lock()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        shapes = shapes_of(event.command_name, event.command)
        if not shapes:
            return
        where = _service_frame(sys._getframe(1))
        if where is None:
            return
        new = [Recorded(s, where) for s in dict.fromkeys(shapes)]
        with self._lock:
            new = [r for r in new if r not in self._seen]
            self._seen.update(new)
        if new:
            self._write(new)

    def _write(self, records: list[Recorded]) -> None:
        # one write per line to a file opened for appending: a process killed at any moment
        # leaves whole lines behind
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{os.getpid()}.jsonl"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            for record in records:
                os.write(descriptor, (record.to_line() + "\n").encode())
        finally:
            os.close(descriptor)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def register_from_environment() -> ShapeRecorder | None:
    """Register a recorder for every client this process makes, when QUERY_SHAPES_DIR is set."""
    directory = os.environ.get(SHAPES_DIR_VARIABLE)
    if not directory:
        return None
    recorder = ShapeRecorder(Path(directory))
    monitoring.register(recorder)
    return recorder


def read_recorded(directory: Path) -> Iterator[Recorded]:
    """Every line the recorders wrote (each line is one write of a few hundred bytes to a file
    opened for appending: a killed process leaves no partial line)."""
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            yield Recorded.from_line(line)

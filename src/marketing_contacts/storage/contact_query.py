"""A filter or a selection as a MongoDB query on the contacts collection.

The domain writes what a filter asks as conditions on a contact's fields (domain.conditions);
this module only translates them, field by field, into the names and values the contacts are
stored with (storage.codec), so the database selects what `ContactFilter.matches` selects.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import Enum

from marketing_contacts.domain.bulk import Selection
from marketing_contacts.domain.conditions import (
    AnyOf,
    Comparison,
    Condition,
    ContactField,
    Contains,
    Earlier,
    Equals,
    Later,
    OneOf,
    Present,
    StartsWith,
)
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.storage.database import Doc
from marketing_contacts.storage.ids import first_id_after, first_id_at, oid
from marketing_contacts.storage.search import prefix_range

#: where each compared field is stored (the others under their own name)
_STORED_AS = {ContactField.ID: "_id"}


def filter_doc(scope: Scope, where: ContactFilter) -> Doc:
    """The MongoDB filter selecting what `where.matches` selects, of the contacts in scope."""
    return conditions_doc(scope, where.conditions())


def selection_query(scope: Scope, selection: Selection, created_until: datetime | None) -> Doc:
    return conditions_doc(scope, selection.conditions(created_until))


def scope_doc(scope: Scope) -> Doc:
    """The contacts the scope sees (P3), with no other condition."""
    return conditions_doc(scope, ())


def conditions_doc(scope: Scope, conditions: Sequence[Condition]) -> Doc:
    """The contacts in scope (the account's, and only the owners' when it names owners) that
    meet every condition."""
    query: Doc = {"account_id": oid(scope.account_id)}
    both: list[Doc] = []
    conditions = [*scope.conditions(), *conditions]
    for condition in conditions:
        if isinstance(condition, AnyOf):
            both.append({"$or": [_comparison_doc(one) for one in condition.conditions]})
            continue
        name, operator = _stored(condition)
        held = query.setdefault(name, {})
        if held.keys() & operator.keys():  # two conditions with one operator on a field
            both.append({name: operator})
        else:
            held.update(operator)
    for condition in conditions:
        if isinstance(condition, Later | Earlier) and condition.field is ContactField.CREATED_AT:
            _bound_ids(query.setdefault("_id", {}), condition)
    if both:
        query["$and"] = both
    return {name: _plain(value) for name, value in query.items()}


def expression(conditions: Sequence[Condition]) -> Doc:
    """An aggregation expression, true for a contact that meets every condition (for a
    `$cond` of a `$group`: H1's audience counts its reasons in one aggregation)."""
    return {"$and": [_expression(condition) for condition in conditions]}


def _expression(condition: Condition) -> Doc:
    if isinstance(condition, AnyOf):
        return {"$or": [_expression(one) for one in condition.conditions]}
    field = condition.field
    # a field a document lacks reads as null, as in a query
    stored = {"$ifNull": [f"${_STORED_AS.get(field, field.value)}", None]}
    if isinstance(condition, Equals):
        return {"$eq": [stored, _value(field, condition.value)]}
    if isinstance(condition, OneOf):
        values = (_value(field, value) for value in condition.values)
        return {"$in": [stored, sorted(value for value in values if value is not None)]}
    if isinstance(condition, Present):
        return {"$ne" if condition.present else "$eq": [stored, None]}
    raise ValueError(f"no aggregation expression for {type(condition).__name__}")


def _bound_ids(bounds: Doc, created: Later | Earlier) -> None:
    """A contact's id carries the second it was created at (ContactService.create makes it from
    the clock), so a range of creation instants is a range of ids: it is read from an
    (account_id, ..., _id) index, and `created_at` decides only within its edge seconds."""
    if isinstance(created, Later):
        bound = first_id_at(created.than)
        bounds["$gte"] = max(bounds.get("$gte", bound), bound)
    else:  # before or by `than`: no id made after its second
        bound = first_id_after(created.than)
        bounds["$lt"] = min(bounds.get("$lt", bound), bound)


def _comparison_doc(condition: Comparison) -> Doc:
    name, operator = _stored(condition)
    return {name: _plain(operator)}


def _stored(condition: Comparison) -> tuple[str, Doc]:
    """The stored field a comparison reads, and its operator on the stored values."""
    field = condition.field
    name = _STORED_AS.get(field, field.value)
    if isinstance(condition, Equals | Contains):  # on an array: one of its members
        return name, {"$eq": _value(field, condition.value)}
    if isinstance(condition, OneOf):
        values = (_value(field, value) for value in condition.values)
        return name, {"$in": sorted(value for value in values if value is not None)}
    if isinstance(condition, StartsWith):
        return name, prefix_range(condition.prefix)
    if isinstance(condition, Present):  # stored as null where the contact has no value
        return name, {"$ne" if condition.present else "$eq": None}
    if isinstance(condition, Later):
        return name, {"$gt": condition.than}
    return name, {"$lte" if condition.inclusive else "$lt": condition.than}


def _value(field: ContactField, value: object) -> object:
    if field is ContactField.ID:
        return oid(str(value))  # an id that names no stored one selects nothing
    return value.value if isinstance(value, Enum) else value


def _plain(value: object) -> object:
    """`{"$eq": v}` written as `v`, the form the indexes are declared for."""
    if isinstance(value, dict) and value.keys() == {"$eq"}:
        return value["$eq"]
    return value

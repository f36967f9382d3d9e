"""The index guard's two halves: the shape of a database command, and the equality-sort-range
rule that decides which index serves it."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel

from tests.support.index_rule import Index, Residual, declared_indexes, fit, serving_indexes
from tests.support.query_shapes import Condition, Recorded, Shape, shapes_of

EQ, IN, RANGE, NULL, OTHER = (
    Condition.EQUAL,
    Condition.IN,
    Condition.RANGE,
    Condition.NULL,
    Condition.OTHER,
)
ACCOUNT = ObjectId()


def test_a_find_is_its_filter_fields_by_kind_of_condition_and_its_sort() -> None:
    command = {
        "find": "contacts",
        "filter": {
            "account_id": ACCOUNT,
            "state": {"$in": ["M", "P"]},
            "_id": {"$gt": ObjectId(), "$lt": ObjectId()},
            "owner_id": None,
            "email": {"$exists": True},
            "list_ids": {"$eq": "l1"},
        },
        "sort": {"_id": 1},
        "limit": 11,
    }
    assert shapes_of("find", command) == [
        Shape(
            "find",
            "contacts",
            (
                ("_id", RANGE),
                ("account_id", EQ),
                ("email", OTHER),
                ("list_ids", EQ),
                ("owner_id", NULL),
                ("state", IN),
            ),
            sort=(("_id", 1),),
        )
    ]


def test_an_aggregation_is_its_leading_match_and_the_sort_after_it() -> None:
    pipeline: list[dict[str, Any]] = [
        {"$match": {"account_id": ACCOUNT, "contact_id": {"$in": [ObjectId()]}}},
        {"$sort": {"contact_id": 1, "seq": -1}},
        {"$group": {"_id": "$contact_id"}},
        {"$match": {"later": 1}},
    ]
    [found] = shapes_of("aggregate", {"aggregate": "status_history", "pipeline": pipeline})
    assert found == Shape(
        "aggregate",
        "status_history",
        (("account_id", EQ), ("contact_id", IN)),
        sort=(("contact_id", 1), ("seq", -1)),
    )
    [unmatched] = shapes_of("aggregate", {"aggregate": "contacts", "pipeline": [{"$sort": {}}]})
    assert unmatched == Shape("aggregate", "contacts")


def test_writes_are_the_shapes_of_their_statements_and_inserts_query_nothing() -> None:
    updates = {
        "update": "contacts",
        "updates": [
            {"q": {"_id": ObjectId(), "status_seq": 1}, "u": {}},
            {"q": {"_id": ObjectId(), "status_seq": 2}, "u": {}},
        ],
    }
    same = Shape("update", "contacts", (("_id", EQ), ("status_seq", EQ)))
    assert shapes_of("update", updates) == [same, same]
    deletes = {"delete": "lists", "deletes": [{"q": {"_id": ObjectId()}, "limit": 1}]}
    assert shapes_of("delete", deletes) == [Shape("delete", "lists", (("_id", EQ),))]
    modify = {"findAndModify": "ops", "query": {"status": "Q"}, "sort": {"_id": -1}}
    assert shapes_of("findAndModify", modify) == [
        Shape("findAndModify", "ops", (("status", EQ),), sort=(("_id", -1),))
    ]
    assert shapes_of("insert", {"insert": "contacts", "documents": [{}]}) == []
    assert shapes_of("commitTransaction", {"commitTransaction": 1}) == []


def test_or_clauses_are_kept_apart_and_and_is_flattened() -> None:
    query = {
        "$and": [{"account_id": ACCOUNT}, {"seq": {"$gt": 1}}],
        "$or": [{"status": "Q", "created_at": {"$lt": 1}}, {"status": "R"}],
    }
    [found] = shapes_of("find", {"find": "ops", "filter": query})
    assert found.fields == (("account_id", EQ), ("seq", RANGE))
    assert found.any_of == ((("created_at", RANGE), ("status", EQ)), (("status", EQ),))
    again = {"$or": [{"contact_id": 1, "seq": {"$gt": 1}}, {"contact_id": 2, "seq": {"$gt": 5}}]}
    [one_clause] = shapes_of("find", {"find": "status_history", "filter": again})
    assert one_clause.any_of == ((("contact_id", EQ), ("seq", RANGE)),)
    assert found.branches() == [
        {"account_id": EQ, "seq": RANGE, "status": EQ, "created_at": RANGE},
        {"account_id": EQ, "seq": RANGE, "status": EQ},
    ]


def test_a_recorded_shape_reads_back_as_it_was_written() -> None:
    shape = Shape("find", "c", (("a", EQ),), ((("b", IN),), (("c", NULL),)), (("_id", -1),))
    recorded = Recorded(shape, "storage.contacts:MongoContactStore.page")
    assert Recorded.from_line(recorded.to_line()) == recorded


PAGES = Index("contacts", (("account_id", 1), ("state", 1), ("_id", 1)))
BY_ID = Index("contacts", (("_id", 1),), unique=True)


@pytest.mark.parametrize(
    ("conditions", "sort", "served"),
    [
        # equality, then the sort: a page of a filter, read in order
        ({"account_id": EQ, "state": EQ}, (("_id", 1),), True),
        ({"account_id": EQ, "state": IN}, (("_id", 1),), True),
        # the sort's field may also bound the read (the cursor of the next page)
        ({"account_id": EQ, "state": IN, "_id": RANGE}, (("_id", 1),), True),
        # the whole sort reversed is the index read backwards
        ({"account_id": EQ, "state": EQ}, (("_id", -1),), True),
        # a sort on an equality field is already in order
        ({"account_id": EQ, "state": EQ}, (("state", 1), ("_id", 1)), True),
        # a prefix of the index, with nothing after it
        ({"account_id": EQ}, (), True),
        # an equality left out of the index: every document of the prefix read and dropped
        ({"account_id": EQ, "state": EQ, "owner_id": EQ}, (("_id", 1),), False),
        # the index skips a field the query does not name: no order on _id for the account
        ({"account_id": EQ}, (("_id", 1),), False),
        # a range before the sort: the range read whole, then sorted
        ({"account_id": EQ, "state": RANGE}, (("_id", 1),), False),
        # nothing of the index bounds the read
        ({"owner_id": EQ}, (), False),
    ],
)
def test_equality_then_sort_then_range(
    conditions: dict[str, Condition], sort: tuple[tuple[str, int], ...], served: bool
) -> None:
    assert (fit(PAGES, conditions, sort) is not None) is served


def test_a_mixed_sort_needs_an_index_in_those_directions() -> None:
    newest = Index("h", (("contact_id", 1), ("seq", -1)))
    assert fit(newest, {}, (("contact_id", 1), ("seq", -1))) is not None
    assert fit(newest, {}, (("contact_id", -1), ("seq", 1))) is not None
    assert fit(newest, {}, (("contact_id", 1), ("seq", 1))) is None


def test_a_range_after_the_equalities_bounds_the_read() -> None:
    pending = Index("contacts", (("account_id", 1), ("state", 1), ("pending_since", 1)))
    conditions = {"account_id": EQ, "state": EQ, "pending_since": RANGE}
    assert fit(pending, conditions, ()) == 3


def test_a_lookup_on_a_unique_index_may_filter_on_anything_else() -> None:
    conditions = {"_id": EQ, "account_id": EQ, "status_seq": EQ}
    assert fit(BY_ID, conditions, ()) is not None
    assert fit(BY_ID, {"_id": IN, "account_id": EQ}, ()) is not None
    assert fit(BY_ID, {"_id": RANGE, "account_id": EQ}, ()) is None


def test_a_sparse_or_partial_index_serves_only_queries_that_name_its_field() -> None:
    awaiting = Index("alerts", (("awaiting", 1),), present_only=frozenset({"awaiting"}))
    assert fit(awaiting, {"awaiting": RANGE}, (("awaiting", 1),)) is not None
    assert fit(awaiting, {"awaiting": NULL}, ()) is None
    assert fit(awaiting, {}, (("awaiting", 1),)) is None


def test_a_residual_is_allowed_where_it_is_declared_to_follow_a_bounded_field() -> None:
    by_account = Index("contacts", (("account_id", 1), ("_id", 1)))
    created = Residual("contacts", "created_at", frozenset({"_id"}), "ids carry their time")
    bounded = {"account_id": EQ, "_id": RANGE, "created_at": RANGE}
    assert fit(by_account, bounded, (("_id", 1),), [created]) is not None
    assert fit(by_account, bounded, (("_id", 1),)) is None
    # sorted by _id but not bounded by it: the residual would read the account from its start
    unbounded = {"account_id": EQ, "created_at": RANGE}
    assert fit(by_account, unbounded, (("_id", 1),), [created]) is None


def test_every_clause_of_an_or_needs_an_index() -> None:
    by_status = Index("ops", (("status", 1), ("lease_until", 1)))
    indexes = [Index("ops", (("_id", 1),), unique=True), by_status]
    both = Shape(
        "find", "ops", any_of=((("status", EQ),), (("status", EQ), ("lease_until", RANGE)))
    )
    assert serving_indexes(both, indexes) == [by_status, by_status]
    one = Shape("find", "ops", any_of=((("status", EQ),), (("owner", EQ),)))
    assert serving_indexes(one, indexes) == [by_status, None]


def test_the_tightest_index_is_named() -> None:
    narrow = Index("contacts", (("account_id", 1), ("_id", 1)))
    shape = Shape("find", "contacts", (("account_id", EQ), ("state", EQ)), sort=(("_id", 1),))
    assert serving_indexes(shape, [narrow, PAGES]) == [PAGES]


def test_declared_indexes_add_the_id_index_of_every_collection() -> None:
    declared = {
        "contacts": [
            IndexModel(
                [("account_id", ASCENDING), ("email_key", ASCENDING)],
                unique=True,
                partialFilterExpression={"email_key": {"$type": "string"}},
            )
        ],
        "alerts": [IndexModel([("awaiting", ASCENDING)], sparse=True)],
        "pages": [IndexModel([("at", DESCENDING)], expireAfterSeconds=60)],
    }
    found = declared_indexes(declared, {"accounts"})
    assert [(i.collection, i.keys) for i in found if i.keys == (("_id", 1),)] == [
        (name, (("_id", 1),)) for name in ("accounts", "alerts", "contacts", "pages")
    ]
    email, awaiting, expiring = found[4:]
    assert email.unique and email.constraint and email.present_only == {"email_key"}
    assert awaiting.present_only == {"awaiting"} and not awaiting.constraint
    assert expiring.keys == (("at", -1),) and expiring.constraint

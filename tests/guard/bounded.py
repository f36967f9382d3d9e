"""What the index guard allows without an index of its own, and why (tests/guard).

BOUNDED: query shapes (as `Shape.describe` writes them) that no index serves by the rule, each
with what keeps its read small. RESIDUALS: fields a query may check on the documents its index
reads, when a condition on another field already bounds that read.
"""

from __future__ import annotations

from tests.support.index_rule import Residual

BOUNDED: dict[str, str] = {
    "find bulk_operations {} "
    "$or [{created_at range, status eq} | {lease_until range, status eq}]": (
        "the sweeper, every few minutes across accounts: its RUNNING clause is served by "
        "(status, lease_until); its QUEUED clause reads the QUEUED operations from that index "
        "(the queue's backlog, claimed within seconds) and checks created_at on them"
    ),
    "find accounts {}": (
        "the daily reconciliation reads every account's id once per run: a walk of the accounts "
        "by design (one small document each), not a read a request makes"
    ),
}

#: the filters of the contact list that have an index of their own, (account_id, field, _id)
#: or (account_id, unengaged, state, _id)
CONTACT_FILTERS = frozenset(
    {
        "state",
        "email_domain",
        "lifecycle_stage",
        "owner_id",
        "created_via",
        "list_ids",
        "email_hard_bounced",
        "unsubscribed_from_all",
        "unengaged",
    }
)

RESIDUALS: list[Residual] = [
    Residual(
        "audit_log",
        "user_id",
        frozenset({"record_ids"}),
        "P3: the entries of one record are few (the writes of that record); an admin limited "
        "to OWNED or TEAM has the writer checked on them",
    ),
    Residual(
        "contacts",
        "created_at",
        frozenset({"_id"}),
        "a contact's id carries the second it was created at (ContactService.create): "
        "createdAfter/createdBefore and a bulk change's creation bound the _id range read; "
        "created_at decides only within its edge seconds",
    ),
    Residual(
        "alerts",
        "at",
        frozenset({"_id"}),
        "an alert's id is made as it is stored, after its `at`: the _id range from the second "
        "of `since` bounds the read; `at` decides within it",
    ),
    *(
        Residual(
            "contacts",
            name,
            CONTACT_FILTERS,
            "a combination of filters reads the contacts of one of them, by its own index, "
            "and checks the others on those: never more than that one filter alone reads",
        )
        for name in sorted(CONTACT_FILTERS)
    ),
]

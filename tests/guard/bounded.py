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
    # C11: a prefix is a range of keys, which comes before the id order in the index: the
    # scan reads the keys the prefix matches, and the page is sorted from them in memory
    "find contacts {account_id eq, search_keys range} sort {_id: 1}": (
        "a search reads the contacts its prefix matches from (account_id, search_keys, _id) and "
        "keeps the first page of them in id order: as many as match (a name or address "
        "prefix typed in a search box), not the account's contacts"
    ),
    "find companies {account_id eq, search_keys range} sort {_id: 1}": (
        "as a contact search: the companies a name or domain prefix matches, from "
        "(account_id, search_keys, _id), the page kept in id order"
    ),
    "find companies {_id range, account_id eq, search_keys range} sort {_id: 1}": (
        "the next page of a company search: the prefix's matches past the cursor"
    ),
    # H2: an email channel's reachable contacts of a selection with no condition of its own
    "find contacts {account_id eq, email_domain other} sort {_id: 1}": (
        "the first page of an email channel's audience of every contact: the account's contacts "
        "in id order from (account_id, _id), those without an address skipped; the page stops "
        "at its first+1 contacts with an address (most contacts have one), never reading more "
        "than the selection's own count reads"
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
        "company_ids",
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
        "contacts",
        "email_domain",
        frozenset({"_id"}),
        "H2: a channel's conditions are checked on the contacts the selection's index reads: "
        "the next page of an email channel's audience of every contact reads past the cursor "
        "in id order and skips the contacts without an address",
    ),
    Residual(
        "contacts",
        "search_keys",
        CONTACT_FILTERS,
        "C11: a search with a filter reads the contacts of the filter by its index and checks "
        "the prefix on their keys: never more than that filter alone reads",
    ),
    Residual(
        "contacts",
        "primary_company_id",
        frozenset({"company_ids"}),
        "C2: deleting a company clears the primary of its contacts, which its index reads",
    ),
    *(
        Residual(
            "companies",
            name,
            frozenset({"owner_id", "domain", "search_keys"}),
            "a combination of company filters (and P3's owners) reads one filter's companies "
            "by its index and checks the others on those",
        )
        for name in ("owner_id", "domain", "search_keys")
    ),
    Residual(
        "deals",
        "owner_id",
        frozenset({"contact_ids", "company_ids"}),
        "P3: a record's deals are read by (account_id, contact_ids | company_ids, _id); a user "
        "limited to OWNED or TEAM has the owner checked on them: never more than the record's "
        "deals alone",
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

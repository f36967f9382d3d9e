"""Companies (C1, C2, C3): the organisations an account's contacts work for.

A company has a name, a web domain, an owner (C1) and a lifecycle stage that moves as a
contact's does (C3). A contact is associated with companies, one of them primary; the contact's
`companyName` is free text that associations neither read nor change (C2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from marketing_contacts.domain.contacts import MAX_TEXT_LENGTH, LifecycleStage
from marketing_contacts.domain.errors import (
    MAX_RECORD_NAME_LENGTH,
    ErrorCode,
    check_length,
    record_name,
    refuse,
)
from marketing_contacts.domain.search import found_by, search_keys, search_prefix

MAX_COMPANY_NAME_LENGTH = MAX_RECORD_NAME_LENGTH
#: a domain name has at most 253 characters (RFC 1035)
MAX_DOMAIN_LENGTH = 253
#: how many companies one contact may be associated with (its document holds their ids)
MAX_COMPANIES_PER_CONTACT = 1_000

# a host name's labels: letters (any script), digits and inner hyphens, at most 63 each, and a
# top-level label that is not all digits
_LABEL = r"(?!-)[^\W_](?:[^\W_]|-){0,62}(?<!-)"
_DOMAIN = re.compile(rf"(?:{_LABEL}\.)+(?=[^.]*[^\W\d_])[^\W_](?:[^\W_]|-)*(?<!-)")


@dataclass(frozen=True)
class Company:
    id: str
    account_id: str
    name: str
    created_at: datetime
    updated_at: datetime
    #: lower case, e.g. example.com
    domain: str | None = None
    owner_id: str | None = None
    lifecycle_stage: LifecycleStage | None = None
    #: C12: moved by the engagements logged against it (domain.engagements), only by them
    last_activity_at: datetime | None = None
    last_contacted_at: datetime | None = None

    @property
    def search_keys(self) -> frozenset[str]:
        """C11: what a search finds the company by: its name and its domain."""
        return search_keys(self.name, self.domain)


def company_name(raw: str, *field: str) -> str:
    """A company's name, trimmed: 1 to MAX_COMPANY_NAME_LENGTH characters, no control
    character."""
    return record_name("company", raw, *field)


def domain_key(raw: str) -> str:
    """A domain as companies keep it and filters compare it: trimmed, lower case, without a
    trailing dot."""
    return raw.strip().lower().removesuffix(".")


def company_domain(raw: str | None, *field: str) -> str | None:
    """A web domain as a company keeps it: trimmed, lower case, without a trailing dot (None
    when blank); INVALID when it is no host name (a URL, an address, spaces)."""
    if raw is None or not raw.strip():
        return None
    domain = domain_key(raw)
    if len(domain) > MAX_DOMAIN_LENGTH or not _DOMAIN.fullmatch(domain):
        raise refuse(
            ErrorCode.INVALID,
            "a domain is a host name such as example.com (no scheme, path or address)",
            *field,
        )
    return domain


@dataclass(frozen=True)
class CompanyFilter:
    """Every field that is set must hold; an empty filter selects every company."""

    #: C11: a case-insensitive prefix of the name or the domain (blank: any)
    search: str | None = None
    domain: str | None = None
    owner_id: str | None = None
    #: C5: the companies among these ids (a deal's; no client names it)
    ids: frozenset[str] | None = None

    def check(self, *field: str) -> None:
        search_prefix(self.search, *field, "search")
        check_length(self.domain, MAX_DOMAIN_LENGTH, *field, "domain")
        check_length(self.owner_id, MAX_TEXT_LENGTH, *field, "owner_id")

    @property
    def prefix(self) -> str | None:
        return search_prefix(self.search, "search")

    @property
    def domain_key(self) -> str | None:
        """The domain compared, as companies keep theirs."""
        return None if self.domain is None else domain_key(self.domain)

    def matches(self, company: Company) -> bool:
        prefix = self.prefix
        return (
            (prefix is None or found_by(company.search_keys, prefix))
            and (self.domain is None or company.domain == self.domain_key)
            and (self.owner_id is None or company.owner_id == self.owner_id)
            and (self.ids is None or company.id in self.ids)
        )

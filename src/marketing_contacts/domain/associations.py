"""Associations between records (C2): which pairs of record types are associated, and how.

An association is undirected: contact-company is company-contact. A contact's companies are
kept with the contact, one of them primary: a company associated with a contact that has no
primary (its first one, or the next one after its primary was dissociated) becomes its primary;
another becomes primary only when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from marketing_contacts.domain.errors import ErrorCode, check_id, refuse


class RecordType(StrEnum):
    CONTACT = "CONTACT"
    COMPANY = "COMPANY"
    DEAL = "DEAL"


@dataclass(frozen=True)
class Association:
    from_type: RecordType
    from_id: str
    to_type: RecordType
    to_id: str
    #: a contact's primary company (a contact-company pair only)
    primary: bool = False


@dataclass(frozen=True)
class ContactCompany:
    """An association of a contact with a company, whichever side it was named from."""

    contact_id: str
    company_id: str
    primary: bool = False


#: the pairs of record types that are associated with each other
ASSOCIATED_TYPES = frozenset({frozenset({RecordType.CONTACT, RecordType.COMPANY})})


def contact_company(association: Association) -> ContactCompany:
    """The association as a contact-company pair; INVALID for a pair of types that is not
    associated (a contact with a contact) and for `primary` on it."""
    check_id(association.from_id, "from_id")
    check_id(association.to_id, "to_id")
    types = frozenset({association.from_type, association.to_type})
    if RecordType.DEAL in types:
        raise refuse(
            ErrorCode.INVALID,
            "deals are not served yet: contacts are associated with companies",
            "from_type" if association.from_type is RecordType.DEAL else "to_type",
        )
    if types not in ASSOCIATED_TYPES:
        raise refuse(
            ErrorCode.INVALID,
            f"a {association.from_type.value.lower()} is not associated with a "
            f"{association.to_type.value.lower()}",
            "to_type",
        )
    if association.from_type is RecordType.CONTACT:
        return ContactCompany(association.from_id, association.to_id, association.primary)
    return ContactCompany(association.to_id, association.from_id, association.primary)


def companies_in_order(company_ids: frozenset[str], primary: str | None) -> list[str]:
    """A contact's companies as it lists them: the primary first, then the others in the
    order they were created (their ids)."""
    rest = sorted(company_ids - {primary} if primary else company_ids)
    return [primary, *rest] if primary in company_ids else rest

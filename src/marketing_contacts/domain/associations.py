"""Associations between records (C2): which pairs of record types are associated, and how.

An association is undirected: contact-company is company-contact. A contact's companies are
kept with the contact, one of them primary: a company associated with a contact that has no
primary (its first one, or the next one after its primary was dissociated) becomes its primary;
another becomes primary only when asked for. A deal's contacts and companies are kept with the
deal (C5: its stage moves theirs).
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


@dataclass(frozen=True)
class RecordRef:
    """A record named by its type and id."""

    type: RecordType
    id: str


@dataclass(frozen=True)
class DealRecord:
    """An association of a deal with a contact or a company, whichever side it was named
    from."""

    deal_id: str
    record_type: RecordType
    record_id: str

    @property
    def record(self) -> RecordRef:
        return RecordRef(self.record_type, self.record_id)


#: the pairs of record types that are associated with each other
ASSOCIATED_TYPES = frozenset(
    {
        frozenset({RecordType.CONTACT, RecordType.COMPANY}),
        frozenset({RecordType.DEAL, RecordType.CONTACT}),
        frozenset({RecordType.DEAL, RecordType.COMPANY}),
    }
)


def pair_of(association: Association) -> ContactCompany | DealRecord:
    """The association as the pair its records keep; INVALID for a pair of types that is not
    associated (a contact with a contact), and for `primary` on any but a contact's company."""
    check_id(association.from_id, "from_id")
    check_id(association.to_id, "to_id")
    types = frozenset({association.from_type, association.to_type})
    if types not in ASSOCIATED_TYPES:
        raise refuse(
            ErrorCode.INVALID,
            f"a {association.from_type.value.lower()} is not associated with a "
            f"{association.to_type.value.lower()}",
            "to_type",
        )
    if RecordType.DEAL in types:
        if association.primary:
            raise refuse(ErrorCode.INVALID, "primary names a contact's company", "primary")
        if association.from_type is RecordType.DEAL:
            return DealRecord(association.from_id, association.to_type, association.to_id)
        return DealRecord(association.to_id, association.from_type, association.from_id)
    if association.from_type is RecordType.CONTACT:
        return ContactCompany(association.from_id, association.to_id, association.primary)
    return ContactCompany(association.to_id, association.from_id, association.primary)


def side_of(association: Association, record_id: str) -> str:
    """Which field of the association names the record."""
    return "from_id" if association.from_id == record_id else "to_id"


def companies_in_order(company_ids: frozenset[str], primary: str | None) -> list[str]:
    """A contact's companies as it lists them: the primary first, then the others in the
    order they were created (their ids)."""
    rest = sorted(company_ids - {primary} if primary else company_ids)
    return [primary, *rest] if primary in company_ids else rest

"""Associating records (C2, C5): a contact with a company is kept with the contact, a deal with
a contact or a company with the deal; each kind is its service's to write."""

from __future__ import annotations

from marketing_contacts.domain.associations import Association, DealRecord, pair_of
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.companies import CompanyService
from marketing_contacts.services.deals import DealService


class AssociationService:
    def __init__(self, companies: CompanyService, deals: DealService) -> None:
        self.companies = companies
        self.deals = deals

    async def associate(self, caller: Caller, association: Association) -> None:
        pair = pair_of(association)
        if isinstance(pair, DealRecord):
            await self.deals.associate(caller, association, pair)
        else:
            await self.companies.associate(caller, association, pair)

    async def dissociate(self, caller: Caller, association: Association) -> None:
        pair = pair_of(association)
        if isinstance(pair, DealRecord):
            await self.deals.dissociate(caller, association, pair)
        else:
            await self.companies.dissociate(caller, association, pair)

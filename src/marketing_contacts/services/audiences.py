"""Channel audiences (H1, H2): who of a selection a channel may reach, who it leaves out and why.

Counted in the database (ContactStore.audience_counts, one aggregation) and paged from it
(ContactStore.page_of_selection), in the caller's scope (P3): a contact the caller does not see
is neither counted nor listed.
"""

from __future__ import annotations

from marketing_contacts.domain.bulk import Selection
from marketing_contacts.domain.channels import AudienceCounts, Channel, reachable_conditions
from marketing_contacts.domain.contacts import Contact
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.paging import Page, check_first, paged
from marketing_contacts.services.selections import check_live_list
from marketing_contacts.services.wiring import Ports


class AudienceService:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports

    async def counts(
        self, caller: Caller, channel: Channel, selection: Selection
    ) -> AudienceCounts:
        await check_live_list(self.ports, caller, selection)
        return await self.ports.contacts.audience_counts(caller.scope, selection, channel)

    async def reachable(
        self,
        caller: Caller,
        channel: Channel,
        selection: Selection,
        first: int,
        after: str | None,
    ) -> Page[Contact]:
        """A page of the contacts of the selection the channel may reach, in id order."""
        check_first(first)
        await check_live_list(self.ports, caller, selection)
        read = self.ports.contacts.page_of_selection(
            caller.scope, selection, reachable_conditions(channel), first, after
        )
        return await paged(first, after, read)

"""A selection (B1) as every background operation and audience checks it before it runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from marketing_contacts.domain.bulk import Selection
from marketing_contacts.domain.errors import ErrorCode, quoted, refuse
from marketing_contacts.services.callers import Caller

if TYPE_CHECKING:
    from marketing_contacts.services.wiring import Ports


async def check_live_list(ports: Ports, caller: Caller, selection: Selection) -> None:
    """NOT_FOUND for a list the selection names (itself or by its filter) that is not live: a
    deleted list's members are being taken out, and none of them is selected."""
    field: tuple[str, ...]
    if selection.list_id is not None:
        named, field = selection.list_id, ("selection", "list_id")
    elif selection.filter is not None and selection.filter.list_id is not None:
        named, field = selection.filter.list_id, ("selection", "filter", "list_id")
    else:
        return
    if await ports.lists.get(caller.account_id, named) is None:
        raise refuse(ErrorCode.NOT_FOUND, f"list {quoted(named)} does not exist", *field)

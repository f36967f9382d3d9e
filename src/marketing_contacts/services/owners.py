"""C1: a record's owner is a user of the account."""

from __future__ import annotations

from typing import TYPE_CHECKING

from marketing_contacts.domain.errors import check_id
from marketing_contacts.domain.users import user_not_found
from marketing_contacts.services.callers import Caller

if TYPE_CHECKING:
    from marketing_contacts.services.wiring import Ports


async def check_owner(ports: Ports, caller: Caller, owner_id: str | None) -> None:
    """NOT_FOUND at `owner_id` when it names no user of the caller's account (a deactivated
    user stays an owner); nothing to check for no owner."""
    if owner_id is None:
        return
    check_id(owner_id, "owner_id")
    if await ports.users.get(caller.account_id, owner_id) is None:
        raise user_not_found(owner_id, "owner_id")

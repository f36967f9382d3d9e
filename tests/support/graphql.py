"""Executing the real schema in-process, as a given caller (strawberry's own testing style)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marketing_contacts.domain.tiers import Edition, UpgradePolicy
from marketing_contacts.domain.update_dates import CommitmentTerm
from marketing_contacts.domain.users import Role, User
from marketing_contacts.runtime import SCHEMA as schema
from marketing_contacts.schema.context import RequestContext
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.registry import Services
from marketing_contacts.services.users import UserDraft


@dataclass
class Client:
    """One caller of the API."""

    services: Services
    caller: Caller

    async def execute(self, query: str, **variables: Any) -> dict[str, Any]:
        """Run a document; GraphQL errors fail loudly unless the test asks for them."""
        result = await self.try_execute(query, **variables)
        assert result.errors is None, result.errors
        assert result.data is not None
        data: dict[str, Any] = result.data
        return data

    async def try_execute(self, query: str, **variables: Any) -> Any:
        context = RequestContext(services=self.services, authenticated=self.caller)
        return await schema.execute(query, variable_values=variables, context_value=context)


def fragment_bomb(
    levels: int, operation: str = "query", leaf: str = "usage { totalContacts }"
) -> str:
    """Ten spreads per fragment, `levels` deep: 659 bytes at 7 levels, standing for 10**7
    leaves; walking it spread by spread took the API 82 s of CPU, while every other request
    waited."""
    root = operation.capitalize()
    spreading = " ".join(
        f"fragment F{n} on {root} {{ {' '.join([f'...F{n + 1}'] * 10)} }}" for n in range(levels)
    )
    return f"{operation} {{ ...F0 }} {spreading} fragment F{levels} on {root} {{ {leaf} }}"


async def open_client(
    services: Services,
    *,
    name: str = "Acme",
    edition: Edition = Edition.STARTER,
    term: CommitmentTerm = CommitmentTerm.ANNUAL,
    tier_limit: int | None = None,
    tier_step: int | None = None,
    timezone: str = "UTC",
    upgrade_policy: UpgradePolicy = UpgradePolicy.AUTO,
    marketing_access: bool = True,
) -> Client:
    """A new account and a client holding a token of it."""
    account = await services.accounts.open(
        AccountOpening(
            name=name,
            edition=edition,
            term=term,
            timezone=timezone,
            upgrade_policy=upgrade_policy,
            tier_limit=tier_limit,
            tier_step=tier_step,
        )
    )
    admin = await services.users.add(
        account.id,
        UserDraft(name="Tester", email=None, role=Role.ADMIN, marketing_access=marketing_access),
    )
    return await client_of(services, admin)


async def client_of(services: Services, user: User, token_name: str = "tester") -> Client:
    """A client holding a new token of `user`."""
    token, secret = await services.tokens.issue(user, token_name)
    caller = await services.tokens.authenticate(secret)
    assert caller is not None and caller.token_id == token.id
    return Client(services, caller)

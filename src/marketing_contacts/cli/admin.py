"""Administration commands: accounts, tokens, usage reconciliation, update dates.

Every token acts as a user (P1): `accounts create` makes the account's first user, an ADMIN,
with its token; `tokens create` makes a MEMBER user with its token, or with --user a further
token of an existing user.

They talk to the databases MONGODB_URI and REDIS_URL name, so a command in another terminal
works on the running service's data. With --json the last line is one JSON object.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer

from marketing_contacts.cli.reach import servers_reached
from marketing_contacts.domain.errors import DomainError
from marketing_contacts.domain.tiers import Edition, UpgradePolicy
from marketing_contacts.domain.update_dates import CommitmentTerm
from marketing_contacts.domain.users import check_user_email
from marketing_contacts.runtime import open_runtime, reach
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.services.registry import Services
from marketing_contacts.services.users import UserDraft
from marketing_contacts.settings import Server, get_settings

T = TypeVar("T")
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object as the last line.")]
EmailOption = Annotated[
    str | None,
    typer.Option(help="The new user's email address; default: one made up from its id."),
]

accounts = typer.Typer(help="Accounts.", no_args_is_help=True)
tokens = typer.Typer(help="API tokens.", no_args_is_help=True)
usage = typer.Typer(help="Usage counters.", no_args_is_help=True)
update_date = typer.Typer(help="Update dates.", no_args_is_help=True)


def run(work: Callable[[Services], Awaitable[T]], *, publishes: bool = False) -> T:
    """Run `work` against the configured databases; a refused request exits 2 with its reason,
    a server that does not answer 1 with one line saying what to set. Work that `publishes`
    its changes to live subscribers checks Redis before it changes anything."""
    settings = get_settings()
    needs: tuple[Server, ...] = ("MongoDB", "Redis") if publishes else ("MongoDB",)

    async def main() -> T:
        await reach(settings, needs)
        async with open_runtime(settings) as runtime:
            return await work(runtime.services)

    try:
        with servers_reached(settings):
            return asyncio.run(main())
    except DomainError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error


def emit(as_json: bool, body: dict[str, Any], text: str) -> None:
    typer.echo(json.dumps(body) if as_json else text)


@accounts.command("create")
def accounts_create(
    name: Annotated[str, typer.Option(help="The account's name.")],
    edition: Edition = Edition.STARTER,
    term: CommitmentTerm = CommitmentTerm.ANNUAL,
    tier_limit: Annotated[int | None, typer.Option(min=1, help="First tier step.")] = None,
    tier_step: Annotated[int | None, typer.Option(min=1, help="Growth per step.")] = None,
    timezone: str = "UTC",
    renewal_date: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="YYYY-MM-DD; default today.")
    ] = None,
    upgrade_policy: UpgradePolicy = UpgradePolicy.AUTO,
    email: EmailOption = None,
    legacy: Annotated[
        bool,
        typer.Option(
            "--legacy",
            help="Without marketing contacts (K1): every contact counts toward the tier and "
            "statuses cannot be set, until an admin runs enableMarketingContacts.",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Open an account with its first user, an ADMIN named Admin, and print the account's id,
    the user's and the user's first API token (shown once)."""
    opening = AccountOpening(
        name=name,
        edition=edition,
        term=term,
        timezone=timezone,
        renewal_date=None if renewal_date is None else renewal_date.date(),
        upgrade_policy=upgrade_policy,
        tier_limit=tier_limit,
        tier_step=tier_step,
        legacy=legacy,
    )

    async def work(services: Services) -> tuple[str, str, str]:
        if email is not None:  # before anything is stored: nothing half-made
            check_user_email(email, "email")
        account = await services.accounts.open(opening)
        admin = await services.users.first_admin(account.id, email)
        _, secret = await services.tokens.issue(admin, "owner")
        return account.id, admin.id, secret

    account_id, user_id, secret = run(work)
    emit(
        as_json,
        {"id": account_id, "token": secret, "user_id": user_id},
        f"account {account_id}\ntoken {secret}  (shown once)\nuser {user_id} (ADMIN)",
    )


@tokens.command("create")
def tokens_create(
    account: Annotated[str, typer.Option(help="The account's id.")],
    name: Annotated[str, typer.Option(help="Who or what uses the token.")],
    user: Annotated[
        str | None,
        typer.Option(help="A user of the account the token acts as; default: a new MEMBER."),
    ] = None,
    no_marketing_access: Annotated[
        bool,
        typer.Option(
            "--no-marketing-access", help="S5: the new user may not set contacts marketing."
        ),
    ] = False,
    email: EmailOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Issue an API token (shown once): for a new MEMBER user named --name, or with --user for
    an existing user of the account."""
    if user is not None and (no_marketing_access or email is not None):
        typer.echo(
            "error: --no-marketing-access and --email describe a new user: not with --user",
            err=True,
        )
        raise typer.Exit(2)

    async def work(services: Services) -> tuple[str, str]:
        if user is None:
            draft = UserDraft(name=name, email=email, marketing_access=not no_marketing_access)
            holder = await services.users.add(account, draft)
        else:
            holder = await services.users.existing(account, user)
        _, secret = await services.tokens.issue(holder, name)
        return holder.id, secret

    user_id, secret = run(work)
    emit(
        as_json,
        {"token": secret, "user_id": user_id},
        f"token {secret}  (shown once)\nuser {user_id}",
    )


@usage.command("reconcile")
def usage_reconcile(
    account: Annotated[str | None, typer.Option(help="One account; default all.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Recount every account's usage from its contacts; report and repair any difference."""

    async def work(services: Services) -> list[Any]:
        if account is not None:
            return [await services.usage.reconcile(account)]
        return list(await services.usage.reconcile_all())

    results = run(work, publishes=True)
    rows = [
        {
            "account": r.account_id,
            "drifted": r.drifted,
            "stored": asdict(r.stored),
            "actual": asdict(r.actual),
            "lists": [asdict(recount) for recount in r.lists],
        }
        for r in results
    ]
    drifted = sum(r.drifted for r in results)
    emit(
        as_json,
        {"accounts": len(results), "drifted": drifted, "results": rows},
        f"{len(results)} accounts reconciled, {drifted} repaired",
    )


@update_date.command("run")
def update_date_run(
    account: Annotated[str | None, typer.Option(help="One account; default all due.")] = None,
    as_of: Annotated[
        datetime | None, typer.Option("--as-of", help="ISO-8601 instant; default now.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Apply every update date due at --as-of (U4), oldest first, each once."""
    moment = as_of or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)

    async def work(services: Services) -> list[Any]:
        return list(await services.update_dates.apply_due(moment, account))

    applied = run(work, publishes=True)
    rows = [
        {
            "account": a.account_id,
            "date": a.update_date.isoformat(),
            "contactsChanged": a.contacts_changed,
            "appliedHere": a.applied_here,
        }
        for a in applied
    ]
    emit(
        as_json,
        {"applied": rows},
        "\n".join(f"{r['account']} {r['date']}: {r['contactsChanged']} contacts" for r in rows)
        or "no update date due",
    )


def register(app: typer.Typer) -> None:
    app.add_typer(accounts, name="accounts")
    app.add_typer(tokens, name="tokens")
    app.add_typer(usage, name="usage")
    app.add_typer(update_date, name="update-date")

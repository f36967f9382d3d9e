"""The demo account `marketing-contacts dev` opens on its first start, and keeps the token of.

Tokens are stored hashed, so its secret is kept in VAR_DIR/demo.json (readable by this user
only): every later start prints it again and opens GraphiQL with it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from marketing_contacts.dev.var import write_private
from marketing_contacts.runtime import open_runtime
from marketing_contacts.services.accounts import AccountOpening
from marketing_contacts.settings import Settings

DEMO_NAME = "Demo account"
DEMO_FILE = "demo.json"


@dataclass(frozen=True)
class DemoAccount:
    account_id: str
    token: str


async def ensure_demo_account(settings: Settings) -> DemoAccount | None:
    """The kept demo account while its token still opens it; else a new one when the database
    has no account yet; else None (the database holds accounts already: none is added)."""
    path = settings.var_dir / DEMO_FILE
    async with open_runtime(settings) as runtime:
        services = runtime.services
        kept = _read(path)
        if kept is not None and await services.tokens.authenticate(kept.token) is not None:
            return kept
        if await services.ports.accounts.all_ids():
            return None
        account = await services.accounts.open(AccountOpening(name=DEMO_NAME))
        admin = await services.users.first_admin(account.id)
        _, secret = await services.tokens.issue(admin, "demo")
    demo = DemoAccount(account.id, secret)
    write_private(path, json.dumps(asdict(demo)))
    return demo


def _read(path: Path) -> DemoAccount | None:
    try:
        kept = json.loads(path.read_text())
        return DemoAccount(account_id=str(kept["account_id"]), token=str(kept["token"]))
    except (OSError, ValueError, KeyError, TypeError):  # none kept, or not one we wrote
        return None

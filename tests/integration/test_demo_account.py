"""The demo account of `marketing-contacts dev`: opened on an empty database, its token kept
in VAR_DIR so that every later start opens GraphiQL with it; never added to others' accounts."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from marketing_contacts.dev.demo import DEMO_FILE, ensure_demo_account
from marketing_contacts.settings import Settings
from tests.support.servers import unique_database_name


def fresh(settings: Settings, var_dir: Path) -> Settings:
    """The same servers, a database of its own (empty), and its own VAR_DIR."""
    database = unique_database_name(__name__)
    return settings.model_copy(update={"mongodb_database": database, "var_dir": var_dir})


async def test_an_empty_database_gets_a_demo_account_whose_token_is_kept_and_reused(
    settings_for_tests: Settings, tmp_path: Path
) -> None:
    settings = fresh(settings_for_tests, tmp_path)

    first = await ensure_demo_account(settings)
    again = await ensure_demo_account(settings)

    assert first is not None
    assert again == first
    kept = tmp_path / DEMO_FILE
    assert json.loads(kept.read_text()) == {"account_id": first.account_id, "token": first.token}
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


async def test_a_database_with_accounts_and_no_kept_token_gets_no_demo_account(
    settings_for_tests: Settings, tmp_path: Path
) -> None:
    settings = fresh(settings_for_tests, tmp_path / "first")
    assert await ensure_demo_account(settings) is not None

    elsewhere = settings.model_copy(update={"var_dir": tmp_path / "second"})
    assert await ensure_demo_account(elsewhere) is None
    assert not (tmp_path / "second" / DEMO_FILE).exists()


async def test_a_kept_token_that_no_longer_opens_an_account_is_replaced(
    settings_for_tests: Settings, tmp_path: Path
) -> None:
    (tmp_path / DEMO_FILE).write_text(json.dumps({"account_id": "gone", "token": "mc_gone"}))

    demo = await ensure_demo_account(fresh(settings_for_tests, tmp_path))

    assert demo is not None and demo.token != "mc_gone"
    assert json.loads((tmp_path / DEMO_FILE).read_text())["token"] == demo.token

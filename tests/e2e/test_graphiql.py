"""GraphiQL in a real browser (headless Chromium) with the network closed to all but the API:
the page loads every file from the API, opens with the development token in its headers,
shows the schema's documentation, runs a query and receives a subscription's alert."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from marketing_contacts.dev.processes import free_port
from tests.support.api import graphql, start_api
from tests.support.browser import EXPECT_TIMEOUT_MS, OfflinePage, headless_chromium, offline_page
from tests.support.cli import run_json
from tests.support.feed import listening

ACCOUNT_NAME = "GraphiQL in a browser"
TIER_LIMIT = 4
QUERY = "{ account { name } usage { tierLimit } }"
ALERTS = "subscription { tierAlerts { kind threshold marketingContacts } }"
CREATE_MARKETING = (
    "mutation { createContact(input: {marketingStatus: MARKETING}) { contact { id } } }"
)

expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@dataclass(frozen=True)
class DevelopmentApi:
    base: str
    env: dict[str, str]
    account_id: str
    token: str


def in_development(api_environment: dict[str, str], var_dir: Path) -> dict[str, str]:
    """An API's environment in development, on a free port, with its own VAR_DIR."""
    return {
        **api_environment,
        "ENVIRONMENT": "development",
        "PORT": str(free_port()),
        "VAR_DIR": str(var_dir),
    }


@pytest.fixture(scope="module")
def api(
    api_environment: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DevelopmentApi]:
    """An API in development whose GraphiQL opens with an account's token (as `dev` does)."""
    work = tmp_path_factory.mktemp("graphiql")
    env = in_development(api_environment, work)
    account = run_json(
        env, "accounts", "create", "--name", ACCOUNT_NAME, "--tier-limit", str(TIER_LIMIT)
    )
    process, base = start_api(
        {**env, "GRAPHIQL_TOKEN": account["token"]}, work / "api.log", healthy=True
    )
    try:
        yield DevelopmentApi(base, env, account["id"], account["token"])
    finally:
        process.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with headless_chromium() as chromium:
        yield chromium


@pytest_asyncio.fixture(loop_scope="session")
async def graphiql(browser: Browser, api: DevelopmentApi) -> AsyncIterator[OfflinePage]:
    async with offline_page(browser, api.base) as opened:
        await opened.page.goto(f"{api.base}/graphql")
        await expect(opened.page.locator(".graphiql-container")).to_be_visible()
        yield opened


async def run_in_editor(page: Page, document: str) -> None:
    """Replace the query editor's text with `document` (as a paste does) and run it, once
    GraphiQL has read the edit (it does so after a pause, then keeps the text in its storage):
    run before, it would send the document it read last (a subscription over HTTP)."""
    await page.locator(".graphiql-query-editor .CodeMirror").click()
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(document)
    await page.wait_for_function(
        "document => localStorage.getItem('graphiql:query') === document", arg=document
    )
    await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()


async def test_graphiql_loads_offline_with_the_token_and_the_schema_documentation(
    graphiql: OfflinePage, api: DevelopmentApi
) -> None:
    page = graphiql.page
    await expect(page.locator(".graphiql-editor-tool")).to_contain_text(f"Bearer {api.token}")
    await page.get_by_role("button", name="Show Documentation Explorer").click()
    docs = page.locator(".graphiql-doc-explorer")
    await expect(docs).to_contain_text("subscription: Subscription")
    await docs.get_by_text("Query", exact=True).click()
    await expect(docs.locator(".graphiql-doc-explorer-title")).to_have_text("Query")
    await expect(docs).to_contain_text("usage: Usage!")
    assert graphiql.network.elsewhere() == []


async def test_a_query_in_the_editor_runs_and_its_result_shows(
    graphiql: OfflinePage, api: DevelopmentApi
) -> None:
    await run_in_editor(graphiql.page, QUERY)
    response = graphiql.page.locator(".graphiql-response")
    await expect(response).to_contain_text(f'"name": "{ACCOUNT_NAME}"')
    await expect(response).to_contain_text(f'"tierLimit": {TIER_LIMIT}')
    assert graphiql.network.elsewhere() == []


async def test_a_subscription_in_graphiql_receives_an_alert(
    graphiql: OfflinePage, api: DevelopmentApi
) -> None:
    await run_in_editor(graphiql.page, ALERTS)
    await listening(api.env["REDIS_URL"], api.account_id)  # the page's subscription is open
    for _ in range(3):  # 3 of 4: the 75% threshold
        created = await asyncio.to_thread(graphql, api.base, api.token, CREATE_MARKETING)
        assert "errors" not in created.json(), created.text
    response = graphiql.page.locator(".graphiql-response")
    await expect(response).to_contain_text('"kind": "THRESHOLD_REACHED"')
    await expect(response).to_contain_text('"threshold": 75')
    assert graphiql.network.elsewhere() == []
    assert graphiql.network.sockets, "the subscription went over a WebSocket"


async def test_without_a_token_graphiql_says_how_to_open_an_account(
    browser: Browser, api_environment: dict[str, str], tmp_path: Path
) -> None:
    env = in_development(api_environment, tmp_path)
    env.pop("GRAPHIQL_TOKEN", None)  # whatever the runner has: no token here
    process, base = start_api(env, tmp_path / "api.log")
    try:
        async with offline_page(browser, base) as opened:
            await opened.page.goto(f"{base}/graphql")
            notice = opened.page.get_by_role("status")
            await expect(notice).to_contain_text("marketing-contacts accounts create --name Demo")
            await expect(opened.page.locator(".graphiql-container")).to_be_visible()
            assert opened.network.elsewhere() == []
    finally:
        process.stop()

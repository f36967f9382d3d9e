"""Headless Chromium through Playwright, with the network closed to all but the API under test.

The browser is Debian's `chromium` (`make setup` installs it; $CHROMIUM names another), never
one Playwright downloads.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, Page, Route, async_playwright

#: how long an expectation waits for the page to show what it should (a slow shared machine)
EXPECT_TIMEOUT_MS = 30_000


def chromium_executable() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium")
    assert found, "Debian's chromium is not installed: run `make setup` (or set CHROMIUM)"
    return found


@asynccontextmanager
async def headless_chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_executable())
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class ClosedNetwork:
    """Lets through only the requests to `host` (host:port); aborts and records the others.
    WebSockets are not routed: the page's are recorded, to be checked."""

    host: str
    blocked: list[str] = field(default_factory=list)
    sockets: list[str] = field(default_factory=list)

    def elsewhere(self) -> list[str]:
        """What the page asked of any other host: requests (aborted) and WebSockets."""
        return self.blocked + [url for url in self.sockets if urlsplit(url).netloc != self.host]

    async def route(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == self.host:
            await route.continue_()
        else:
            self.blocked.append(url)
            await route.abort("internetdisconnected")


@dataclass
class OfflinePage:
    page: Page
    network: ClosedNetwork


@asynccontextmanager
async def offline_page(browser: Browser, base: str) -> AsyncIterator[OfflinePage]:
    """A page of its own browser context (fresh storage), whose only reachable host is
    `base`'s."""
    context: BrowserContext = await browser.new_context(viewport={"width": 1400, "height": 900})
    network = ClosedNetwork(urlsplit(base).netloc)
    await context.route("**/*", network.route)
    try:
        page = await context.new_page()
        page.on("websocket", lambda socket: network.sockets.append(socket.url))
        page.set_default_timeout(EXPECT_TIMEOUT_MS)
        yield OfflinePage(page, network)
    finally:
        await context.close()

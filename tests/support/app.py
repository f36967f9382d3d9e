"""The real ASGI application in-process, its lifespan run, on the test's servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from starlette.applications import Starlette

from marketing_contacts.http.app import create_app
from marketing_contacts.runtime import Runtime
from marketing_contacts.settings import Settings
from tests.support.graphql import open_client


@dataclass
class ServedApp:
    """The application, an HTTP client of it, and its runtime (to set up what tests need)."""

    app: Starlette
    http: httpx.AsyncClient
    runtime: Runtime

    async def new_token(self, name: str = "Acme") -> str:
        """The secret of a token of a new account."""
        services = self.runtime.services
        client = await open_client(services, name=name)
        admin = await services.users.existing(client.caller.account_id, client.caller.user_id)
        _, secret = await services.tokens.issue(admin, "in-process")
        return secret


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[ServedApp]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            yield ServedApp(app, http, app.state.runtime)

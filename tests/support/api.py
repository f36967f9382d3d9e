"""Real `marketing-contacts serve` processes for end-to-end tests."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from marketing_contacts.dev.processes import ManagedProcess, start_process, wait_until
from tests.support.cli import CLI

API_READY_SECONDS = 60.0


def environment(mongo_uri: str, redis_url: str, database: str, port: int) -> dict[str, str]:
    """The environment of an API process in production mode on these servers."""
    return {
        **os.environ,
        "MONGODB_URI": mongo_uri,
        "MONGODB_DATABASE": database,
        "REDIS_URL": redis_url,
        "PORT": str(port),
        "ENVIRONMENT": "production",
    }


def start_api(
    env: Mapping[str, str], log: Path, *, healthy: bool = False
) -> tuple[ManagedProcess, str]:
    """Start the API and wait until /health answers (with 200 when `healthy`): the process and
    its base URL."""
    api = start_process("api", [CLI, "serve"], env=dict(env), log_path=log)
    base = f"http://127.0.0.1:{env['PORT']}"

    def answers() -> bool:
        try:
            response = httpx.get(f"{base}/health", timeout=2)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 or not healthy

    wait_until(answers, timeout=API_READY_SECONDS, what="the API to answer", process=api)
    return api, base


def graphql(
    base: str, token: str | None, query: str, timeout: float = 30, **variables: Any
) -> httpx.Response:
    """POST a GraphQL request (with the token, when there is one)."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=timeout,
    )


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/graphql"

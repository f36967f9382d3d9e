"""SecantusDB's (and MongoDB's) `failCommand` fail point, on a server started with
`--enable-test-commands`: block one client's commands, to hold a process at a known statement."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from marketing_contacts.runtime import Runtime


@asynccontextmanager
async def fail_point(
    runtime: Runtime,
    commands: list[str],
    app_name: str,
    *,
    block_ms: int,
    mode: str | dict[str, Any] = "alwaysOn",
) -> AsyncIterator[None]:
    """Block the named commands of one client (by its appName) for `block_ms` each; `mode`
    as the server takes it (`{"skip": n}`: let the first n through)."""
    admin = runtime.mongo.client.admin
    await admin.command(
        {
            "configureFailPoint": "failCommand",
            "mode": mode,
            "data": {
                "failCommands": commands,
                "appName": app_name,
                "blockConnection": True,
                "blockTimeMS": block_ms,
            },
        }
    )
    try:
        yield
    finally:
        await admin.command({"configureFailPoint": "failCommand", "mode": "off"})

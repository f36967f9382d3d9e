"""A command that cannot reach MongoDB or Redis says so in one line and exits 1.

The line names what was tried (the address, and where it came from) and what to set: never a
traceback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from marketing_contacts.runtime import reach, server_away
from marketing_contacts.settings import Server, Settings, unreachable_message

EXIT_UNREACHABLE = 1


@contextmanager
def servers_reached(settings: Settings) -> Iterator[None]:
    """Inside: a server that does not answer ends the command with its one line on stderr."""
    try:
        yield
    except Exception as error:
        server = server_away(error)
        if server is None:
            raise
        typer.echo(unreachable_message(server, settings), err=True)
        raise typer.Exit(EXIT_UNREACHABLE) from None


def require(settings: Settings, *servers: Server) -> None:
    """Before a long-running command starts: each of `servers` answers, or the command ends."""
    with servers_reached(settings):
        asyncio.run(reach(settings, servers))

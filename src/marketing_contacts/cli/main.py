"""Command-line interface: `marketing-contacts serve | worker | dev | import`, and admin."""

from __future__ import annotations

import typer

from marketing_contacts.cli.admin import register as register_admin_commands
from marketing_contacts.cli.imports import register as register_import_command
from marketing_contacts.cli.logs import with_service_logs
from marketing_contacts.cli.reach import require
from marketing_contacts.settings import Settings, get_settings

app = typer.Typer(
    name="marketing-contacts",
    help="Marketing contacts: GraphQL API, workers and a local development stack.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def serve() -> None:
    """Serve the GraphQL API with uvicorn on HOST:PORT."""
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from marketing_contacts.http.auth import MAX_BODY_BYTES

    settings = get_settings()
    require(settings, "MongoDB")  # the API opens without Redis (subscriptions wait for it)
    uvicorn.run(
        "marketing_contacts.http.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=with_service_logs(LOGGING_CONFIG, settings.log_level),
        # a WebSocket message is bounded like an HTTP body (uvicorn's default is 16 MiB)
        ws_max_size=MAX_BODY_BYTES,
    )


@app.command()
def worker() -> None:
    """Run an arq worker for the background jobs."""
    import logging.config

    from arq.logs import default_log_config

    from marketing_contacts.workers.run import run_until_stopped

    settings = get_settings()
    require(settings, "MongoDB")  # the worker waits for Redis, at its start as later
    level = settings.log_level
    logging.config.dictConfig(with_service_logs(default_log_config(level == "DEBUG"), level))
    raise typer.Exit(run_until_stopped())


@app.command()
def dev() -> None:
    """Run SecantusDB, Redis, the API and a worker locally; Ctrl-C stops them all.

    MONGODB_URI / REDIS_URL, when set, are used instead of starting local servers.
    DEV_MONGO_PORT / DEV_REDIS_PORT choose the local servers' ports (27017 / 6379).
    While it runs, VAR_DIR/dev.env holds the servers' addresses for the other commands.
    """
    from marketing_contacts.dev.run import run_dev

    raise typer.Exit(run_dev(Settings()))  # the environment alone: dev writes dev.env


register_admin_commands(app)
register_import_command(app)


def main() -> None:
    """Entry point of the `marketing-contacts` console script."""
    app()

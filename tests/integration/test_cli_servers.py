"""The CLI and its servers: a command that cannot reach MongoDB or Redis says so in one line
(what it tried, where that came from, what to set) and exits non-zero, never with a traceback;
in development, VAR_DIR/dev.env gives what the environment does not set."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from marketing_contacts.dev.processes import free_port
from marketing_contacts.dev.servers import MongoServer, RedisServer
from tests.support.cli import run_cli

#: how long a command waits for MongoDB (a closed port refuses at once anyway)
TIMEOUT_SECONDS = "2"
FROM_THE_ENVIRONMENT = "{} from the environment"


def cli_env(var_dir: Path, **variables: str) -> dict[str, str]:
    """The environment of a command run in another terminal: no server variables of the
    runner's, development, its own VAR_DIR."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("MONGODB_URI", "MONGODB_DATABASE", "REDIS_URL", "ENVIRONMENT")
    }
    return {**env, "VAR_DIR": str(var_dir), "MONGODB_TIMEOUT_SECONDS": TIMEOUT_SECONDS, **variables}


def closed_mongo_uri() -> str:
    return f"mongodb://127.0.0.1:{free_port()}/?directConnection=true"


def assert_one_line_about(
    done: subprocess.CompletedProcess[str], server: str, address: str, origin: str
) -> None:
    """The command failed with one line naming the server, the address tried, where it came
    from and the variable to set; no traceback."""
    variable = "MONGODB_URI" if server == "MongoDB" else "REDIS_URL"
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"cannot reach {server} at {address} ({origin.format(variable)})" in lines[0]
    assert f"set {variable} to a {server} that answers" in lines[0]


@pytest.mark.parametrize(
    "command",
    [
        ("accounts", "create", "--name", "Nowhere"),
        ("tokens", "create", "--account", "a1", "--name", "n"),
        ("usage", "reconcile"),
        ("update-date", "run"),
        ("serve",),
        ("worker",),
        ("dev",),
    ],
    ids=lambda command: "-".join(command[:2]),
)
def test_a_command_that_cannot_reach_mongodb_says_so_in_one_line(
    redis_server: RedisServer, tmp_path: Path, command: tuple[str, ...]
) -> None:
    uri = closed_mongo_uri()
    env = cli_env(tmp_path, MONGODB_URI=uri, REDIS_URL=redis_server.url, PORT=str(free_port()))

    done = run_cli(env, *command)

    assert_one_line_about(done, "MongoDB", uri, FROM_THE_ENVIRONMENT)


def test_a_command_that_publishes_and_cannot_reach_redis_says_so_in_one_line(
    mongo_server: MongoServer, mongo_database_name: str, tmp_path: Path
) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    env = cli_env(
        tmp_path, MONGODB_URI=mongo_server.uri, MONGODB_DATABASE=mongo_database_name, REDIS_URL=url
    )

    done = run_cli(env, "update-date", "run")  # its changes are published to subscribers

    assert_one_line_about(done, "Redis", url, FROM_THE_ENVIRONMENT)
    # what touches no Redis works without it
    assert run_cli(env, "accounts", "create", "--name", "No Redis").returncode == 0


def test_a_password_in_the_address_is_not_printed(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    port = free_port()
    uri = f"mongodb://admin:s3cret@127.0.0.1:{port}/?directConnection=true"
    env = cli_env(tmp_path, MONGODB_URI=uri, REDIS_URL=redis_server.url)

    done = run_cli(env, "usage", "reconcile")

    masked = f"mongodb://admin:***@127.0.0.1:{port}/?directConnection=true"
    assert_one_line_about(done, "MongoDB", masked, FROM_THE_ENVIRONMENT)
    assert "s3cret" not in done.stderr + done.stdout


def test_in_development_dev_env_gives_the_addresses_the_environment_does_not_set(
    mongo_server: MongoServer, redis_server: RedisServer, mongo_database_name: str, tmp_path: Path
) -> None:
    uri = closed_mongo_uri()
    (tmp_path / "dev.env").write_text(
        f"MONGODB_URI={uri}\nMONGODB_DATABASE={mongo_database_name}\nREDIS_URL={redis_server.url}\n"
    )

    from_file = run_cli(cli_env(tmp_path), "accounts", "create", "--name", "From dev.env")
    assert_one_line_about(from_file, "MongoDB", uri, f"{{}} from {tmp_path / 'dev.env'}")

    # what the environment sets wins over the file
    beside = run_cli(
        cli_env(tmp_path, MONGODB_URI=mongo_server.uri), "accounts", "create", "--name", "Env"
    )
    assert beside.returncode == 0, beside.stderr
    assert beside.stdout.startswith("account ")

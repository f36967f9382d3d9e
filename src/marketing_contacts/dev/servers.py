"""Local SecantusDB and Redis servers for development and tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import redis
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from marketing_contacts.dev.processes import ManagedProcess, port_accepts, start_process, wait_until
from marketing_contacts.settings import PROJECT_ROOT

LOCALHOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 30.0
IN_MEMORY = ":memory:"


def secantusd_executable() -> Path:
    """`$SECANTUSD`, or `.venv-mongo/bin/secantusd-py` at the root of the repository."""
    configured = os.environ.get("SECANTUSD")
    path = Path(configured) if configured else PROJECT_ROOT / ".venv-mongo" / "bin" / "secantusd-py"
    if not path.exists():
        raise FileNotFoundError(
            f"SecantusDB server not found at {path}: run `make setup` or set SECANTUSD"
        )
    return path


def redis_server_executable() -> Path:
    """`redis-server` from the PATH."""
    found = shutil.which("redis-server")
    if found is None:
        raise FileNotFoundError("redis-server not found on PATH: run `make setup`")
    return Path(found)


@dataclass
class MongoServer:
    """A running SecantusDB server."""

    process: ManagedProcess
    host: str
    port: int

    @property
    def uri(self) -> str:
        return f"mongodb://{self.host}:{self.port}/?directConnection=true"

    def stop(self) -> int:
        return self.process.stop()


@dataclass
class RedisServer:
    """A running redis-server."""

    process: ManagedProcess
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def stop(self) -> int:
        return self.process.stop()


def mongo_answers_ping(uri: str) -> bool:
    client: MongoClient[dict[str, object]] = MongoClient(
        uri, serverSelectionTimeoutMS=1000, connectTimeoutMS=1000
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def redis_answers_ping(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def start_mongo(
    *,
    port: int,
    storage_path: Path | str = IN_MEMORY,
    host: str = LOCALHOST,
    log_path: Path | None = None,
    timeout: float = READY_TIMEOUT_SECONDS,
) -> MongoServer:
    """Start SecantusDB and wait until it answers `ping`. `storage_path` may be `:memory:`."""
    if isinstance(storage_path, Path):
        storage_path.mkdir(parents=True, exist_ok=True)
    argv = [
        str(secantusd_executable()),
        *("--host", host, "--port", str(port)),
        *("--storage-path", str(storage_path), "--log-level", "WARNING"),
    ]
    server = MongoServer(start_process("mongo", argv, log_path=log_path), host, port)
    _wait_ready(
        server.process,
        lambda: port_accepts(host, port) and mongo_answers_ping(server.uri),
        f"SecantusDB on {host}:{port}",
        timeout,
    )
    return server


def start_redis(
    *,
    port: int,
    data_dir: Path,
    persistent: bool,
    host: str = LOCALHOST,
    log_path: Path | None = None,
    timeout: float = READY_TIMEOUT_SECONDS,
) -> RedisServer:
    """Start redis-server (append-only file when `persistent`) and wait until it answers PING."""
    data_dir.mkdir(parents=True, exist_ok=True)
    persistence = ("--appendonly", "yes") if persistent else ("--save", "", "--appendonly", "no")
    argv = [
        str(redis_server_executable()),
        *("--port", str(port), "--bind", host, "--dir", str(data_dir)),
        *("--loglevel", "warning", "--daemonize", "no"),
        *persistence,
    ]
    server = RedisServer(start_process("redis", argv, log_path=log_path), host, port)
    _wait_ready(
        server.process,
        lambda: port_accepts(host, port) and redis_answers_ping(server.url),
        f"Redis on {host}:{port}",
        timeout,
    )
    return server


def _wait_ready(
    process: ManagedProcess, ready: Callable[[], bool], what: str, timeout: float
) -> None:
    try:
        wait_until(ready, timeout=timeout, what=what, process=process)
    except BaseException:
        process.stop()
        raise

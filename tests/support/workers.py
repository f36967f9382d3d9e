"""Real `marketing-contacts worker` processes for end-to-end tests, each test on its own place.

A *place* is one test's own MongoDB database and its own Redis database number, so the workers of
one test never take another test's jobs (arq's queue key is the same in every Redis database),
and the crons of one test (update dates, the sweeper) never touch another test's accounts.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import redis
from arq.constants import default_queue_name, health_check_key_suffix
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from marketing_contacts.dev.processes import (
    ManagedProcess,
    port_accepts,
    start_process,
    wait_until,
)
from marketing_contacts.dev.servers import LOCALHOST, MongoServer, mongo_answers_ping
from marketing_contacts.settings import Settings
from tests.support.cli import CLI, run_json

T = TypeVar("T")

SECANTUSD = Path(__file__).resolve().parents[2] / ".venv-mongo" / "bin" / "secantusd-py"
#: the key arq's worker refreshes while it polls (WorkerSettings keeps arq's default queue)
HEALTH_KEY = default_queue_name + health_check_key_suffix
WORKER_READY_SECONDS = 60.0
#: Redis has databases 0-15; 0 is the integration tests'. Each place takes the next of 1-15.
_REDIS_DATABASES = itertools.cycle(range(1, 16))


def redis_url_with_database(url: str, number: int) -> str:
    """`redis://host:port/0` -> `redis://host:port/<number>`."""
    base, _, _ = url.rpartition("/")
    return f"{base}/{number}"


@dataclass
class Place:
    """One test's databases, and the worker processes it started (stopped at the end)."""

    mongo_uri: str
    database: str
    redis_url: str
    work_dir: Path
    env_overrides: dict[str, str] = field(default_factory=dict)
    workers: list[ManagedProcess] = field(default_factory=list)

    @classmethod
    def create(cls, mongo_uri: str, database: str, session_redis_url: str, work_dir: Path) -> Place:
        url = redis_url_with_database(session_redis_url, next(_REDIS_DATABASES))
        place = cls(mongo_uri, database, url, work_dir)
        place.flush_redis()
        return place

    def env(self, **overrides: str) -> dict[str, str]:
        """The environment of a CLI process of this place."""
        return {
            **os.environ,
            "MONGODB_URI": self.mongo_uri,
            "MONGODB_DATABASE": self.database,
            "REDIS_URL": self.redis_url,
            "ENVIRONMENT": "production",
            "LOG_LEVEL": "INFO",
            **self.env_overrides,
            **overrides,
        }

    def settings(self) -> Settings:
        """Settings of an in-process runtime (the API side) on this place."""
        return Settings(
            mongodb_uri=self.mongo_uri,
            mongodb_database=self.database,
            redis_url=self.redis_url,
            environment="development",
            var_dir=self.work_dir / "var",
        )

    def start_worker(self, name: str = "worker", **env: str) -> ManagedProcess:
        """Start `marketing-contacts worker`; returns at once (see wait_ready)."""
        worker = start_process(
            name,
            [CLI, "worker"],
            env=self.env(**env),
            log_path=self.work_dir / f"{name}.log",
        )
        self.workers.append(worker)
        return worker

    def forget_worker_health(self) -> None:
        """A killed worker leaves its health key behind: only a live worker should count."""
        with self._redis() as client:
            client.delete(HEALTH_KEY)

    def worker_is_healthy(self) -> bool:
        try:
            with self._redis() as client:
                return bool(client.exists(HEALTH_KEY))
        except redis.RedisError:
            return False

    async def started_worker(self, name: str = "worker", **env: str) -> ManagedProcess:
        """Start a worker and wait until arq writes its health-check key (it polls then)."""
        self.forget_worker_health()
        worker = self.start_worker(name, **env)
        await asyncio.to_thread(
            wait_until,
            self.worker_is_healthy,
            timeout=WORKER_READY_SECONDS,
            what=f"{name}'s health check in Redis",
            process=worker,
        )
        return worker

    def flush_redis(self) -> None:
        with self._redis() as client:
            client.flushdb()

    def stop(self) -> None:
        for worker in reversed(self.workers):
            worker.stop()
        with contextlib.suppress(redis.RedisError):
            self.flush_redis()

    def drop_database(self) -> None:
        """Drop the test's database; give up after a few seconds (a transaction a killed
        worker left open holds it until the server reaps it, 60 s later)."""
        client: MongoClient[dict[str, Any]] = MongoClient(self.mongo_uri, timeoutMS=5000)
        try:
            client.drop_database(self.database)
        except PyMongoError:
            pass
        finally:
            client.close()

    def cli(self, *args: str) -> dict[str, Any]:
        """Run a CLI command of this place with --json; its last line is one JSON object."""
        return run_json(self.env(), *args)

    def _redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url, socket_timeout=2, socket_connect_timeout=2)


def is_worker_process(process: ManagedProcess) -> bool:
    """True when the pid runs `marketing-contacts worker` itself (no wrapper, no children)."""
    proc = Path("/proc") / str(process.pid)
    argv = (proc / "cmdline").read_bytes().split(b"\0")
    children = [
        child
        for task in (proc / "task").iterdir()
        for child in (task / "children").read_text().split()
    ]
    return (
        argv[-2:] == [b"worker", b""]
        and Path(argv[1].decode()).name == "marketing-contacts"
        and (not children)
    )


def kill_hard(process: ManagedProcess) -> None:
    """SIGKILL the process group (nothing of it can clean up), and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.popen.wait(10)


def log_of(process: ManagedProcess) -> str:
    return "" if process.log_path is None else process.log_path.read_text(errors="replace")


def start_own_mongo(
    port: int,
    storage_path: Path | str,
    log_path: Path,
    *options: str,
    timeout: float = 30.0,
) -> MongoServer:
    """A SecantusDB of one test's own, with extra server `options`:

    - `--sync-on-commit` makes an acknowledged commit survive SIGKILL of the server, as a
      `majority` write does on a real replica set; without it SecantusDB loses the last
      ~100 ms of acknowledged writes when killed (measured here; `j: true` does not help);
    - `--enable-test-commands` allows `configureFailPoint`, as on a test mongod.

    A port just freed by a killed server may refuse to bind for a moment: the start is retried
    until `timeout`.
    """
    if isinstance(storage_path, Path):
        storage_path.mkdir(parents=True, exist_ok=True)
    argv = [
        str(SECANTUSD),
        *("--host", LOCALHOST, "--port", str(port)),
        *("--storage-path", str(storage_path), "--log-level", "WARNING", *options),
    ]
    deadline = time.monotonic() + timeout
    uri = f"mongodb://{LOCALHOST}:{port}/?directConnection=true"
    while True:
        process = start_process("mongo", argv, log_path=log_path)
        try:
            wait_until(
                lambda: port_accepts(LOCALHOST, port) and mongo_answers_ping(uri),
                timeout=max(deadline - time.monotonic(), 1.0),
                what=f"SecantusDB on port {port}",
                process=process,
            )
            return MongoServer(process, LOCALHOST, port)
        except Exception:
            process.stop()
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.3)

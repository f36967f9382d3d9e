"""A throwaway stack: SecantusDB (in memory) and Redis on free ports, API processes
(`marketing-contacts serve`) and workers (`marketing-contacts worker`), stopped together on exit,
on an exception, on Ctrl-C and on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import httpx
import redis
from arq.constants import default_queue_name, health_check_key_suffix

from marketing_contacts.dev.processes import ManagedProcess, free_port, start_process, wait_until
from marketing_contacts.dev.servers import (
    IN_MEMORY,
    MongoServer,
    RedisServer,
    start_mongo,
    start_redis,
)
from marketing_contacts.settings import Settings

BIN = Path(sys.executable).parent
CLI = str(BIN / "marketing-contacts")
#: the key arq's worker refreshes while it polls (WorkerSettings keeps arq's default queue)
WORKER_HEALTH_KEY = default_queue_name + health_check_key_suffix
READY_SECONDS = 60.0


def raise_open_file_limit() -> int:
    """Raise this process's open-file limit to its hard limit (children inherit it); the new
    soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard
    return soft


#: the benchmarks measure fan-out and throughput, not P5's limits: a bench token sends far
#: more than 150 requests in 10 s and holds hundreds of sockets
UNLIMITED = {
    "RATE_LIMIT_REQUESTS": "1000000",
    "MAX_SOCKETS_PER_TOKEN": "100000",
    "MAX_SUBSCRIPTIONS_PER_SOCKET": "100000",
    "MAX_ACTIVE_BACKGROUND_OPERATIONS": "100000",
}


@dataclass
class Stack:
    """The servers and processes of one benchmark run, in start order."""

    work_dir: Path
    database: str
    mongo: MongoServer
    redis: RedisServer
    children: list[ManagedProcess] = field(default_factory=list)
    #: base URLs of the API processes, in start order
    apis: list[str] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        """The environment of every process of the stack."""
        return {
            **os.environ,
            "MONGODB_URI": self.mongo.uri,
            "MONGODB_DATABASE": self.database,
            "REDIS_URL": self.redis.url,
            "LOG_LEVEL": "WARNING",
            **UNLIMITED,
        }

    @property
    def settings(self) -> Settings:
        """Settings of an in-process runtime on the stack (seeding, reading back)."""
        return Settings(
            mongodb_uri=self.mongo.uri, redis_url=self.redis.url, mongodb_database=self.database
        )

    def start(
        self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None
    ) -> ManagedProcess:
        """Start a child process of the stack, logging to the stack's folder."""
        child = start_process(
            name, argv, env=self.env if env is None else env, log_path=self.log_of(name)
        )
        self.children.append(child)
        return child

    async def run_to_end(
        self, name: str, argv: Sequence[str], env: Mapping[str, str]
    ) -> ManagedProcess:
        """Run a child process to its end (stopped if this is cancelled: a timeout, Ctrl-C);
        the ended process."""
        child = self.start(name, argv, env)
        try:
            # a child's exit sets no event here: polling, while the loop goes on serving
            while child.is_running():  # noqa: ASYNC110
                await asyncio.sleep(0.2)
        finally:
            child.stop()
            self.children.remove(child)
        return child

    def log_of(self, name: str) -> Path:
        return self.work_dir / f"{name}.log"

    def start_api(self) -> str:
        """One more API process on a free port, once its /health answers; its base URL."""
        port = free_port()
        name = f"api-{len(self.apis) + 1}"
        api = self.start(name, [CLI, "serve"], env={**self.env, "PORT": str(port)})
        base = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                return httpx.get(f"{base}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, timeout=READY_SECONDS, what=f"{name}'s /health", process=api)
        self.apis.append(base)
        return base

    def start_workers(self, count: int) -> list[ManagedProcess]:
        """`count` worker processes, once arq's health key is there and every one still runs."""
        client = redis.Redis.from_url(self.redis.url)
        try:
            client.delete(WORKER_HEALTH_KEY)
            workers = [self.start(f"worker-{n + 1}", [CLI, "worker"]) for n in range(count)]
            for worker in workers:
                wait_until(
                    lambda: bool(client.exists(WORKER_HEALTH_KEY)),
                    timeout=READY_SECONDS,
                    what="the workers' health check in Redis",
                    process=worker,
                )
        finally:
            client.close()
        return workers

    def cli_json(self, *args: str) -> dict[str, Any]:
        """Run `marketing-contacts ARGS --json` on the stack; its last line, one JSON object."""
        done = subprocess.run(
            [CLI, *args, "--json"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} exited with {done.returncode}: {done.stderr}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    def check_alive(self) -> None:
        """Fail with the log of the first child process that ended on its own."""
        for child in self.children:
            if not child.is_running():
                raise RuntimeError(
                    f"{child.name} exited with {child.returncode}:\n{child.log_tail()}"
                )

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.redis.stop()
        self.mongo.stop()


class Stopped(KeyboardInterrupt):
    """SIGTERM arrived: stop like on Ctrl-C."""


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Stopped()


def run_main(main: Callable[[], int]) -> NoReturn:
    """Exit with `main()`'s code; on Ctrl-C or SIGTERM (the stack stopped already), with 130
    and one line instead of a traceback."""
    try:
        code = main()
    except KeyboardInterrupt:
        print("stopped: every process the benchmark started has stopped", file=sys.stderr)
        code = 130
    sys.exit(code)


@contextmanager
def running_stack(name: str, *, apis: int, workers: int = 0) -> Iterator[Stack]:
    """A fresh stack with `apis` API processes and `workers` workers; everything it started
    stops when the block ends, however it ends."""
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    raise_open_file_limit()
    try:
        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as work:
            work_dir = Path(work)
            mongo = start_mongo(
                port=free_port(), storage_path=IN_MEMORY, log_path=work_dir / "secantusd.log"
            )
            try:
                server = start_redis(
                    port=free_port(),
                    data_dir=work_dir / "redis",
                    persistent=False,
                    log_path=work_dir / "redis.log",
                )
            except BaseException:
                mongo.stop()
                raise
            stack = Stack(work_dir, f"bench_{name}", mongo, server)
            try:
                for _ in range(apis):
                    stack.start_api()
                stack.start_workers(workers)
                yield stack
            finally:
                stack.stop()
    finally:
        signal.signal(signal.SIGTERM, previous)

"""`marketing-contacts dev`: the whole stack on this machine, stopped together."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

import redis

from marketing_contacts.dev.demo import DemoAccount, ensure_demo_account
from marketing_contacts.dev.processes import ManagedProcess, start_process, wait_until
from marketing_contacts.dev.servers import LOCALHOST, start_mongo, start_redis
from marketing_contacts.dev.var import write_private
from marketing_contacts.runtime import reach, server_away
from marketing_contacts.settings import (
    ADDRESS_VARIABLE,
    Server,
    Settings,
    dev_env_text,
    unreachable_message,
    without_password,
)

READY_TIMEOUT_SECONDS = 60.0
WATCH_INTERVAL_SECONDS = 0.5
EXIT_CHILD_DIED = 1
EXIT_STARTUP_FAILED = 2


class StopRequested(BaseException):
    """SIGINT or SIGTERM arrived: stop everything and exit 0."""


@dataclass
class DevStack:
    """Every child process started, in start order (stopped in reverse)."""

    children: list[ManagedProcess] = field(default_factory=list)

    def add(self, child: ManagedProcess) -> ManagedProcess:
        self.children.append(child)
        return child

    def first_dead(self) -> ManagedProcess | None:
        return next((child for child in self.children if not child.is_running()), None)

    def stop_all(self) -> None:
        for child in reversed(self.children):
            try:
                child.stop()
            except OSError as error:
                print(f"dev: could not stop {child.name}: {error}", file=sys.stderr, flush=True)


def run_dev(settings: Settings, environ: Mapping[str, str] = os.environ) -> int:
    """Start servers (unless configured), API and worker; wait for a signal; stop them all."""
    stack = DevStack()
    with _signals_raise_stop():
        try:
            _start_stack(stack, settings, environ)
            _wait_for_a_dead_child(stack)
            return EXIT_CHILD_DIED
        except StopRequested:
            print("dev: stopping", flush=True)
            return 0
        except Exception as error:
            server = server_away(error)
            if server is not None:  # a server of MONGODB_URI / REDIS_URL: one line says so
                otherwise = f"unset {ADDRESS_VARIABLE[server]} and dev starts a local one"
                message = unreachable_message(server, settings, environ, otherwise)
                print(message, file=sys.stderr, flush=True)
            else:
                print("dev: could not start:", file=sys.stderr, flush=True)
                traceback.print_exc()
            return EXIT_STARTUP_FAILED
        finally:
            _ignore_stop_signals()
            stack.stop_all()
            settings.dev_env_path.unlink(missing_ok=True)  # it tells of a running stack


def _start_stack(stack: DevStack, settings: Settings, environ: Mapping[str, str]) -> None:
    given: list[Server] = [s for s, name in ADDRESS_VARIABLE.items() if name in environ]
    asyncio.run(reach(settings, given))  # the servers dev does not start must answer
    mongodb_uri = _local_mongo(stack, settings) if "MongoDB" not in given else None
    redis_url = _local_redis(stack, settings) if "Redis" not in given else None
    effective = settings.model_copy(
        update={
            "mongodb_uri": mongodb_uri or settings.mongodb_uri,
            "redis_url": redis_url or settings.redis_url,
        }
    )
    demo = asyncio.run(ensure_demo_account(effective))
    child_env = {
        **environ,
        "MONGODB_URI": effective.mongodb_uri,
        "MONGODB_DATABASE": effective.mongodb_database,
        "REDIS_URL": effective.redis_url,
        **({} if demo is None else {"GRAPHIQL_TOKEN": demo.token}),
    }
    health_key = _worker_health_key()
    _forget_worker_health(effective.redis_url, health_key)
    api = stack.add(_start_cli_child("api", "serve", child_env))
    worker = stack.add(_start_cli_child("worker", "worker", child_env))
    wait_until(
        lambda: _api_is_healthy(effective),
        timeout=READY_TIMEOUT_SECONDS,
        what="the API's /health",
        process=api,
    )
    wait_until(
        lambda: _worker_is_healthy(effective.redis_url, health_key),
        timeout=READY_TIMEOUT_SECONDS,
        what="the worker's health check",
        process=worker,
    )
    write_private(effective.dev_env_path, dev_env_text(effective))  # for the other commands
    _announce(effective, demo)


def _local_mongo(stack: DevStack, settings: Settings) -> str:
    server = start_mongo(
        port=settings.dev_mongo_port,
        storage_path=(settings.var_dir / "mongo").resolve(),
        host=LOCALHOST,
    )
    stack.add(server.process)
    return server.uri


def _local_redis(stack: DevStack, settings: Settings) -> str:
    server = start_redis(
        port=settings.dev_redis_port,
        data_dir=(settings.var_dir / "redis").resolve(),
        persistent=True,
        host=LOCALHOST,
    )
    stack.add(server.process)
    return server.url


def _start_cli_child(name: str, command: str, env: Mapping[str, str]) -> ManagedProcess:
    return start_process(name, [sys.executable, "-m", "marketing_contacts", command], env=env)


def _wait_for_a_dead_child(stack: DevStack) -> None:
    while (dead := stack.first_dead()) is None:
        time.sleep(WATCH_INTERVAL_SECONDS)
    print(
        f"dev: {dead.name} (pid {dead.pid}) exited with code {dead.returncode}; stopping",
        file=sys.stderr,
        flush=True,
    )


def _api_base_url(settings: Settings) -> str:
    host = LOCALHOST if settings.host in ("0.0.0.0", "::", "") else settings.host
    return f"http://{host}:{settings.port}"


def _api_is_healthy(settings: Settings) -> bool:
    try:
        with urllib.request.urlopen(f"{_api_base_url(settings)}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _worker_health_key() -> str:
    """The Redis key arq's worker sets while alive (the worker's settings may rename it)."""
    from arq.constants import default_queue_name, health_check_key_suffix

    from marketing_contacts.workers.settings import WorkerSettings

    worker_settings: object = WorkerSettings

    def option(name: str) -> object:
        if isinstance(worker_settings, dict):
            return worker_settings.get(name)
        return getattr(worker_settings, name, None)

    configured = option("health_check_key")
    if isinstance(configured, str):
        return configured
    queue_name = option("queue_name")
    if not isinstance(queue_name, str):
        queue_name = default_queue_name
    return f"{queue_name}{health_check_key_suffix}"


def _forget_worker_health(redis_url: str, key: str) -> None:
    """A crashed worker leaves its key behind: delete it so only a live worker counts."""
    client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.delete(key)
    finally:
        client.close()


def _worker_is_healthy(redis_url: str, key: str) -> bool:
    client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        return bool(client.exists(key))
    except redis.RedisError:
        return False
    finally:
        client.close()


def _announce(settings: Settings, demo: DemoAccount | None) -> None:
    graphql_url = f"{_api_base_url(settings)}/graphql"
    lines = [
        f"dev: ready. GraphiQL: {graphql_url}",
        f"dev: MONGODB_URI={without_password(settings.mongodb_uri)}",
        f"dev: REDIS_URL={without_password(settings.redis_url)}",
        f"dev: the commands in another terminal use them (from {settings.dev_env_path})",
    ]
    if demo is None:
        lines.append(
            "dev: no demo account (the database has accounts): "
            "`marketing-contacts accounts create --name Demo` opens one"
        )
    else:
        token = demo.token
        query = json.dumps({"query": "{ account { id name } usage { marketingContacts } }"})
        lines += [
            f"dev: demo account {demo.account_id}, token: {token} (in GraphiQL's headers)",
            "dev: try:",
            f"  curl -s {graphql_url} -H 'Authorization: Bearer {token}' \\",
            f"       -H 'Content-Type: application/json' -d '{query}'",
        ]
    lines.append("dev: Ctrl-C stops everything")
    print("\n".join(lines), flush=True)


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise StopRequested(signum)


def _ignore_stop_signals() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


@contextmanager
def _signals_raise_stop() -> Iterator[None]:
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, _raise_stop)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

"""`marketing-contacts dev` starts the whole stack and stops every process it started."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from marketing_contacts.dev.processes import free_port
from tests.support.cli import run_json
from tests.support.waiting import poll_until

STARTUP_TIMEOUT_SECONDS = 120.0
SHUTDOWN_TIMEOUT_SECONDS = 90.0


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    start_time: str  # field 22 of /proc/PID/stat: tells a pid apart from a reused one
    cmdline: str


def _read_process(pid: int) -> tuple[ProcessInfo, int] | None:
    """The process and its parent pid, or None when it is gone (or a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    state, parent = fields[0], int(fields[1])
    if state == "Z":
        return None
    return ProcessInfo(pid, fields[19], cmdline.strip()), parent


def _all_processes() -> list[tuple[ProcessInfo, int]]:
    found = (
        _read_process(int(entry.name)) for entry in Path("/proc").iterdir() if entry.name.isdigit()
    )
    return [item for item in found if item is not None]


def _descendants(root: int) -> list[ProcessInfo]:
    by_parent: dict[int, list[ProcessInfo]] = {}
    for info, parent in _all_processes():
        by_parent.setdefault(parent, []).append(info)
    found: list[ProcessInfo] = []
    pending = [root]
    while pending:
        for child in by_parent.get(pending.pop(), []):
            found.append(child)
            pending.append(child.pid)
    return found


def _is_alive(info: ProcessInfo) -> bool:
    current = _read_process(info.pid)
    return current is not None and current[0].start_time == info.start_time


def _health_is_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _distinct_free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


def _dev_command() -> str:
    beside_python = Path(sys.executable).parent / "marketing-contacts"
    found = str(beside_python) if beside_python.exists() else shutil.which("marketing-contacts")
    assert found is not None, "the marketing-contacts console script is not installed"
    return found


@dataclass
class DevRun:
    process: subprocess.Popen[bytes]
    log: Path
    var_dir: Path
    api_port: int
    mongo_port: int
    redis_port: int
    children: list[ProcessInfo] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.api_port}{path}"


@pytest.fixture
def dev_run(tmp_path: Path) -> Iterator[DevRun]:
    api_port, mongo_port, redis_port = _distinct_free_ports(3)
    var_dir = tmp_path / "var"
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("MONGODB_URI", "REDIS_URL")
    }
    env.update(
        HOST="127.0.0.1",
        PORT=str(api_port),
        VAR_DIR=str(var_dir),
        DEV_MONGO_PORT=str(mongo_port),
        DEV_REDIS_PORT=str(redis_port),
        ENVIRONMENT="development",
    )
    log = tmp_path / "dev.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [_dev_command(), "dev"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    run = DevRun(process, log, var_dir, api_port, mongo_port, redis_port)
    try:
        yield run
    finally:
        if process.poll() is None:
            run.children.extend(_descendants(process.pid))
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for child in run.children:
            if _is_alive(child):
                os.kill(child.pid, signal.SIGKILL)


def _wait_until_ready(dev_run: DevRun) -> None:
    poll_until(
        lambda: _health_is_ok(dev_run.url("/health")),
        timeout=STARTUP_TIMEOUT_SECONDS,
        what="/health",
        process=dev_run.process,
        log=dev_run.log,
    )
    poll_until(
        lambda: "dev: ready" in dev_run.log.read_text(),
        timeout=STARTUP_TIMEOUT_SECONDS,
        what="dev: ready",
        process=dev_run.process,
        log=dev_run.log,
    )


def _printed_token(dev_run: DevRun) -> str:
    output = dev_run.log.read_text()
    token = re.search(r"token: (\S+)", output)
    assert token is not None, output
    return token.group(1)


def test_dev_serves_then_stops_every_child_on_sigterm(dev_run: DevRun) -> None:
    health_url = dev_run.url("/health")
    _wait_until_ready(dev_run)
    children = _descendants(dev_run.process.pid)
    dev_run.children.extend(children)
    command_lines = [child.cmdline for child in children]
    assert any(
        "secantusd" in line and f"--port {dev_run.mongo_port}" in line for line in command_lines
    ), command_lines
    assert any(
        "redis-server" in line and str(dev_run.redis_port) in line for line in command_lines
    ), command_lines
    assert sum("marketing_contacts serve" in line for line in command_lines) == 1, command_lines
    assert sum("marketing_contacts worker" in line for line in command_lines) == 1, command_lines
    assert dev_run.url("/graphql") in dev_run.log.read_text()
    answer = httpx.post(
        dev_run.url("/graphql"),
        json={"query": "{ usage { marketingContacts } }"},
        headers={"Authorization": f"Bearer {_printed_token(dev_run)}"},
        timeout=10,
    )
    assert answer.json() == {"data": {"usage": {"marketingContacts": 0}}}

    dev_run.process.send_signal(signal.SIGTERM)
    exit_code = dev_run.process.wait(timeout=SHUTDOWN_TIMEOUT_SECONDS)

    assert exit_code == 0, dev_run.log.read_text()
    assert [child for child in children if _is_alive(child)] == []
    leftovers = [
        info.cmdline
        for info, _ in _all_processes()
        if str(dev_run.var_dir) in info.cmdline
        or f"--port {dev_run.mongo_port}" in info.cmdline
        or ("redis-server" in info.cmdline and str(dev_run.redis_port) in info.cmdline)
    ]
    assert leftovers == []
    assert not _health_is_ok(health_url)


def test_the_cli_beside_dev_finds_its_servers_and_graphiql_opens_with_the_demo_token(
    dev_run: DevRun,
) -> None:
    _wait_until_ready(dev_run)
    mongodb_uri = f"mongodb://127.0.0.1:{dev_run.mongo_port}/?directConnection=true"
    redis_url = f"redis://127.0.0.1:{dev_run.redis_port}/0"
    dev_env = dev_run.var_dir / "dev.env"
    assert {f"MONGODB_URI={mongodb_uri}", f"REDIS_URL={redis_url}"} <= set(
        dev_env.read_text().splitlines()
    )
    printed = dev_run.log.read_text()
    assert f"MONGODB_URI={mongodb_uri}" in printed and f"REDIS_URL={redis_url}" in printed

    # a command in another terminal: no server variables, the same VAR_DIR
    beside = {
        name: value
        for name, value in os.environ.items()
        if name not in ("MONGODB_URI", "MONGODB_DATABASE", "REDIS_URL", "ENVIRONMENT")
    }
    opened = run_json(
        {**beside, "VAR_DIR": str(dev_run.var_dir)}, "accounts", "create", "--name", "Beside dev"
    )
    answer = httpx.post(
        dev_run.url("/graphql"),
        json={"query": "{ account { name } }"},
        headers={"Authorization": f"Bearer {opened['token']}"},
        timeout=10,
    )
    assert answer.json() == {"data": {"account": {"name": "Beside dev"}}}

    page = httpx.get(dev_run.url("/graphql"), headers={"Accept": "text/html"}, timeout=10)
    assert f"Bearer {_printed_token(dev_run)}" in page.text

    dev_run.process.send_signal(signal.SIGTERM)
    assert dev_run.process.wait(timeout=SHUTDOWN_TIMEOUT_SECONDS) == 0
    assert not dev_env.exists()  # it told of a running stack

"""Child processes are stopped for sure: SIGTERM first, SIGKILL when it is ignored."""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path

import pytest

from marketing_contacts.dev.processes import (
    ProcessExitedError,
    free_port,
    port_accepts,
    start_process,
    wait_until,
)

IGNORES_SIGTERM = (
    "import signal\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "while True: signal.pause()\n"
)


def test_free_port_can_be_bound() -> None:
    port = free_port()

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        assert port_accepts("127.0.0.1", port)


def test_stop_terminates_a_cooperative_process(tmp_path: Path) -> None:
    child = start_process("sleeper", [sys.executable, "-c", "import signal; signal.pause()"])

    assert child.stop() == -signal.SIGTERM
    assert not child.is_running()


def test_stop_kills_a_process_that_ignores_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "stubborn.log"
    child = start_process("stubborn", [sys.executable, "-c", IGNORES_SIGTERM], log_path=log)
    wait_until(lambda: "ready" in log.read_text(), timeout=30, what="ready", process=child)

    assert child.stop(timeout=0.2) == -signal.SIGKILL


def test_waiting_fails_fast_when_the_process_exits(tmp_path: Path) -> None:
    log = tmp_path / "failing.log"
    child = start_process(
        "failing", [sys.executable, "-c", "print('boom'); raise SystemExit(3)"], log_path=log
    )

    with pytest.raises(ProcessExitedError, match=r"failing exited with code 3[\s\S]*boom"):
        wait_until(lambda: False, timeout=60, what="never", process=child)

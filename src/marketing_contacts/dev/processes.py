"""Child processes: start, watch, stop; free ports; polling with a deadline."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

STOP_TIMEOUT_SECONDS = 15.0
_PR_SET_PDEATHSIG = 1


class ProcessExitedError(RuntimeError):
    """A child process ended while we were waiting for it to become ready."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether a TCP connection to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# Resolved once here: the child may not safely load libraries between fork and exec.
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:
    """Runs in the child before exec: on Linux, get SIGTERM when the parent dies."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class ManagedProcess:
    """A child process in its own session, stopped by SIGTERM then SIGKILL."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def is_running(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, max_chars: int = 4000) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-max_chars:]

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int:
        """SIGTERM the process group, wait up to `timeout`, then SIGKILL it; the exit code."""
        if self.popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                return self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
        return self.popen.wait()

    def _signal_group(self, signum: signal.Signals) -> None:
        try:
            os.killpg(self.popen.pid, signum)
        except ProcessLookupError:
            pass
        except PermissionError:
            self.popen.send_signal(signum)


def start_process(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    log_path: Path | None = None,
    cwd: Path | None = None,
) -> ManagedProcess:
    """Start `argv` in a new session; output goes to `log_path`, or to our own stdout/stderr."""
    log_file: IO[bytes] | None = None
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = log_path.open("ab")
    try:
        popen = subprocess.Popen(
            list(argv),
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT if log_file is not None else None,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # only a prctl call: safe before exec
        )
    finally:
        if log_file is not None:
            log_file.close()
    return ManagedProcess(name=name, popen=popen, log_path=log_path)


def wait_until(
    ready: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    process: ManagedProcess | None = None,
    interval: float = 0.1,
) -> None:
    """Poll `ready()` until it is true; fail at the deadline or as soon as `process` exits."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and not process.is_running():
            raise ProcessExitedError(
                f"{process.name} exited with code {process.returncode} before {what}\n"
                f"{process.log_tail()}"
            )
        if ready():
            return
        if time.monotonic() >= deadline:
            tail = process.log_tail() if process is not None else ""
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}\n{tail}")
        time.sleep(interval)

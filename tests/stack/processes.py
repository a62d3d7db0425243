"""Separate server processes for the stack tests: each in its own process group, logged to a
file, stopped by signalling the whole group (Dagster's servers ignore SIGTERM in some set-ups
and leave children behind)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited ({self.process.returncode}):\n{self.log()}")


def stop_group(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """SIGTERM to the group, then SIGKILL to whatever is left of it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=timeout)


@contextlib.contextmanager
def servers(log_dir: Path) -> Iterator[Callable[..., Server]]:
    """``start(name, command, env, cwd)`` for the block; every group is killed on exit."""
    started: list[Server] = []
    log_dir.mkdir(parents=True, exist_ok=True)

    def start(name: str, command: Sequence[str], env: dict[str, str], cwd: Path) -> Server:
        log_path = log_dir / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                list(command),
                env=env,
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group
            )
        server = Server(name, process, log_path)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in reversed(started):
            stop_group(server.process)


def wait_until(
    what: str, ready: Callable[[], bool], *, timeout: float, alive: Sequence[Server] = ()
) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        for server in alive:
            server.check_alive()
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {s.name}\n{s.log()}" for s in alive)
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{logs}")
        time.sleep(0.2)


def http_ok(url: str, headers: dict[str, str] | None = None) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            return httpx.get(url, headers=headers, timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    return ready

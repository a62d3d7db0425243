"""Helpers to run the real Data API (`clearlake api serve`) in a subprocess on loopback."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from clearlake.api.audit import read_audit_log
from clearlake.api.tokens import issue_token
from clearlake.lake.store import LakeStore
from clearlake.settings import DEFAULT_PROJECT

EXAMPLE_POLICY = DEFAULT_PROJECT / "api_policy.yaml"
MASK_KEY = "test-mask-key-0123456789abcdef"
PRINCIPALS = {"sam": ["scientist"], "pat": ["partner"], "stew": ["steward"]}
CLI = str(Path(sys.executable).parent / "clearlake")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(home: Path, lake: LakeStore, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARLAKE_")}
    env.update(
        CLEARLAKE_ENV="local",
        CLEARLAKE_HOME=str(home),
        CLEARLAKE_LAKE_URL=lake.url,
        CLEARLAKE_API_POLICY=str(EXAMPLE_POLICY),
        CLEARLAKE_API_MASK_KEY=MASK_KEY,
    )
    env.update(extra)
    return env


@dataclass
class LiveApi:
    url: str
    process: subprocess.Popen[bytes]
    home: Path
    tokens: dict[str, str]
    log_path: Path

    def headers(self, principal: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[principal]}"} if principal else {}

    def get(self, path: str, principal: str | None = "stew", **params: Any) -> httpx.Response:
        return httpx.get(
            f"{self.url}{path}", headers=self.headers(principal), params=params, timeout=60
        )

    @property
    def audit_path(self) -> Path:
        return self.home / "api" / "audit.jsonl"

    def audit(self) -> list[dict[str, Any]]:
        return read_audit_log(self.audit_path)

    def audit_after(self, before: int, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        """The records written after the first ``before``, once ``count`` of them are there
        (a request's record is written just after its response has gone out)."""
        deadline = time.monotonic() + timeout
        while True:
            records = self.audit()[before:]
            if len(records) >= count or time.monotonic() > deadline:
                time.sleep(0.2)  # and nothing more arrives
                return self.audit()[before:]
            time.sleep(0.05)

    def rss(self) -> int:
        rss: int = psutil.Process(self.process.pid).memory_info().rss
        return rss


@contextlib.contextmanager
def running_api(home: Path, env: dict[str, str], tokens: dict[str, str]) -> Iterator[LiveApi]:
    """Start `clearlake api serve`, wait until /health answers, stop it with SIGTERM."""
    port = free_port()
    home.mkdir(parents=True, exist_ok=True)
    log_path = home / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [CLI, "api", "serve", "--port", str(port), "--log-level", "warning"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    api = LiveApi(f"http://127.0.0.1:{port}", process, home, tokens, log_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"clearlake api serve exited: {log_path.read_text()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{api.url}/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"clearlake api serve did not answer: {log_path.read_text()}")
            time.sleep(0.1)
        yield api
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def issue_tokens(path: Path) -> dict[str, str]:
    return {p: issue_token(path, principal=p, roles=r) for p, r in PRINCIPALS.items()}


@contextlib.contextmanager
def app_in_thread(app: Any) -> Iterator[str]:
    """Serve an app object with a real uvicorn server on loopback, in a thread."""
    import threading

    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start in its thread")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)

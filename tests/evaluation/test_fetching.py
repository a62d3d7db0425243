"""The commit sensor's fetches, bounded: a real ``git daemon`` serving a good repository, a
remote that accepts connections and never answers, and one that refuses them. The good
mirror is fresh after each round (two pushes in a row), the other two are reported for
their repository, each stopped at its own budget."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clearlake.evaluation.fetching import refresh_mirrors
from clearlake.evaluation.git import GitRepository
from clearlake.project.config import RepositoryConfig
from clearlake.settings import load_settings

DAEMON = "/usr/lib/git-core/git-daemon"


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def silent_remote() -> Iterator[int]:
    """A server that accepts git's connection and never says a word (a hung remote)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A work tree whose pushes reach ``good.git``, served by a real git daemon."""
    work, base = tmp_path / "work", tmp_path / "served"
    work.mkdir()
    base.mkdir()
    git("init", "-q", "-b", "main", cwd=work)
    git("config", "user.email", "t@example.com", cwd=work)
    git("config", "user.name", "t", cwd=work)
    git("commit", "-q", "--allow-empty", "-m", "first", cwd=work)
    git("clone", "-q", "--bare", str(work), str(base / "good.git"), cwd=tmp_path)
    git("remote", "add", "origin", str(base / "good.git"), cwd=work)
    port = free_port()
    daemon = subprocess.Popen(
        [DAEMON, f"--base-path={base}", "--export-all", "--reuseaddr", "--listen=127.0.0.1",
         f"--port={port}", str(base)],
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield work, port
    daemon.kill()
    daemon.wait()


def repository(name: str, location: str, home: Path) -> GitRepository:
    config = RepositoryConfig(name=name, location=location, entrypoint="model:Model")
    return GitRepository(config, load_settings({"CLEARLAKE_HOME": str(home)}), location=location)


@pytest.mark.skipif(not Path(DAEMON).exists(), reason="git daemon is not installed")
def test_a_hung_or_broken_remote_never_holds_up_the_others(
    tmp_path: Path, served: tuple[Path, int], silent_remote: int
) -> None:
    work, port = served
    home = tmp_path / "home"
    repos = [
        repository("hung", f"git://127.0.0.1:{silent_remote}/hung.git", home),
        repository("good", f"git://127.0.0.1:{port}/good.git", home),
        repository("broken", f"git://127.0.0.1:{free_port()}/gone.git", home),
        repository("local", str(work), home),
    ]
    good = repos[1]
    for push in range(2):  # the first round clones the mirrors, the second fetches
        if push:
            git("commit", "-q", "--allow-empty", "-m", "second", cwd=work)
            git("push", "-q", "origin", "main", cwd=work)
        head = git("rev-parse", "HEAD", cwd=work)
        done = refresh_mirrors(repos, timeout=2, limit=2)
        assert sorted(done.fresh) == ["good", "local"]
        assert git("rev-parse", "main", cwd=good.git_dir) == head  # the push arrived
        assert "took more than 2 s and was stopped" in done.failed["hung"]
        assert "fetching git://127.0.0.1" in done.failed["broken"]
        assert "failed (" in done.failed["broken"]
        assert not repos[0].git_dir.exists()  # no half-cloned mirror left behind

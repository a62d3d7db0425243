"""Refreshing every watched repository's git mirror at once, each within its own budget.

The commit sensor used to fetch its repositories one after the other, each with git's own
120 s timeout: one remote that hangs (a server that accepts and never answers) held the
whole tick, and every repository after it waited. Here each mirror is fetched in its own
git process, at most ``limit`` at a time, and killed with its process group (git starts
helpers: ``git-remote-http``, ssh) once it has used ``timeout`` seconds; the tick gets
which mirrors are fresh and, for the others, one line per repository saying what
happened and what to check. A slow remote costs its own budget, never the others'.

The mirrors are the ones :class:`~clearlake.evaluation.git.GitRepository` reads (its
``git_dir``, under the cache root), so pods sharing that volume share them.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field

from clearlake.evaluation.git import GIT_ENV_NO_PROMPT, GitRepository

FETCH_TIMEOUT = 30.0
"""Seconds one repository's fetch may take per tick (a healthy fetch takes ~1 s)."""
FETCH_LIMIT = 4
"""Fetches running at once: git is mostly waiting on the network, so more than the cores."""


@dataclass(frozen=True)
class Refreshed:
    """One tick's fetches: the repositories whose mirror is fresh, a note for each other."""

    fresh: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def note(self, name: str) -> str | None:
        """Why ``name`` is not fresh (``None`` when it is)."""
        return self.failed.get(name)


def _command(repository: GitRepository) -> list[str]:
    if (repository.git_dir / "HEAD").exists():
        return ["git", "-C", str(repository.git_dir), "fetch", "--prune", "origin"]
    repository.git_dir.parent.mkdir(parents=True, exist_ok=True)
    return ["git", "clone", "--mirror", repository.location, str(repository.git_dir)]


def _run(command: list[str], timeout: float) -> tuple[int | None, str]:
    """``(exit code, stderr)``; exit code ``None`` when killed at ``timeout``."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: helpers die with it
        env={**os.environ, **GIT_ENV_NO_PROMPT},
    )
    try:
        _, stderr = process.communicate(timeout=timeout)
        return process.returncode, stderr
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return None, ""


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def refresh_one(repository: GitRepository, *, timeout: float) -> str | None:
    """Fetch ``repository``'s mirror (clone it the first time); ``None`` when fresh, else
    a note for the tick. A local repository is read in place: only checked."""
    if not repository.remote:
        if repository.exists():
            return None
        return (
            f"{repository.name}: {repository.location} is not a git repository; fix its "
            "`location` in the Clearlake configuration."
        )
    cloning = not (repository.git_dir / "HEAD").exists()
    code, stderr = _run(_command(repository), timeout)
    if code == 0:
        return None
    if cloning:  # never leave half a mirror: the next tick clones again
        shutil.rmtree(repository.git_dir, ignore_errors=True)
    if code is None:
        return (
            f"{repository.name}: fetching {repository.location} took more than {timeout:g} s "
            "and was stopped; skipped this tick (the others were not held up). Check that the "
            "remote answers (`git ls-remote <location>`)."
        )
    return (
        f"{repository.name}: fetching {repository.location} failed ({_last_line(stderr)}); "
        "skipped this tick. Check the repository's `location` and its credentials."
    )


def refresh_mirrors(
    repositories: Sequence[GitRepository],
    *,
    timeout: float = FETCH_TIMEOUT,
    limit: int = FETCH_LIMIT,
) -> Refreshed:
    """Fetch every repository's mirror, ``limit`` at a time, each within ``timeout``
    seconds: the tick takes at most about ``ceil(n / limit) × timeout`` whatever the
    remotes do, and a broken or hanging one is reported for that repository only."""
    result = Refreshed()

    def one(repository: GitRepository) -> tuple[str, str | None, float]:
        began = time.monotonic()
        try:
            note = refresh_one(repository, timeout=timeout)
        except OSError as exc:  # git missing, a mirror folder not writable
            note = f"{repository.name}: could not run git ({exc})."
        return repository.name, note, time.monotonic() - began

    with ThreadPoolExecutor(max_workers=max(1, limit), thread_name_prefix="git-fetch") as pool:
        for name, note, seconds in pool.map(one, repositories):
            result.seconds[name] = round(seconds, 3)
            if note is None:
                result.fresh.append(name)
            else:
                result.failed[name] = note
    return result

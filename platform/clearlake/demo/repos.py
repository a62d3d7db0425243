"""Demo algorithm repositories: real git repositories with a fixed, reproducible history.

A project's demo set-up (``demo.repositories`` in its configuration) describes its commits
as :class:`SampleCommit` values; :func:`create_repository` writes them with a fixed author
and fixed dates, so the commits have the same shas on every machine and a second demo run
finds nothing new to evaluate. Tests build their own histories with the same helpers.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from clearlake.errors import ClearlakeError

AUTHOR = ("Ada Scientist", "ada@clearlake.example")
FIRST_COMMIT_TIME = 1_714_557_600  # 2024-05-01T10:00:00Z


@dataclass(frozen=True)
class SampleCommit:
    message: str
    files: Mapping[str, str]
    deleted: Sequence[str] = field(default_factory=tuple)


def _git(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    done = subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            f"user.name={AUTHOR[0]}",
            "-c",
            f"user.email={AUTHOR[1]}",
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    if done.returncode != 0:
        raise ClearlakeError(f"git {' '.join(args)} failed in {repo}: {done.stderr.strip()}")
    return done.stdout.strip()


def init_repository(path: Path, *, branch: str = "main") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if not (path / ".git").exists():
        _git(path, "init", "--quiet", f"--initial-branch={branch}")
    return path


def add_commit(
    path: Path, commit: SampleCommit, *, timestamp: int | None = None, branch: str | None = None
) -> str:
    """Write ``commit``'s files, commit them (at ``timestamp`` if given), return the sha."""
    if branch is not None:
        _git(path, "checkout", "--quiet", "-B", branch)
    for name, text in commit.files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    for name in commit.deleted:
        (path / name).unlink(missing_ok=True)
    _git(path, "add", "--all")
    env = {}
    if timestamp is not None:
        env = {
            "GIT_AUTHOR_DATE": f"@{timestamp} +0000",
            "GIT_COMMITTER_DATE": f"@{timestamp} +0000",
        }
    _git(path, "commit", "--quiet", "--allow-empty", "-m", commit.message, env=env)
    return _git(path, "rev-parse", "HEAD")


def create_repository(path: Path, commits: Sequence[SampleCommit]) -> list[str]:
    """Create (or complete) a repository with ``commits``; return the shas, oldest first.

    Commits already present (same messages, in order) are kept, so a second call changes
    nothing and the shas stay the same.
    """
    init_repository(path)
    existing = []
    if _git(path, "rev-list", "--all", "--max-count=1"):
        log = _git(path, "log", "--reverse", "--format=%H%x1f%s", "main")
        existing = [line.split("\x1f") for line in log.splitlines()]
    shas = []
    for index, commit in enumerate(commits):
        if index < len(existing) and existing[index][1] == commit.message:
            shas.append(existing[index][0])
            continue
        shas.append(add_commit(path, commit, timestamp=FIRST_COMMIT_TIME + index * 86_400))
    return shas

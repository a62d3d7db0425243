"""Git access to algorithm repositories: new commits, commit metadata, exact checkouts.

A local path is read in place; a URL is mirrored (``git clone --mirror``) into
``<cache_root>/repos/<name>.git`` and fetched before each look. A commit is checked out
with ``git archive`` into ``<cache_root>/candidates/<repo>/<sha>``: the exact tree of that
commit, shared by every run that needs it, never a moving work tree.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess
import tarfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from clearlake.errors import ClearlakeError
from clearlake.project.config import RepositoryConfig
from clearlake.project.load import Project
from clearlake.settings import Settings

GIT_TIMEOUT = 120
GIT_ENV_NO_PROMPT = {"GIT_TERMINAL_PROMPT": "0", "GIT_SSH_COMMAND": "ssh -o BatchMode=yes"}
"""A remote that needs credentials fails at once instead of waiting for a person to type."""
_MISSING_CREDENTIALS = (
    "could not read Username",
    "terminal prompts disabled",
    "Authentication failed",
    "Permission denied (publickey",
    "Host key verification failed",
)


class MissingCredentialsError(ClearlakeError):
    def __init__(self, repo: str, location: str) -> None:
        self.repo = repo
        super().__init__(
            f"Repository {repo!r} at {location} needs credentials that are missing: give the "
            "code location and run pods a token or SSH key from a Kubernetes Secret "
            "(helm/DEPLOY.md, 'Private repositories')."
        )


class GitError(ClearlakeError):
    def __init__(self, repo: str, command: list[str], stderr: str) -> None:
        self.repo = repo
        super().__init__(f"git {' '.join(command)} failed in repository {repo!r}: {stderr.strip()}")


_HEX = re.compile(r"^[0-9a-fA-F]{4,39}$")


class AmbiguousCommitError(ClearlakeError):
    """A short sha that names several commits: resolving it would pick one silently."""

    def __init__(self, repo: str, prefix: str, matches: list[str]) -> None:
        self.repo, self.prefix, self.matches = repo, prefix, matches
        super().__init__(
            f"Repository {repo!r}: short sha {prefix} is ambiguous, it matches commits "
            f"{' and '.join(matches)}: give more digits of the one you mean."
        )


@dataclass(frozen=True)
class CommitInfo:
    """What the leaderboard and the reports show about an algorithm version."""

    sha: str
    message: str
    author: str
    committed_at: dt.datetime
    parents: tuple[str, ...]

    @property
    def short(self) -> str:
        return self.sha[:7]

    @property
    def subject(self) -> str:
        return self.message.splitlines()[0] if self.message else ""


@dataclass(frozen=True)
class FileChange:
    """One file of a diff stat: lines added and deleted (``None``: a binary file)."""

    path: str
    added: int | None
    deleted: int | None


def git_repository(project: Project, name: str, settings: Settings) -> GitRepository:
    """The registered repository ``name`` of ``project`` ({home}/{project} filled in)."""
    config = project.repository(name)
    return GitRepository(config, settings, location=project.location(config, settings.home))


class GitRepository:
    """One registered repository (its local clone or mirror)."""

    def __init__(self, config: RepositoryConfig, settings: Settings, *, location: str) -> None:
        self.config = config
        self.settings = settings
        self.location = location
        self.remote = "://" in location or re.match(r"^[\w.-]+@[\w.-]+:", location) is not None
        self.git_dir = (
            settings.cache_root / "repos" / f"{config.name}.git"
            if self.remote
            else Path(self.location)
        )

    @property
    def name(self) -> str:
        return self.config.name

    def _git(self, *args: str) -> str:
        command = ["git", "-C", str(self.git_dir), *args]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=GIT_TIMEOUT,
                check=False,
                env={**GIT_ENV_NO_PROMPT, **os.environ},
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise GitError(self.name, list(args), str(exc)) from None
        if done.returncode != 0:
            raise GitError(self.name, list(args), done.stderr)
        return done.stdout

    def exists(self) -> bool:
        return self.remote or (self.git_dir / ".git").exists() or (self.git_dir / "HEAD").exists()

    def refresh(self) -> None:
        """Fetch a remote repository into its mirror (no-op for local paths)."""
        if not self.remote:
            if not self.exists():
                raise ClearlakeError(
                    f"Repository {self.name!r}: {self.location} is not a git repository. Fix "
                    "its `location` in the Clearlake configuration."
                )
            return
        if not (self.git_dir / "HEAD").exists():
            self.git_dir.parent.mkdir(parents=True, exist_ok=True)
            done = subprocess.run(
                ["git", "clone", "--mirror", self.location, str(self.git_dir)],
                capture_output=True,
                text=True,
                timeout=GIT_TIMEOUT,
                check=False,
                env={**GIT_ENV_NO_PROMPT, **os.environ},
            )
            if done.returncode != 0:
                self._raise_for_credentials(done.stderr)
                raise GitError(self.name, ["clone", "--mirror", self.location], done.stderr)
        else:
            try:
                self._git("fetch", "--prune", "origin")
            except GitError as exc:
                self._raise_for_credentials(str(exc))
                raise

    def _raise_for_credentials(self, stderr: str) -> None:
        if any(marker in stderr for marker in _MISSING_CREDENTIALS):
            raise MissingCredentialsError(self.name, self.location) from None

    def branch_head(self, branch: str) -> str | None:
        try:
            return self._git(
                "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}"
            ).strip()
        except GitError:
            return None

    def resolve(self, commit: str) -> str:
        """Full sha of ``commit`` (a sha prefix, branch or tag); a prefix two commits share
        is :class:`AmbiguousCommitError` naming both, not "no commit"."""
        try:
            return self._git("rev-parse", "--verify", f"{commit}^{{commit}}").strip()
        except GitError:
            if _HEX.match(commit):
                matches = self.commits_with_prefix(commit)
                if len(matches) > 1:
                    raise AmbiguousCommitError(self.name, commit, matches) from None
            raise ClearlakeError(
                f"Repository {self.name!r} has no commit {commit!r}: check the sha (and that "
                "it was pushed to a watched branch)."
            ) from None

    def commits_with_prefix(self, prefix: str) -> list[str]:
        """Every commit whose sha starts with ``prefix`` (sorted)."""
        try:
            out = self._git("rev-parse", f"--disambiguate={prefix.lower()}")
        except GitError:
            return []
        objects = out.split()
        if not objects:
            return []
        kinds = subprocess.run(
            [
                "git",
                "-C",
                str(self.git_dir),
                "cat-file",
                "--batch-check=%(objectname) %(objecttype)",
            ],
            input="\n".join(objects) + "\n",
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        ).stdout.split("\n")
        return sorted(line.split()[0] for line in kinds if line.endswith(" commit"))

    def new_commits(self, branch_head: str, since: str | None, *, limit: int) -> list[str]:
        """Commits reachable from ``branch_head`` and not from ``since``, oldest first.

        When ``since`` is unknown (first look, or history rewritten) only the latest
        ``limit`` commits are returned.
        """
        if since is not None and self.is_commit(since):
            out = self._git("rev-list", "--reverse", "--topo-order", f"{since}..{branch_head}")
            return out.split()
        out = self._git("rev-list", "--topo-order", f"--max-count={limit}", branch_head)
        return list(reversed(out.split()))

    def is_commit(self, sha: str) -> bool:
        try:
            self._git("cat-file", "-e", f"{sha}^{{commit}}")
            return True
        except GitError:
            return False

    def commit_info(self, commit: str) -> CommitInfo:
        sep = "\x1f"
        out = self._git(
            "show", "-s", f"--format=%H{sep}%P{sep}%an <%ae>{sep}%cI{sep}%B", self.resolve(commit)
        )
        sha, parents, author, when, message = out.split(sep, 4)
        return CommitInfo(
            sha=sha,
            message=message.strip(),
            author=author,
            committed_at=dt.datetime.fromisoformat(when).astimezone(dt.UTC),
            parents=tuple(parents.split()),
        )

    def diff_stat(self, old: str, new: str) -> list[FileChange]:
        """Files changed from ``old`` to ``new`` with lines added and deleted (``None`` for a
        binary file), as ``git diff --numstat`` counts them (renames followed)."""
        out = self._git("diff", "--numstat", "-M", self.resolve(old), self.resolve(new))
        changes = []
        for line in out.splitlines():
            added, deleted, path = line.split("\t", 2)
            changes.append(
                FileChange(
                    path=path,
                    added=None if added == "-" else int(added),
                    deleted=None if deleted == "-" else int(deleted),
                )
            )
        return changes

    def checkout(self, commit: str) -> Path:
        """The tree of ``commit`` under the cache (extracted once, then reused)."""
        sha = self.resolve(commit)
        target = self.settings.cache_root / "candidates" / self.name / sha
        if target.is_dir():
            return target
        staging = target.with_name(f".{sha}-{uuid.uuid4().hex[:8]}")
        staging.mkdir(parents=True)
        try:
            archive = subprocess.run(
                ["git", "-C", str(self.git_dir), "archive", "--format=tar", sha],
                capture_output=True,
                timeout=GIT_TIMEOUT,
                check=False,
            )
            if archive.returncode != 0:
                raise GitError(self.name, ["archive", sha], archive.stderr.decode())
            with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                tar.extractall(staging, filter="data")
            try:
                staging.rename(target)
            except OSError:  # another run extracted it first: theirs is identical
                shutil.rmtree(staging, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target

"""Materialise-on-commit: what one tick of the commit sensor decides, as a plain function.

The cursor is JSON: ``{"<repo>:<branch>": "<last seen sha>"}``. A tick lists the commits
since the last seen sha on every watched branch (oldest first, at most ``max_per_tick``
per branch so a big push is spread over ticks), registers a partition per commit (and
per missing baseline) and asks for their evaluation. The cursor only moves past commits
whose requests were emitted, and run keys are the partition keys, so a restart neither
skips a commit nor evaluates one twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from clearlake.errors import ClearlakeError
from clearlake.evaluation.baseline import baseline_commit
from clearlake.evaluation.candidates import CandidateKey
from clearlake.evaluation.git import git_repository
from clearlake.project.load import Project
from clearlake.settings import Settings

MAX_PER_TICK = 25


@dataclass(frozen=True)
class Request:
    key: str
    repo: str
    commit: str
    branch: str
    reason: str
    task: str


@dataclass
class TickPlan:
    requests: list[Request] = field(default_factory=list)
    cursor: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    """Human-readable notes on repositories or branches that could not be read."""

    @property
    def new_keys(self) -> list[str]:
        return [r.key for r in self.requests]

    def cursor_json(self) -> str:
        return json.dumps(self.cursor, sort_keys=True)


def parse_cursor(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    loaded = json.loads(raw)
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def plan_tick(
    project: Project,
    settings: Settings,
    cursor: dict[str, str],
    *,
    is_known: Callable[[str, str], bool],
    max_per_tick: int = MAX_PER_TICK,
) -> TickPlan:
    """New commits to evaluate (each with its repository's task) and the cursor after them;
    ``is_known(task, key)``: is the candidate registered in the task's partitions?"""
    plan = TickPlan(cursor=dict(cursor))
    planned: set[str] = set()

    def request(key: str, repo: str, sha: str, branch: str, reason: str) -> None:
        if key not in planned:
            planned.add(key)
            plan.requests.append(Request(key, repo, sha, branch, reason, project.task_of(repo)))

    for repository in project.config.repositories:
        task = project.task_of(repository.name)
        git = git_repository(project, repository.name, settings)
        try:
            git.refresh()
        except ClearlakeError as exc:
            plan.skipped.append(str(exc))
            continue
        for branch in repository.branches:
            state = f"{repository.name}:{branch}"
            head = git.branch_head(branch)
            if head is None:
                plan.skipped.append(f"{repository.name}: branch {branch!r} does not exist")
                continue
            last = cursor.get(state)
            limit = repository.initial_history if last is None else max_per_tick
            commits = git.new_commits(head, last, limit=limit)[:max_per_tick]
            policy = repository.baseline
            for sha in commits:
                base = baseline_commit(
                    git, sha, policy=policy.policy, branch=policy.branch, champion=policy.commit
                )
                if base is not None:
                    base_key = str(CandidateKey.of(repository.name, base))
                    if not is_known(task, base_key):
                        request(base_key, repository.name, base, branch, f"baseline of {sha[:7]}")
                request(
                    str(CandidateKey.of(repository.name, sha)),
                    repository.name,
                    sha,
                    branch,
                    f"new commit on {branch}",
                )
            if commits:
                plan.cursor[state] = commits[-1]
    return plan

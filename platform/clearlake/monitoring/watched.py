"""Which model a monitor watches: the task's champion, a pinned commit or a branch head."""

from __future__ import annotations

import re

import dagster as dg

from clearlake.errors import ClearlakeError
from clearlake.evaluation.calibration import choose_champion
from clearlake.evaluation.candidates import CandidateKey, ResolvedCandidate, resolve_candidate
from clearlake.evaluation.git import git_repository
from clearlake.lake.store import LakeStore
from clearlake.project.load import Project
from clearlake.settings import Settings


class MonitorError(ClearlakeError):
    """A monitor cannot run; the message names the task and the fix."""

    def __init__(self, task: str, problem: str) -> None:
        self.task = task
        super().__init__(f"Monitor of task {task}: {problem}")


def resolve_watched(
    project: Project,
    task_name: str,
    *,
    settings: Settings,
    store: LakeStore,
    scores: dg.AssetKey,
    predictions: dg.AssetKey,
) -> ResolvedCandidate:
    """The watched model at its full commit; a commit or branch that is gone is one line."""
    monitor = project.task(task_name).monitor
    if monitor is None:
        raise MonitorError(task_name, "the task declares no `monitor:`")
    watch = monitor.watch
    try:
        if watch == "champion":
            key = choose_champion(
                store, project=project, task_name=task_name, scores=scores, predictions=predictions
            )
            return resolve_candidate(key, project=project, settings=settings, store=store)
        repo, separator, ref = re.split(r"([@:])", watch, maxsplit=1)
        git = git_repository(project, repo, settings)
        git.refresh()
        sha = git.branch_head(ref) if separator == ":" else git.resolve(ref)
        if sha is None:
            raise ClearlakeError(f"repository {repo!r} has no branch {ref!r}")
        key = str(CandidateKey.of(repo, sha))
        resolved = resolve_candidate(key, project=project, settings=settings, store=store)
    except ClearlakeError as exc:
        cause = str(exc).rstrip(".")
        raise MonitorError(
            task_name,
            f"the watched model {watch!r} cannot be found ({cause}). Fix `monitor.watch` of "
            "the task (an existing commit or branch), or evaluate a champion first.",
        ) from None
    return resolved

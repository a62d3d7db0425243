"""Which algorithm version a candidate is compared with, and waiting for its predictions.

Policies (per repository): ``parent`` (the commit's first parent), ``branch`` (the head of a
named branch; the parent when the candidate *is* that head) and ``champion`` (a pinned
commit). A candidate with parameters is compared with the same commit without parameters
(did this parameter set beat the default?). A repository's first commit and the champion
itself have no baseline.

The baseline's own partition must have been evaluated. The commit sensor requests it
first; when both run concurrently the comparison waits (up to
the task's ``baseline_wait_seconds``) while the baseline's run is queued or in progress.
A baseline that failed or was never evaluated must not let a candidate pass silently
(a crashed parent once let a 94% worse commit through as "no baseline"): the comparison
falls back to the nearest first-parent ancestor with evaluated predictions and names it;
only when there is none is it "no baseline", whose gate effect each repository declares.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import dagster as dg

from clearlake.evaluation.candidates import CandidateKey, ResolvedCandidate
from clearlake.evaluation.git import GitRepository

MAX_ANCESTORS = 50
"""How far back the fallback looks for an evaluated ancestor."""

UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def baseline_commit(
    git: GitRepository, sha: str, *, policy: str, branch: str | None, champion: str | None
) -> str | None:
    """Full sha of the baseline of commit ``sha`` under ``policy`` (None: no baseline)."""
    if policy == "champion":
        assert champion is not None
        pinned = git.resolve(champion)
        return None if pinned == sha else pinned
    parents = git.commit_info(sha).parents
    if policy == "branch":
        assert branch is not None
        head = git.branch_head(branch)
        if head is not None and head != sha:
            return head
    return parents[0] if parents else None


def baseline_key(candidate: ResolvedCandidate) -> CandidateKey | None:
    if candidate.key.param_hash is not None:
        return candidate.key.without_parameters()
    config = candidate.repository.baseline
    sha = baseline_commit(
        candidate.git,
        candidate.sha,
        policy=config.policy,
        branch=config.branch,
        champion=config.commit,
    )
    return None if sha is None else CandidateKey.of(candidate.key.repo, sha)


@dataclass(frozen=True)
class BaselineStatus:
    key: str
    ready: bool
    reason: str


def baseline_status(
    instance: dg.DagsterInstance, key: str, *, predictions: dg.AssetKey
) -> BaselineStatus | None:
    """Ready, or why not; None while a run of the baseline is still unfinished.

    ``predictions`` is the task's predictions asset (the baseline is ready once it exists).
    """
    done = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=predictions, asset_partitions=[key]), limit=1
    )
    if done.records:
        return BaselineStatus(key, True, "evaluated")
    runs = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": key}), limit=20)
    if any(run.status in UNFINISHED for run in runs):
        return None
    if runs:
        return BaselineStatus(key, False, f"the evaluation of baseline {key} failed")
    return BaselineStatus(
        key,
        False,
        f"baseline {key} was never evaluated (submit it: clearlake submit --repo "
        f"{CandidateKey.parse(key).repo} --commit {CandidateKey.parse(key).commit})",
    )


def await_baseline(
    instance: dg.DagsterInstance,
    key: str,
    *,
    predictions: dg.AssetKey,
    timeout_seconds: float,
    poll_seconds: float = 2.0,
) -> BaselineStatus:
    deadline = time.monotonic() + timeout_seconds
    while True:
        status = baseline_status(instance, key, predictions=predictions)
        if status is not None:
            return status
        if time.monotonic() >= deadline:
            return BaselineStatus(
                key, False, f"baseline {key} was still running after {timeout_seconds:g} s"
            )
        time.sleep(poll_seconds)


@dataclass(frozen=True)
class ResolvedBaseline:
    key: str | None
    """The baseline compared with (None: no baseline at all)."""
    note: str
    """Why this one (a fallback names the unusable baseline and the ancestor used)."""


def resolve_baseline(
    instance: dg.DagsterInstance,
    candidate: ResolvedCandidate,
    *,
    predictions: dg.AssetKey,
    timeout_seconds: float,
) -> ResolvedBaseline:
    """The baseline to compare with, falling back to the nearest evaluated ancestor."""
    base = baseline_key(candidate)
    if base is None:
        return ResolvedBaseline(None, "first commit (or the champion itself): nothing to compare")
    status = await_baseline(
        instance, str(base), predictions=predictions, timeout_seconds=timeout_seconds
    )
    if status.ready:
        return ResolvedBaseline(str(base), f"compared with {base}")
    if candidate.repository.baseline.policy == "champion":
        return ResolvedBaseline(None, f"{status.reason}; the pinned champion has no fallback")
    sha = candidate.git.resolve(base.commit)
    for _ in range(MAX_ANCESTORS):
        parents = candidate.git.commit_info(sha).parents
        if not parents:
            break
        sha = parents[0]
        key = str(CandidateKey.of(candidate.key.repo, sha))
        found = baseline_status(instance, key, predictions=predictions)
        if found is not None and found.ready:
            return ResolvedBaseline(
                key,
                f"{status.reason}; fell back to the nearest evaluated ancestor {key}",
            )
    return ResolvedBaseline(
        None,
        f"{status.reason}, and no ancestor of {candidate.key} was evaluated successfully",
    )

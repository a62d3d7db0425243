"""Which algorithm version a candidate is compared with, and waiting for its outcome.

Policies (per repository): ``parent`` (the commit's first parent), ``branch`` (the head of a
named branch; the parent when the candidate *is* that head) and ``champion`` (a pinned
commit). A candidate with parameters is compared with the same commit without parameters
(did this parameter set beat the default?). A repository's first commit and the champion
itself have no baseline.

Baselines never ratchet: a commit is a yardstick only once its own gate outcome is stored
and did not block it for a regression. Under the old rule ("evaluated predictions") a
commit 6% worse than its parent was blocked, and its child, another 5% worse, passed
against it: the two-push regression. Now the policy's commit that was blocked, failed or
never evaluated is replaced by the nearest first-parent ancestor whose gate passed, and
the headline names both (``vs r@abc1234 (nearest passing ancestor; parent def5678 was
blocked)``). A commit blocked only for lacking a baseline (``no_baseline: block``) regressed
against nothing and stays usable. While the policy's commit is still being evaluated, the
comparison waits (up to the task's ``baseline_wait_seconds``) for its outcome. Only when no
ancestor passed is it "no baseline", whose gate effect each repository declares.

A pipeline combination's baseline is derived from its key (:func:`combination_baseline_key`):
for stages from last to first, the combination with that stage at its first parent, the
first one registered — so the comparison attributes the change to that stage.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import dagster as dg

from clearlake.evaluation import gate
from clearlake.evaluation.candidates import CandidateKey, ResolvedCandidate
from clearlake.evaluation.gate import GateOutcome
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


def baseline_key(candidate: ResolvedCandidate) -> tuple[CandidateKey | None, str]:
    """The policy's baseline and what it is to the candidate (``parent``, ``champion``…)."""
    if candidate.key.param_hash is not None:
        return candidate.key.without_parameters(), "the commit without parameters"
    config = candidate.repository.baseline
    sha = baseline_commit(
        candidate.git,
        candidate.sha,
        policy=config.policy,
        branch=config.branch,
        champion=config.commit,
    )
    role = {"parent": "parent", "branch": f"head of {config.branch}", "champion": "champion"}
    found = None if sha is None else CandidateKey.of(candidate.key.repo, sha)
    if (
        found is not None
        and config.policy == "branch"
        and sha in candidate.git.commit_info(candidate.sha).parents
    ):
        return found, "parent"
    return found, role.get(config.policy, config.policy)


@dataclass(frozen=True)
class BaselineStatus:
    key: str
    ready: bool
    reason: str
    """Why it cannot be a baseline, as a sentence (empty when ready)."""
    short: str = ""
    """The same in a few words for the headline: ``was blocked``, ``failed``…"""


def stored_outcome(
    instance: dg.DagsterInstance, key: str, *, comparison: dg.AssetKey
) -> GateOutcome | None:
    """The gate outcome of candidate ``key`` in the event log (its latest comparison)."""
    found = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=comparison, asset_partitions=[key]), limit=1
    )
    for record in found.records:
        materialization = record.asset_materialization
        if materialization is not None:
            return gate.from_metadata(dict(materialization.metadata))
    return None


def usable(outcome: GateOutcome) -> bool:
    """May this outcome's candidate be a yardstick? Not when its gate blocked a regression."""
    return outcome.status != gate.BLOCKED or outcome.baseline is None


def baseline_status(
    instance: dg.DagsterInstance, key: str, *, comparison: dg.AssetKey
) -> BaselineStatus | None:
    """Usable, or why not; None while a run of the candidate is still unfinished.

    ``comparison`` is the task's comparison asset: its stored gate outcome decides.
    """
    outcome = stored_outcome(instance, key, comparison=comparison)
    if outcome is not None and usable(outcome):
        return BaselineStatus(key, True, "")
    runs = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": key}), limit=20)
    if outcome is None and any(run.status in UNFINISHED for run in runs):
        return None
    if outcome is not None:
        return BaselineStatus(
            key, False, f"{key} was blocked ({outcome.headline()})", "was blocked"
        )
    if runs:
        return BaselineStatus(key, False, f"the evaluation of {key} failed", "failed")
    parsed = CandidateKey.parse(key)
    return BaselineStatus(
        key,
        False,
        f"{key} was never evaluated (submit it: clearlake submit --repo "
        f"{parsed.repo} --commit {parsed.commit})",
        "was never evaluated",
    )


def await_baseline(
    instance: dg.DagsterInstance,
    key: str,
    *,
    comparison: dg.AssetKey,
    timeout_seconds: float,
    poll_seconds: float = 2.0,
) -> BaselineStatus:
    deadline = time.monotonic() + timeout_seconds
    while True:
        status = baseline_status(instance, key, comparison=comparison)
        if status is not None:
            return status
        if time.monotonic() >= deadline:
            return BaselineStatus(
                key,
                False,
                f"{key} was still being evaluated after {timeout_seconds:g} s",
                "was still running",
            )
        time.sleep(poll_seconds)


@dataclass(frozen=True)
class ResolvedBaseline:
    key: str | None
    """The baseline compared with (None: no baseline at all)."""
    note: str
    """Why this one (a fallback names the unusable baseline and the ancestor used)."""
    via: str = ""
    """For the headline when the policy's commit was replaced: ``nearest passing ancestor;
    parent def5678 was blocked``."""


def resolve_baseline(
    instance: dg.DagsterInstance,
    candidate: ResolvedCandidate,
    *,
    comparison: dg.AssetKey,
    timeout_seconds: float,
) -> ResolvedBaseline:
    """The policy's baseline if its gate passed, else the nearest passing ancestor of it."""
    base, role = baseline_key(candidate)
    if base is None:
        return ResolvedBaseline(None, "first commit (or the champion itself): nothing to compare")
    status = await_baseline(
        instance, str(base), comparison=comparison, timeout_seconds=timeout_seconds
    )
    if status.ready:
        return ResolvedBaseline(str(base), f"compared with {base} ({role})")
    key = nearest_passing_ancestor(
        instance,
        candidate.git,
        candidate.git.resolve(base.commit),
        key_of=lambda sha: str(CandidateKey.of(candidate.key.repo, sha)),
        comparison=comparison,
    )
    if key is not None:
        return ResolvedBaseline(
            key,
            f"{role} {status.reason}; compared with the nearest ancestor whose gate passed, {key}",
            via=f"nearest passing ancestor; {role} {base.commit} {status.short}",
        )
    return ResolvedBaseline(
        None,
        f"{role} {status.reason}, and no ancestor of it within {MAX_ANCESTORS} commits passed "
        "its gate",
    )


# -- pipeline combinations ----------------------------------------------------------------


def combination_baseline_key(
    key: CandidateKey, stages: Sequence[StageAt], *, is_known: Callable[[str], bool]
) -> tuple[CandidateKey | None, str, str | None]:
    """The baseline of a pipeline combination, deterministically: with parameters, the same
    combination without them; else, for stages from last to first, the combination with that
    stage at its first parent, the first that is registered (``is_known``). Returns the key,
    its role (``stage late-features at its parent``) and the stage that differs."""
    if key.param_hash is not None:
        return key.without_parameters(), "the combination without parameters", None
    for stage in reversed(stages):
        parents = stage.git.commit_info(stage.sha).parents
        if not parents:
            continue
        found = key.with_stage(stage.name, parents[0])
        if is_known(str(found)):
            return found, f"stage {stage.name} at its parent", stage.name
    return None, "", None


@dataclass(frozen=True)
class StageAt:
    """A stage of a combination at its full sha (what baseline resolution needs of it)."""

    name: str
    git: GitRepository
    sha: str


def resolve_combination_baseline(
    instance: dg.DagsterInstance,
    key: CandidateKey,
    stages: Sequence[StageAt],
    *,
    comparison: dg.AssetKey,
    timeout_seconds: float,
    is_known: Callable[[str], bool],
) -> ResolvedBaseline:
    """:func:`combination_baseline_key` if its gate passed, else the nearest first-parent
    ancestor of the changed stage (the others unchanged) whose gate passed."""
    base, role, stage = combination_baseline_key(key, stages, is_known=is_known)
    if base is None:
        return ResolvedBaseline(
            None,
            "no stage's parent combination was evaluated (the pipeline's first combination)",
        )
    status = await_baseline(
        instance, str(base), comparison=comparison, timeout_seconds=timeout_seconds
    )
    if status.ready:
        return ResolvedBaseline(str(base), f"compared with {base} ({role})")
    if stage is None:
        return ResolvedBaseline(None, f"{role} {status.reason}")
    git = next(s.git for s in stages if s.name == stage)
    changed = base.stage(stage)
    assert changed is not None
    older = nearest_passing_ancestor(
        instance,
        git,
        git.resolve(changed.commit),
        key_of=lambda sha: str(base.with_stage(stage, sha)),
        comparison=comparison,
    )
    if older is not None:
        return ResolvedBaseline(
            older,
            f"{role} {status.reason}; compared with the nearest ancestor combination "
            f"whose gate passed, {older}",
            via=f"nearest passing ancestor; stage {stage} {changed.commit} {status.short}",
        )
    return ResolvedBaseline(
        None,
        f"{role} {status.reason}, and no ancestor of stage {stage} within {MAX_ANCESTORS} "
        "commits passed its gate",
    )


def nearest_passing_ancestor(
    instance: dg.DagsterInstance,
    git: GitRepository,
    sha: str,
    *,
    key_of: Callable[[str], str],
    comparison: dg.AssetKey,
) -> str | None:
    """Walking first parents from ``sha`` (at most ``MAX_ANCESTORS``), the key (``key_of``
    an ancestor's sha) of the first candidate whose gate passed, or None."""
    for _ in range(MAX_ANCESTORS):
        parents = git.commit_info(sha).parents
        if not parents:
            return None
        sha = parents[0]
        key = key_of(sha)
        found = baseline_status(instance, key, comparison=comparison)
        if found is not None and found.ready:
            return key
    return None

"""One candidate run: a candidate key resolved once, and what predicting it needs.

A :class:`CandidateRun` holds the key, the task, and every stage at its FULL commit (one
stage for a single repository; a pipeline's transforms then its model). Full shas are
resolved once: from the sensor's run tag ``clearlake/stages`` (JSON ``{repo: sha}``) when
it is there and agrees with the key, else from git — a short sha that matches two commits
is reported as ambiguous, naming both, and a stage commit that no longer exists fails that
candidate only, naming the stage. Downstream steps read the shas the first step recorded
(metadata ``stages``), never git again.

Predicting is :func:`predict`: a pipeline's transform outputs come from
:mod:`clearlake.evaluation.stage_outputs` (computed once per chain and input, then reused),
the model stage is fed the last transform's output (the target joined back by row id for
training) and predicts the rows that output kept. Scoring and comparing are in
:mod:`clearlake.evaluation.candidate_steps`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from clearlake.errors import ClearlakeError
from clearlake.evaluation import runner, stage_outputs
from clearlake.evaluation.candidates import CandidateKey, ResolvedCandidate, candidate_parameters
from clearlake.evaluation.errors import CandidateError
from clearlake.evaluation.git import GitRepository, git_repository
from clearlake.evaluation.suites import candidate_columns, load_suite, row_id
from clearlake.features.datasets import table_digest
from clearlake.lake.store import LakeStore
from clearlake.project.config import FeatureConfig, RepositoryConfig, StageConfig, TaskConfig
from clearlake.project.load import Project
from clearlake.settings import Settings
from clearlake.versioning import digest

STAGES_TAG = "clearlake/stages"
"""Run tag the commit sensor sets: JSON ``{repo: full sha}`` in stage order."""


class StageCommitError(CandidateError):
    """A stage's commit cannot be used (gone, ambiguous, not the task's pipeline)."""

    def __init__(self, candidate: str, stage: str, problem: str) -> None:
        self.stage = stage
        super().__init__(candidate, f"stage {stage}: {problem}")


@dataclass(frozen=True)
class ResolvedStage:
    repository: RepositoryConfig
    git: GitRepository
    sha: str
    """The full 40-character sha."""
    config: StageConfig | None
    """The pipeline's declaration (None for a single-repository task)."""

    @property
    def name(self) -> str:
        return self.repository.name

    @property
    def label(self) -> str:
        return stage_outputs.stage_label(self.name, self.sha)


@dataclass(frozen=True)
class CandidateRun:
    key: CandidateKey
    task_name: str
    task: TaskConfig
    dataset: FeatureConfig
    stages: tuple[ResolvedStage, ...]
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def model(self) -> ResolvedStage:
        return self.stages[-1]

    @property
    def transforms(self) -> tuple[ResolvedStage, ...]:
        return self.stages[:-1]

    @property
    def sha(self) -> str:
        """The model stage's full sha."""
        return self.model.sha

    @property
    def repository(self) -> RepositoryConfig:
        return self.model.repository

    @property
    def stage_shas(self) -> dict[str, str]:
        """``{repo: full sha}`` in stage order (metadata ``stages``, the sensor's tag)."""
        return {s.name: s.sha for s in self.stages}

    @property
    def resolved(self) -> ResolvedCandidate:
        """The model stage as the single-repository helpers (baseline policies) take it."""
        return ResolvedCandidate(
            self.key, self.repository, self.model.git, self.sha, self.parameters
        )


def stages_json(shas: Mapping[str, str]) -> str:
    return json.dumps(dict(shas))


def parse_stages(raw: object) -> dict[str, str]:
    """``{repo: sha}`` from a tag or a metadata value (``{}`` when absent or unreadable)."""
    value = getattr(raw, "data", getattr(raw, "value", raw))
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def pipeline_of(project: Project, key: CandidateKey) -> tuple[str, list[StageConfig | None]]:
    """The task of ``key`` and the declaration of each of its stages; a key whose stages
    are not its task's pipeline (in order) is an error naming the difference."""
    task_name = project.task_of(key.repo)
    pipeline = project.task(task_name).pipeline
    if pipeline is None:
        if key.is_pipeline:
            raise StageCommitError(
                str(key),
                key.stages[0].repo,
                f"task {task_name} has no pipeline: its candidates are single repositories",
            )
        return task_name, [None]
    declared = [s.repository for s in pipeline]
    named = [s.repo for s in key.stages]
    if named != declared:
        missing = next((r for r in declared if r not in named), None)
        stage = missing or next(r for r in named if r not in declared)
        raise StageCommitError(
            str(key),
            stage,
            f"the key's stages {' + '.join(named)} are not task {task_name}'s pipeline "
            f"({' + '.join(declared)})",
        )
    return task_name, list(pipeline)


def resolve_run(
    key: str | CandidateKey,
    *,
    project: Project,
    settings: Settings,
    store: LakeStore,
    known_shas: Mapping[str, str] | None = None,
) -> CandidateRun:
    """Resolve every stage's full sha once: ``known_shas`` (a run tag, or the shas an
    upstream step recorded) when they agree with the key, else git."""
    parsed = key if isinstance(key, CandidateKey) else CandidateKey.parse(key)
    task_name, declarations = pipeline_of(project, parsed)
    task = project.task(task_name)
    known = dict(known_shas or {})
    stages = []
    for stage, declaration in zip(parsed.stages, declarations, strict=True):
        repository = project.repository(stage.repo)
        git = git_repository(project, stage.repo, settings)
        sha = known.get(stage.repo, "")
        if not (len(sha) == 40 and sha.startswith(stage.commit) and git.is_commit(sha)):
            sha = _from_git(str(parsed), git, stage.repo, stage.commit)
        stages.append(ResolvedStage(repository, git, sha, declaration))
    return CandidateRun(
        key=parsed,
        task_name=task_name,
        task=task,
        dataset=project.feature(task.dataset),
        stages=tuple(stages),
        parameters=candidate_parameters(parsed, store=store),
    )


def _from_git(candidate: str, git: GitRepository, repo: str, short: str) -> str:
    try:
        if not git.commits_with_prefix(short):
            git.refresh()  # a commit pushed since the mirror's last fetch
        return git.resolve(short)
    except ClearlakeError as exc:
        raise StageCommitError(candidate, repo, str(exc)) from None


# -- frames --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuiteFrames:
    train: pa.Table
    """The training suite, every column (the target included)."""
    test: pa.Table

    @property
    def version(self) -> str:
        """What a stage output's address takes from its inputs: both suites by content."""
        return digest(table_digest(self.train), table_digest(self.test))


def suite_frames(run: CandidateRun, store: LakeStore) -> SuiteFrames:
    train, test = (
        load_suite(
            store, task_name=run.task_name, task=run.task, dataset=run.dataset, suite_name=name
        )
        for name in (run.task.train_suite, run.task.test_suite)
    )
    return SuiteFrames(train, test)


@dataclass(frozen=True)
class StageResult:
    """A transform stage's output for one run: stored now or reused."""

    output: stage_outputs.StoredOutput
    reused: bool
    transform_runs: int
    """Transform processes this call started (0 when reused, upstream recomputations
    included otherwise)."""


def stage_address(run: CandidateRun, index: int, frames: SuiteFrames) -> str:
    chain = run.stages[: index + 1]
    return stage_outputs.stage_address(
        chain=[(s.name, s.sha) for s in chain],
        stages=[s.config for s in chain if s.config is not None],
        entrypoints=[s.repository.entrypoint for s in chain],
        inputs=frames.version,
        seed=run.task.seeds.seed,
    )


def stage_output(
    context: dg.AssetExecutionContext,
    run: CandidateRun,
    index: int,
    *,
    store: LakeStore,
    frames: SuiteFrames,
) -> StageResult:
    """Transform stage ``index``'s output: the stored one for its address, else computed
    (its upstream first, if that is missing too), checked and stored."""
    stage = run.stages[index]
    assert stage.config is not None and stage.config.output is not None
    address = stage_address(run, index, frames)
    found = stage_outputs.load_output(store, run.task_name, stage.name, address)
    if found is not None:
        return StageResult(found, reused=True, transform_runs=0)
    rid = row_id(run.task, run.dataset)
    upstream_runs = 0
    if index == 0:
        train = frames.train.select(candidate_columns(run.task, run.dataset, train=True))
        test = frames.test.select(candidate_columns(run.task, run.dataset, train=False))
    else:
        upstream = stage_output(context, run, index - 1, store=store, frames=frames)
        upstream_runs = upstream.transform_runs
        train = with_target(upstream.output.train, frames.train, run.task.target, rid)
        test = upstream.output.test
    worktree = stage.git.checkout(stage.sha)
    context.log.info(f"stage {stage.label}: transforming at {worktree}")
    started = time.perf_counter()
    outcome = runner.run_transform(
        context,
        stage=stage.label,
        worktree=worktree,
        entrypoint=stage.repository.entrypoint,
        target=run.task.target,
        train=train,
        test=test,
        timeout_seconds=stage.repository.timeout_seconds or run.task.candidate_timeout_seconds,
        threads=run.task.candidate_threads,
        seed=run.task.seeds.seed,
    )
    declared = stage.config.output.columns
    checked = [
        stage_outputs.check_output(stage.label, table, declared=declared, row_id=rid)
        for table in (outcome.train, outcome.test)
    ]
    stored = stage_outputs.save_output(
        store,
        run.task_name,
        stage.name,
        address,
        train=checked[0],
        test=checked[1],
        record={
            "computed_by": str(run.key),
            "stage": stage.name,
            "commit": stage.sha,
            "chain": {s.name: s.sha for s in run.stages[: index + 1]},
            "transform_seconds": round(outcome.transform_seconds, 3),
            "wall_seconds": round(time.perf_counter() - started, 3),
        },
    )
    return StageResult(stored, reused=False, transform_runs=upstream_runs + 1)


def with_target(frame: pa.Table, suite: pa.Table, target: str, rid: str) -> pa.Table:
    """``frame`` with the suite's target joined back by row id (in ``frame``'s order)."""
    return frame.append_column(target, aligned(suite, frame, rid).column(target))


def aligned(suite: pa.Table, frame: pa.Table, rid: str) -> pa.Table:
    """The rows of ``suite`` a stage kept, in the order of ``frame``'s row ids."""
    keys = pc.cast(suite.column(rid), pa.string())
    wanted = pc.cast(frame.column(rid), pa.string())
    positions = pc.index_in(wanted, value_set=keys)
    if positions.null_count:
        raise ClearlakeError(
            f"A stage output holds {positions.null_count} row id(s) that are not rows of the "
            "suite: a transform must keep the row ids it was given."
        )
    return suite.take(positions)


@dataclass(frozen=True)
class ModelFrames:
    train: pa.Table
    """What the model stage fits on (the target included)."""
    test: pa.Table
    """What it predicts (no target)."""
    rows: pa.Table
    """The suite's rows ``test`` holds, in its order: actuals and subgroups come from here."""


def model_frames(
    context: dg.AssetExecutionContext,
    run: CandidateRun,
    *,
    store: LakeStore,
    frames: SuiteFrames | None = None,
) -> ModelFrames:
    frames = frames or suite_frames(run, store)
    task, dataset = run.task, run.dataset
    if not run.transforms:
        return ModelFrames(
            train=frames.train.select(candidate_columns(task, dataset, train=True)),
            test=frames.test.select(candidate_columns(task, dataset, train=False)),
            rows=frames.test,
        )
    rid = row_id(task, dataset)
    last = stage_output(context, run, len(run.transforms) - 1, store=store, frames=frames).output
    return ModelFrames(
        train=with_target(last.train, frames.train, task.target, rid),
        test=last.test,
        rows=aligned(frames.test, last.test, rid),
    )


def predict(
    context: dg.AssetExecutionContext,
    run: CandidateRun,
    *,
    store: LakeStore,
    seeds: list[int],
    reference: pa.Table | None = None,
) -> tuple[runner.CandidateOutcome, pa.Table]:
    """The model stage fitted and predicting under each of ``seeds`` (out of process, at its
    commit), and the suite rows the predictions are for."""
    frames = model_frames(context, run, store=store)
    outcome = runner.run_candidate(
        context,
        candidate=str(run.key),
        worktree=run.model.git.checkout(run.sha),
        entrypoint=run.repository.entrypoint,
        task=run.task,
        parameters=run.parameters,
        train=frames.train,
        test=frames.test,
        timeout_seconds=run.repository.timeout_seconds or run.task.candidate_timeout_seconds,
        threads=run.task.candidate_threads,
        seeds=seeds,
        reference=reference,
    )
    return outcome, frames.rows

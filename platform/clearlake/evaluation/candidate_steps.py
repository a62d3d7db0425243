"""The steps of a candidate run as functions with explicit inputs and outputs.

The Dagster assets (``assets/evaluation/candidates.py``) call them in this order, each
once:

1. :func:`record_commit` of the model stage (before anything can fail: a crashing commit
   is still listed with its message and time), then :func:`predict_candidate` — the model
   stage (fed by the pipeline's stage outputs) predicts the test suite;
2. :func:`score_candidate` — metrics overall and per subgroup with intervals;
3. :func:`compare_candidate` — the baseline resolved (waiting for an unfinished one), its
   predictions on the candidate's rows, its seed spread, seed runs bought while a verdict
   is seed-limited: the comparison frame;
4. :func:`decide_gate` — the gate outcome of that frame;
5. the comparison asset then records the materialisation (the truth: baselines are
   decided from the event log), :func:`record_for_display` refreshes the caches readers
   without an instance use (the gate JSON, the candidate index), the blocking check is
   reported, and :func:`announce` tells the notifiers.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa

from clearlake.evaluation import (
    baseline,
    calibration,
    candidate_index,
    candidates,
    gate,
    notify,
    predictions,
    scoring,
    seeds,
    sequential,
    windows,
)
from clearlake.evaluation.candidate_run import CandidateRun, predict
from clearlake.evaluation.candidates import changed_stages
from clearlake.evaluation.gate import GateOutcome
from clearlake.evaluation.git import CommitInfo
from clearlake.evaluation.metrics import Metric
from clearlake.evaluation.runner import CandidateOutcome
from clearlake.evaluation.suites import row_id
from clearlake.lake.store import LakeStore
from clearlake.project.load import Project
from clearlake.settings import Settings


@dataclass(frozen=True)
class Predicted:
    table: pa.Table
    outcome: CandidateOutcome


def stage_commits(run: CandidateRun) -> dict[str, CommitInfo]:
    """Each stage's commit (stage order; the model stage last)."""
    return {s.name: s.git.commit_info(s.sha) for s in run.stages}


def predict_candidate(
    context: dg.AssetExecutionContext, run: CandidateRun, *, store: LakeStore
) -> Predicted:
    outcome, rows = predict(context, run, store=store, seeds=[run.task.seeds.seed])
    table = predictions.predictions_table(
        rows, outcome.predictions, task=run.task, row_id=row_id(run.task, run.dataset)
    )
    return Predicted(table, outcome)


def record_commit(store: LakeStore, run: CandidateRun, info: CommitInfo) -> None:
    """The model stage's commit, kept for display (leaderboard, reports) without git; the
    index row lets the leaderboard list the candidate before it is scored."""
    candidates.save_commit_info(store, str(run.key), info)
    candidate_index.index_candidate(store, run.task_name, str(run.key), commit=info)


def record_scores(store: LakeStore, run: CandidateRun, scores: pd.DataFrame) -> None:
    """The candidate index row with its scores (display cache)."""
    candidate_index.index_candidate(
        store,
        run.task_name,
        str(run.key),
        commit=candidates.recorded_commit_info(store, str(run.key)),
        scores=scores,
    )


@dataclass(frozen=True)
class Scored:
    frame: pd.DataFrame
    table: pa.Table
    overall: dict[str, float]


def score_candidate(predicted: pd.DataFrame, *, run: CandidateRun, metrics: list[Metric]) -> Scored:
    scores = scoring.score_predictions(predicted, run.task, metrics)
    overall = scores[scores["subgroup_kind"] == "overall"].set_index("metric")["value"]
    return Scored(
        scores,
        scoring.as_table(scores, scoring.SCORES_SCHEMA),
        {str(m): float(v) for m, v in overall.items()},
    )


@dataclass(frozen=True)
class Compared:
    frame: pd.DataFrame
    baseline: baseline.ResolvedBaseline
    seed_note: str = ""
    seed_warning: str = ""
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    """``seed_budget``, ``interval`` and the row counts (comparison metadata)."""
    seconds: float = 0.0


def find_baseline(
    instance: dg.DagsterInstance,
    run: CandidateRun,
    *,
    comparison: dg.AssetKey,
    is_known: Callable[[str], bool],
) -> baseline.ResolvedBaseline:
    """The baseline the gate compares with (waiting up to ``baseline_wait_seconds`` for an
    unfinished one): a single repository's policy, or a combination's parent combination."""
    if not run.key.is_pipeline:
        return baseline.resolve_baseline(
            instance,
            run.resolved,
            comparison=comparison,
            timeout_seconds=run.task.baseline_wait_seconds,
        )
    return baseline.resolve_combination_baseline(
        instance,
        run.key,
        [baseline.StageAt(s.name, s.git, s.sha) for s in run.stages],
        comparison=comparison,
        timeout_seconds=run.task.baseline_wait_seconds,
        is_known=is_known,
    )


def compare_candidate(
    context: dg.AssetExecutionContext,
    run: CandidateRun,
    resolved: baseline.ResolvedBaseline,
    *,
    project: Project,
    settings: Settings,
    store: LakeStore,
    baseline_predictions: pd.DataFrame | None,
    candidate_predictions: pd.DataFrame,
    candidate_scores: pd.DataFrame,
    metrics: list[Metric],
) -> Compared:
    """The candidate against ``resolved`` (its stored ``baseline_predictions``)."""
    started = time.perf_counter()
    if resolved.key is None or baseline_predictions is None:
        context.log.warning(f"{run.key}: no baseline ({resolved.note})")
        return Compared(scoring.without_baseline(candidate_scores), resolved)
    task_name, task = run.task_name, run.task
    base_frame = windows.baseline_on_window(  # a rolling test suite may have moved
        context,
        project=project,
        task_name=task_name,
        key=resolved.key,
        store=store,
        baseline_predictions=baseline_predictions,
        candidate_predictions=candidate_predictions,
        settings=settings,
    )
    spread = seeds.baseline_spread(
        context,
        project=project,
        task_name=task_name,
        key=resolved.key,
        store=store,
        baseline_predictions=base_frame,
        metrics=metrics,
        settings=settings,
    )
    bought = sequential.buy_seed_runs(
        context,
        project=project,
        task_name=task_name,
        store=store,
        sides=(resolved.key, str(run.key)),
        frames=(base_frame, candidate_predictions),
        spread=spread,
        metrics=metrics,
        settings=settings,
    )
    compared, noise = bought.comparison, bought.noise
    return Compared(
        frame=compared.frame,
        baseline=resolved,
        seed_note="; ".join(t for t in (spread.note, noise.method) if t),
        seed_warning=seeds.ignored_seed_warning(spread, run.repository.name),
        extra={
            "seed_budget": bought.note(task.seeds.budget_runs),
            "interval": compared.interval,
            "rows_compared": compared.rows_compared,
            "rows_only_candidate": compared.rows_only_candidate,
            "rows_only_baseline": compared.rows_only_baseline,
        },
        seconds=time.perf_counter() - started,
    )


def decide_gate(
    run: CandidateRun, compared: Compared, *, store: LakeStore, calibration_key: dg.AssetKey
) -> GateOutcome:
    """The gate outcome, with the task's latest calibrated false-alarm rate (the asset
    ``calibration_key``)."""
    rate, source = calibration.false_alarm(store, calibration_key)
    return gate.decide(
        compared.frame,
        task=run.task,
        task_name=run.task_name,
        candidate=str(run.key),
        baseline=compared.baseline.key,
        baseline_note=compared.baseline.note,
        baseline_via=compared.baseline.via,
        no_baseline=run.repository.no_baseline,
        seed_note=compared.seed_note,
        seed_warning=compared.seed_warning,
        interval=compared.extra.get("interval", ""),
        seed_budget=compared.extra.get("seed_budget", ""),
        false_alarm_rate=rate,
        calibration=source,
    )


def record_for_display(
    store: LakeStore,
    run: CandidateRun,
    outcome: GateOutcome,
    *,
    scores: pd.DataFrame,
    comparison: pd.DataFrame,
) -> None:
    """Caches for readers without a Dagster instance (CI, the gallery, the compare view):
    the outcome JSON and the candidate index row. The comparison's materialisation holds
    the same outcome and is what baselines are decided from."""
    gate.save_outcome(store, run.task_name, outcome)
    candidate_index.index_candidate(
        store,
        run.task_name,
        str(run.key),
        commit=candidates.recorded_commit_info(store, str(run.key)),
        scores=scores,
        comparison=comparison,
        outcome=outcome,
    )


def announce(run: CandidateRun, outcome: GateOutcome, *, page: str, log: notify.Log) -> None:
    """Tell the notifiers of each stage the comparison attributes the change to (every
    stage that differs from the baseline; the model stage when there is none)."""
    changed = (
        {c.repo for c in changed_stages(run.key, outcome.baseline)} if outcome.baseline else set()
    )
    for stage in run.stages:
        if stage.name in changed or (not changed and stage is run.model):
            notify.notify_all(stage.repository, outcome, sha=stage.sha, target_url=page, log=log)

"""The baseline's seed-to-seed spread: training randomness measured, cached per baseline.

A comparison needs to know how much its baseline moves when only its seed changes. The
baseline is re-run ``task.seeds.runs`` times (seeds ``seed+1…``) in one child process and
the standard deviation of every metric in every subgroup across its runs (its original
evaluation included) is stored at ``<lake>/evaluation/<task>/seed_spread/<key>.json``:
every later candidate compared with that baseline reuses it, so a baseline is re-run once,
not once per candidate.

Three outcomes, each named in the verdict and the report:

* *measured*: a standard deviation per metric and subgroup (``scoring`` adds it);
* *deterministic*: the first seed run reproduces the baseline exactly and the algorithm
  takes the platform's seed — one extra fit, zero spread;
* *unmeasurable*: identical runs from an algorithm whose ``fit`` takes no seed — it may fix
  its own (``random_state=0``), so its randomness is unknown: said, naming the repository,
  rather than guessed as zero. (An algorithm that accepts the seed but ignores it cannot be
  told apart from a deterministic one; the contract asks it to use the seed.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa

from clearlake.evaluation import candidates, runner, scoring
from clearlake.evaluation.candidates import read_json, write_json
from clearlake.evaluation.metrics import Metric
from clearlake.evaluation.predictions import PREDICTION
from clearlake.evaluation.suites import row_id
from clearlake.lake.store import LakeStore
from clearlake.project.load import Project
from clearlake.settings import load_settings


@dataclass(frozen=True)
class SeedSpread:
    frame: pd.DataFrame | None
    """``scoring.SPREAD_SCHEMA`` columns; None when nothing could be measured."""
    note: str
    kind: str
    """``measured`` | ``deterministic`` | ``unmeasurable`` | ``off``."""


def ignored_seed_warning(spread: SeedSpread, repository: str) -> str:
    """The warning every surface shows when ``repository``'s algorithm ignores the seed."""
    if spread.kind != "unmeasurable":
        return ""
    return (
        f"seed ignored: {repository}'s fit takes no seed and reproduced exactly under "
        "another, so its training randomness is not in this verdict (take fit(train, seed) "
        "and use it)"
    )


def spread_path(store: LakeStore, task: str, key: str) -> str:
    return f"{store.table_dir(f'evaluation/{task}/seed_spread')}/{key}.json"


def _cached(store: LakeStore, path: str, settings_key: dict[str, Any]) -> SeedSpread | None:
    found = read_json(store, path)
    if found is None or found.get("settings") != settings_key:
        return None
    frame = pd.DataFrame(found["spread"], columns=scoring.SPREAD_SCHEMA.names)
    return SeedSpread(frame if len(frame) else None, str(found["note"]), str(found["kind"]))


def baseline_spread(
    context: dg.AssetExecutionContext,
    *,
    project: Project,
    task_name: str,
    key: str,
    store: LakeStore,
    baseline_predictions: pd.DataFrame,
    metrics: list[Metric],
) -> SeedSpread:
    """The cached spread of baseline ``key``, measured now if it never was."""
    task = project.task(task_name)
    config = task.seeds
    if config.runs == 0:
        return SeedSpread(None, "not measured (the task declares seeds.runs: 0)", "off")
    settings_key = {"seed": config.seed, "runs": config.runs, "task": task.model_dump_json()}
    path = spread_path(store, task_name, key)
    cached = _cached(store, path, settings_key)
    if cached is not None:
        context.log.info(f"seed spread of {key}: cached ({cached.kind})")
        return cached
    spread = measure(
        context,
        project=project,
        task_name=task_name,
        key=key,
        store=store,
        baseline_predictions=baseline_predictions,
        metrics=metrics,
    )
    records = [] if spread.frame is None else spread.frame.to_dict("records")
    write_json(
        store,
        path,
        {"settings": settings_key, "note": spread.note, "kind": spread.kind, "spread": records},
    )
    return spread


def measure(
    context: dg.AssetExecutionContext,
    *,
    project: Project,
    task_name: str,
    key: str,
    store: LakeStore,
    baseline_predictions: pd.DataFrame,
    metrics: list[Metric],
) -> SeedSpread:
    """Run the baseline under ``seed+1…seed+runs`` (stopping early when deterministic)."""
    task = project.task(task_name)
    seeds = [task.seeds.seed + i for i in range(1, task.seeds.runs + 1)]
    runs = seeded_runs(
        context,
        project=project,
        task_name=task_name,
        key=key,
        store=store,
        predictions=baseline_predictions,
        seeds=seeds,
    )
    if runs.identical and not runs.takes_seed:
        note = (
            f"cannot be measured: repository {runs.repository}'s algorithm takes no "
            f"seed (fit(train, seed)) and gave identical predictions under seeds "
            f"{task.seeds.seed} and {seeds[0]}; if it fixes its own seed, its training "
            "randomness is not in this verdict"
        )
        return SeedSpread(None, note, "unmeasurable")
    if runs.identical:
        note = (
            f"deterministic: {key} reproduced its predictions exactly under seed {seeds[0]} "
            "(zero spread)"
        )
        return SeedSpread(None, note, "deterministic")
    frames = [baseline_predictions, *runs.frames]
    spread = scoring.seed_spread(frames, task, metrics)
    overall = spread[(spread["metric"] == task.primary) & (spread["subgroup_kind"] == "overall")]
    sd = float(overall["seed_sd"].iloc[0]) if len(overall) else float("nan")
    note = (
        f"measured on {len(frames)} runs of {key} (seeds {task.seeds.seed}, "
        f"{', '.join(map(str, seeds))}): {task.primary} overall varies by sd {sd:.4g} from "
        "the seed alone"
    )
    context.log.info(f"seed spread of {key}: {note}; {runs.fit_seconds:.3g} s fit")
    return SeedSpread(spread, note, "measured")


@dataclass(frozen=True)
class SeededRuns:
    frames: list[pd.DataFrame]
    """One predictions frame per run: the stored rows, with that run's predictions."""
    identical: bool
    """The last run reproduced the stored predictions exactly (the runs stopped there)."""
    takes_seed: bool
    repository: str
    fit_seconds: float


def seeded_runs(
    context: dg.AssetExecutionContext,
    *,
    project: Project,
    task_name: str,
    key: str,
    store: LakeStore,
    predictions: pd.DataFrame,
    seeds: list[int],
) -> SeededRuns:
    """Candidate ``key`` refitted under each of ``seeds`` in one child process, as frames
    shaped like its stored ``predictions`` (what a baseline's seed runs and the gate's A/A
    calibration both need); the first run that reproduces them ends the runs."""
    task, settings = project.task(task_name), load_settings()
    dataset = project.feature(task.dataset)
    base = candidates.resolve_candidate(key, project=project, settings=settings, store=store)
    worktree = base.git.checkout(base.sha)
    reference = None
    if task.type != "multiclass":
        reference = pa.table({PREDICTION: predictions[PREDICTION].to_numpy(dtype=float)})
    outcome, test = runner.run_on_suites(
        context,
        key=key,
        candidate=base,
        worktree=worktree,
        task_name=task_name,
        task=task,
        dataset=dataset,
        store=store,
        seeds=seeds,
        reference=reference,
    )
    order = test.select([row_id(task, dataset)]).to_pandas()[row_id(task, dataset)].astype(str)
    by_row = predictions.set_index("row_id")
    frames = []
    for values in outcome.runs:
        frame = by_row.loc[order].reset_index()
        frame[PREDICTION] = list(values) if values.ndim == 2 else values
        frames.append(frame)
    return SeededRuns(
        frames=frames,
        identical=outcome.identical,
        takes_seed=outcome.takes_seed,
        repository=base.repository.name,
        fit_seconds=outcome.fit_seconds,
    )

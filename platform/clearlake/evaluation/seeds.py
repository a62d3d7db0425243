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

A few runs estimate a variance badly: from three, the sample sd was 4-7x below the spread
measured across 21 seed-only commits in some subgroups, and 5 of 21 such commits got a
significant row (declared 5%). So a verdict uses :func:`seed_noise`: the runs of both sides
where they exist, pooled over the repository's recent commits (same task and seed
settings), and the one-sided upper confidence bound of that variance given its degrees of
freedom — few runs widen the interval, never narrow it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow as pa

from clearlake.evaluation import candidate_run, scoring
from clearlake.evaluation.candidates import CandidateKey, read_json, write_json
from clearlake.evaluation.metrics import Metric
from clearlake.evaluation.predictions import PREDICTION
from clearlake.evaluation.suites import row_id
from clearlake.lake.store import LakeStore
from clearlake.project.config import TaskConfig
from clearlake.project.load import Project
from clearlake.settings import Settings, load_settings


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
        "another; any training randomness it fixes itself is not in this verdict (take "
        "fit(train, seed) and use it)"
    )


def _settings_key(task: TaskConfig) -> dict[str, Any]:
    return {"seed": task.seeds.seed, "runs": task.seeds.runs, "task": task.model_dump_json()}


POOL_LIMIT = 20
"""At most this many of a repository's most recent measured spreads are pooled: the cost of
a verdict stays flat however long the history."""
KEYS = ["metric", "subgroup_kind", "subgroup"]


@dataclass(frozen=True)
class SeedNoise:
    frame: pd.DataFrame | None
    """``scoring.SPREAD_SCHEMA``: ``seed_sd`` is the upper bound used, ``runs`` all runs."""
    method: str
    """Which estimate, from how many runs and commits, at which level (empty: none)."""


def seed_noise(
    store: LakeStore,
    *,
    task_name: str,
    task: TaskConfig,
    spread: SeedSpread,
    sides: Sequence[str],
    extra: Sequence[pd.DataFrame] = (),
) -> SeedNoise:
    """The seed sd a comparison of ``sides`` (baseline first) uses: the upper confidence
    bound of the variance pooled from the measured spreads of the sides and, with
    ``seeds.pool``, of their repository's recent commits; never below the baseline's own
    sample variance (pooling must not hide a commit noisier than its siblings)."""
    if spread.frame is None or spread.frame.empty:
        return SeedNoise(spread.frame, "")
    level = task.seeds.upper_bound_level
    frames, used = _measured_spreads(store, task_name=task_name, task=task, sides=sides)
    if not frames:
        frames, used = [spread.frame], [sides[0]]
    frame, pooled = upper_bound([*frames, *extra], own=spread.frame, level=level)
    primary = (frame["metric"] == task.primary) & (frame["subgroup_kind"] == "overall")
    first = pooled[primary.to_numpy()]
    df = int(first["df"].iloc[0]) if len(first) else 0
    measured = float(np.sqrt(first["ss"].iloc[0] / df)) if df else float("nan")
    upper = float(frame.loc[primary, "seed_sd"].iloc[0]) if primary.any() else float("nan")
    scope = (
        f"{len(used)} commit(s) ({', '.join(used)})"
        if len(used) <= 3
        else (f"{len(used)} recent commits of {CandidateKey.parse(used[0]).repo}")
    )
    if extra:
        scope += f" and the seed runs bought for this comparison ({len(extra)} spread(s))"
    method = (
        f"seed sd = one-sided {1 - level:.0%} chi-square upper bound of the seed variance "
        f"pooled over {scope}, {df} degrees of freedom: {task.primary} overall sd "
        f"{measured:.4g} measured, {upper:.4g} used"
    )
    return SeedNoise(frame, method)


def upper_bound(
    frames: Sequence[pd.DataFrame], *, own: pd.DataFrame, level: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spread frames (``SPREAD_SCHEMA``) pooled per metric and subgroup, each row's seed sd
    the one-sided ``1 - level`` chi-square upper bound ``sqrt(ss / χ²(level, df))`` of the
    pooled variance (``ss = Σ(runs-1)·sd²``, ``df = Σ(runs-1)``), never below ``own``'s
    sample sd; also the pooled ``df`` and ``ss`` per row."""
    # Imported here: scipy.stats costs ~1 s to import (2.7 s under load), and this module
    # is imported by every load of the code location (each run and each step process).
    from scipy.stats import chi2

    every = pd.concat(list(frames), ignore_index=True)
    every["df"] = (every["runs"] - 1).clip(lower=0)
    every["ss"] = every["df"] * every["seed_sd"].astype(float) ** 2
    pooled = every.groupby(KEYS, sort=False).agg(df=("df", "sum"), ss=("ss", "sum")).reset_index()
    own_variance = own.set_index(KEYS)["seed_sd"].astype(float) ** 2
    bound = np.where(
        pooled["df"] > 0,
        pooled["ss"] / chi2.ppf(level, pooled["df"].clip(lower=1)),
        np.nan,
    )
    floor = own_variance.reindex(pd.MultiIndex.from_frame(pooled[KEYS])).fillna(0.0).to_numpy()
    variance = np.fmax(np.nan_to_num(bound, nan=0.0), floor)
    frame = pooled[KEYS].assign(seed_sd=np.sqrt(variance), runs=(pooled["df"] + 1).astype(int))
    return frame[list(own.columns)], pooled


def _measured_spreads(
    store: LakeStore, *, task_name: str, task: TaskConfig, sides: Sequence[str]
) -> tuple[list[pd.DataFrame], list[str]]:
    """The cached measured spreads to pool (current settings only), and whose they are."""
    table = f"evaluation/{task_name}/seed_spread"
    listed = store.list_files(table, ".json")
    repos = {CandidateKey.parse(key).repo for key in sides}
    if task.seeds.pool:

        def age(key: str) -> float:
            mtime = listed[key]
            return mtime.timestamp() if mtime is not None else 0.0

        recent = sorted(listed, key=age, reverse=True)
        chosen = [k for k in sides if k in listed]
        chosen += [k for k in recent if k not in chosen and k.split("@")[0] in repos]
        chosen = chosen[:POOL_LIMIT]
    else:
        chosen = [k for k in sides if k in listed]
    settings_key = _settings_key(task)
    frames, used = [], []
    for key in chosen:
        cached = _cached(store, spread_path(store, task_name, key), settings_key)
        if cached is not None and cached.kind == "measured" and cached.frame is not None:
            frames.append(cached.frame)
            used.append(key)
    return frames, used


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
    settings: Settings | None = None,
) -> SeedSpread:
    """The cached spread of baseline ``key``, measured now if it never was."""
    task = project.task(task_name)
    config = task.seeds
    if config.runs == 0:
        return SeedSpread(None, "not measured (the task declares seeds.runs: 0)", "off")
    settings_key = _settings_key(task)
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
        settings=settings,
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
    settings: Settings | None = None,
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
        settings=settings,
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
    settings: Settings | None = None,
) -> SeededRuns:
    """Candidate ``key`` refitted under each of ``seeds`` in one child process, as frames
    shaped like its stored ``predictions`` (what a baseline's seed runs and the gate's A/A
    calibration both need); the first run that reproduces them ends the runs. A pipeline
    candidate refits its model stage on its stored transform outputs."""
    task = project.task(task_name)
    dataset = project.feature(task.dataset)
    base = candidate_run.resolve_run(
        key, project=project, settings=settings or load_settings(), store=store
    )
    reference = None
    if task.type != "multiclass":
        reference = pa.table({PREDICTION: predictions[PREDICTION].to_numpy(dtype=float)})
    outcome, test = candidate_run.predict(
        context, base, store=store, seeds=seeds, reference=reference
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

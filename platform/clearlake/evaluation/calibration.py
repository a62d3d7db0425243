"""A/A calibration of a task's gate: how often it blocks for nothing, and what it can see.

The task's champion is compared with itself, so every alarm is false:

* **Baseline**: the champion's stored predictions (seed ``seeds.seed``) with its seed
  spread — the cached one a seed-only child commit's verdict uses (:mod:`.seeds`),
  measured now if it never was, through the same pooled upper bound
  (:func:`.seeds.seed_noise`) a verdict applies.
* **Trials**: the champion refitted under fresh seeds ``seed+runs+1…`` (none of them in the
  spread), each compared with the baseline through the gate's own code
  (``scoring.compare_predictions``, ``gate.decide``) on other bootstrap resamples (the
  bootstrap seed plus the trial number): what a harmless refactor of the champion gets.
* **Measured**: the share of trials the gate blocks, the share of rows (metric x subgroup)
  flagged regressed or improved, and each row's mean minimum detectable effect. That MDE
  holds for a change that moves each row no more than a reseeded fit does; real changes
  usually move rows more and need a larger effect.

Refits are cached per champion, task configuration and seed (``<lake>/evaluation/<task>/
seed_runs/``): a scheduled re-calibration of an unchanged champion fits nothing. A champion
whose refit reproduces its predictions exactly (deterministic, or fixing its own seed)
stops after one fit: identical predictions cannot raise an alarm and measure no MDE, which
the result says instead of reporting zeros.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow as pa

from clearlake.evaluation import gate, scoring, seeds
from clearlake.evaluation.candidates import CandidateKey
from clearlake.evaluation.errors import CalibrationError
from clearlake.evaluation.metrics import Metric, lower_is_better
from clearlake.lake.json_records import read_json, write_json
from clearlake.lake.store import LakeStore
from clearlake.project.config import TaskConfig
from clearlake.project.load import Project
from clearlake.versioning import json_version

CALIBRATION_SCHEMA = pa.schema(
    [
        ("metric", pa.string()),
        ("subgroup_kind", pa.string()),
        ("subgroup", pa.string()),
        ("n_rows", pa.int64()),
        ("trials", pa.int64()),
        ("false_alarms", pa.int64()),
        ("false_alarm_rate", pa.float64()),
        ("baseline_value", pa.float64()),
        ("min_effect", pa.float64()),
        ("mde", pa.float64()),
        ("mde_relative", pa.float64()),
        ("detects_min_effect", pa.bool_()),
    ]
)
SUMMARY_FILE = "latest.json"
"""Beside the asset's ``data.parquet``: what the gallery and the CLI print."""


@dataclass(frozen=True)
class SubgroupRow:
    """The primary metric in one subgroup: what the gallery shows next to the task."""

    subgroup: str
    n_rows: int
    false_alarms: int
    mde: float
    mde_relative: float
    min_effect: float
    detects: bool | None
    """MDE at or below the minimum effect; None when no MDE could be measured."""

    def cells(self, trials: int) -> dict[str, str]:
        if np.isfinite(self.mde):
            mde = f"{self.mde:.4g} ({self.mde_relative:.1%})"
        else:
            mde = "not measurable"
        power = {True: "detects it", False: "inconclusive", None: "—"}[self.detects]
        return {
            "subgroup": self.subgroup,
            "rows": str(self.n_rows),
            "false alarms": f"{self.false_alarms}/{trials}",
            "MDE": mde,
            "minimum effect": f"{self.min_effect:.4g}",
            "minimum effect is": power,
        }


@dataclass(frozen=True)
class Calibration:
    task: str
    champion: str
    trials: int
    seeds: list[int]
    kind: str
    """``measured`` (the refits differ) | ``identical`` (they reproduce the champion)."""
    note: str
    seed_note: str
    """How the champion's seed spread entered (``seeds.SeedSpread.note``)."""
    blocked: int
    subgroup_rows: int
    subgroup_false_alarms: int
    declared_level: float
    primary: str
    fits: int
    """Refits run now (the rest came from the cache)."""
    calibrated_at: str
    subgroups: list[SubgroupRow] = field(default_factory=list)

    @property
    def false_alarm_rate(self) -> float:
        """Share of A/A trials the gate blocked."""
        return self.blocked / self.trials if self.trials else float("nan")

    @property
    def subgroup_false_alarm_rate(self) -> float:
        """Share of (trial, metric, subgroup) rows flagged regressed or improved."""
        return self.subgroup_false_alarms / self.subgroup_rows if self.subgroup_rows else 0.0

    def headline(self) -> str:
        """The one line the CLI, the asset's metadata and the gallery print."""
        start = f"A/A of {self.champion}, {self.trials} trials"
        if self.kind == "identical":
            return f"{start}: {self.note}; no false alarm possible, MDE not measurable"
        measured = [r for r in self.subgroups if r.detects is not None]
        blind = sum(1 for r in measured if not r.detects)
        mdes = [r.mde_relative for r in measured if np.isfinite(r.mde_relative)]
        spread = f"{min(mdes):.1%}–{max(mdes):.1%}" if mdes else "unmeasurable"
        return (
            f"{start}: {self.blocked}/{self.trials} blocked (false-alarm rate "
            f"{self.false_alarm_rate:.0%}), {self.subgroup_false_alarm_rate:.1%} of subgroup "
            f"rows flagged (declared level {self.declared_level:.0%}); {self.primary} MDE "
            f"{spread} of the baseline; {blind} of {len(measured)} groups (overall and "
            "subgroups) cannot detect the minimum effect"
        )

    def table_rows(self) -> list[dict[str, str]]:
        return [row.cells(self.trials) for row in self.subgroups]

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.update(
            summary=self.headline(),
            false_alarm_rate=self.false_alarm_rate,
            subgroup_false_alarm_rate=self.subgroup_false_alarm_rate,
        )
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Calibration:
        names = {f.name for f in dataclasses.fields(cls)} - {"subgroups"}
        rows = [SubgroupRow(**row) for row in data.get("subgroups", [])]
        return cls(subgroups=rows, **{k: v for k, v in data.items() if k in names})


def summary_path(store: LakeStore, key: dg.AssetKey) -> str:
    """The summary of the calibration asset ``key`` (``names.gate_calibration_key``)."""
    return f"{store.table_dir('/'.join(key.path))}/{SUMMARY_FILE}"


def save(store: LakeStore, key: dg.AssetKey, calibration: Calibration) -> str:
    path = summary_path(store, key)
    write_json(store, path, calibration.to_json())
    return path


def load(store: LakeStore, key: dg.AssetKey) -> Calibration | None:
    """The latest calibration stored for ``key`` (None: never calibrated)."""
    found = read_json(store, summary_path(store, key))
    return None if found is None else Calibration.from_json(found)


def false_alarm(store: LakeStore, key: dg.AssetKey) -> tuple[float | None, str]:
    """The latest calibrated false-alarm rate of a task and where it comes from, for every
    gate outcome (None: never calibrated)."""
    found = load(store, key)
    if found is None or not found.trials:
        return None, ""
    source = f"{found.blocked}/{found.trials} A/A trials of {found.champion} blocked"
    if found.kind == "identical":
        source += ", its refits reproduce it exactly"
    return found.false_alarm_rate, f"{source}, {found.calibrated_at[:10]}"


# -- the champion -----------------------------------------------------------------------


def evaluated_candidates(
    store: LakeStore,
    *,
    project: Project,
    task_name: str,
    scores: dg.AssetKey,
    predictions: dg.AssetKey,
) -> dict[str, float]:
    """Candidates of the task's repositories with stored predictions → their primary score."""
    task = project.task(task_name)
    repos = {r.name for r in project.repositories_of(task_name)}
    table = "/".join(scores.path)
    found = {}
    for key in store.list_partitions(table, prefix="key="):
        if CandidateKey.parse(key).repo not in repos or not _has_predictions(
            store, predictions, key
        ):
            continue
        frame = store.read_table(store.partition_file(table, f"key={key}")).to_pandas()
        overall = frame[(frame["metric"] == task.primary) & (frame["subgroup_kind"] == "overall")]
        if len(overall) and np.isfinite(overall["value"].iloc[0]):
            found[key] = float(overall["value"].iloc[0])
    return found


def choose_champion(
    store: LakeStore,
    *,
    project: Project,
    task_name: str,
    scores: dg.AssetKey,
    predictions: dg.AssetKey,
    champion: str | None = None,
) -> str:
    """``champion`` (checked), else the task's ``calibration.champion``, else its best
    evaluated candidate on the primary metric."""
    task = project.task(task_name)
    chosen = champion or task.calibration.champion
    repos = [r.name for r in project.repositories_of(task_name)]
    if chosen is not None:
        key = str(CandidateKey.parse(chosen))
        if not _has_predictions(store, predictions, key):
            parsed = CandidateKey.parse(key)
            raise CalibrationError(
                task_name,
                f"champion {key} has no stored predictions: evaluate it first (clearlake "
                f"submit --repo {parsed.repo} --commit {parsed.commit}) or choose an evaluated "
                "one",
            )
        return key
    scored = evaluated_candidates(
        store, project=project, task_name=task_name, scores=scores, predictions=predictions
    )
    if not scored:
        where = ", ".join(repos) or "(no repository is registered for it)"
        raise CalibrationError(
            task_name,
            f"no evaluated candidate yet: evaluate one first (a commit to {where}, or clearlake "
            "submit --repo REPO --commit SHA), then calibrate",
        )
    pick = min if lower_is_better(task, task.primary) else max
    return pick(sorted(scored), key=lambda k: scored[k])


def _has_predictions(store: LakeStore, predictions: dg.AssetKey, key: str) -> bool:
    return store.exists(store.partition_file("/".join(predictions.path), f"key={key}"))


# -- trials -----------------------------------------------------------------------------


def trial_seeds(task: TaskConfig, trials: int) -> list[int]:
    """Fresh seeds: after the evaluation's own and the baseline seed runs'."""
    first = task.seeds.seed + task.seeds.runs
    return [first + t for t in range(1, trials + 1)]


def with_bootstrap_seed(task: TaskConfig, seed: int) -> TaskConfig:
    bootstrap = task.verdict.bootstrap.model_copy(update={"seed": seed})
    return task.model_copy(
        update={"verdict": task.verdict.model_copy(update={"bootstrap": bootstrap})}
    )


def compare_trials(
    champion: pd.DataFrame,
    runs: Sequence[pd.DataFrame],
    *,
    task: TaskConfig,
    task_name: str,
    key: str,
    metrics: list[Metric],
    spread: pd.DataFrame | None,
) -> tuple[pd.DataFrame, int]:
    """Each run against ``champion`` as the gate decides it: the per-row table
    (:data:`CALIBRATION_SCHEMA`) and how many trials the gate blocked."""
    blocked = 0
    frames = []
    for trial, run in enumerate(runs, start=1):
        trial_task = with_bootstrap_seed(task, task.verdict.bootstrap.seed + trial)
        compared = scoring.compare_predictions(
            run, champion, trial_task, metrics, seed_spread=spread
        ).frame
        outcome = gate.decide(
            compared,
            task=trial_task,
            task_name=task_name,
            candidate=f"{key} (A/A trial {trial})",
            baseline=key,
            baseline_note=f"A/A: {key} against itself",
        )
        blocked += outcome.status == gate.BLOCKED
        frames.append(compared.assign(trial=trial))
    every = pd.concat(frames, ignore_index=True)
    every["flagged"] = every["verdict"].isin([scoring.REGRESSED, scoring.IMPROVED])
    grouped = every.groupby(["metric", "subgroup_kind", "subgroup"], sort=False)
    table = grouped.agg(
        n_rows=("n_rows", "first"),
        trials=("trial", "nunique"),
        false_alarms=("flagged", "sum"),
        baseline_value=("baseline_value", "mean"),
        min_effect=("min_effect", "mean"),
        mde=("mde", "mean"),
    ).reset_index()
    table["false_alarm_rate"] = table["false_alarms"] / table["trials"]
    table["mde_relative"] = table["mde"] / table["baseline_value"].abs()
    table["detects_min_effect"] = table["mde"] <= table["min_effect"]
    return table[CALIBRATION_SCHEMA.names], blocked


def summarise(
    table: pd.DataFrame,
    *,
    task: TaskConfig,
    task_name: str,
    key: str,
    blocked: int,
    trial_seed_list: list[int],
    kind: str,
    note: str,
    seed_note: str,
    fits: int,
) -> Calibration:
    subgroup_part = table[table["subgroup_kind"] != "overall"]
    primary = table[table["metric"] == task.primary]
    identical = kind == "identical"
    rows = [
        SubgroupRow(
            subgroup=_label(str(r["subgroup_kind"]), str(r["subgroup"])),
            n_rows=int(r["n_rows"]),
            false_alarms=int(r["false_alarms"]),
            mde=float("nan") if identical else float(r["mde"]),
            mde_relative=float("nan") if identical else float(r["mde_relative"]),
            min_effect=float(r["min_effect"]),
            detects=None if identical else bool(r["detects_min_effect"]),
        )
        for r in primary.to_dict("records")
    ]
    return Calibration(
        task=task_name,
        champion=key,
        trials=len(trial_seed_list),
        seeds=trial_seed_list,
        kind=kind,
        note=note,
        seed_note=seed_note,
        blocked=blocked,
        subgroup_rows=int(subgroup_part["trials"].sum()),
        subgroup_false_alarms=int(subgroup_part["false_alarms"].sum()),
        declared_level=round(1.0 - task.verdict.bootstrap.confidence, 6),
        primary=task.primary,
        fits=fits,
        calibrated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        subgroups=rows,
    )


def _label(kind: str, subgroup: str) -> str:
    return "overall" if kind == "overall" else f"{kind}={subgroup}"


def calibrate(
    context: dg.AssetExecutionContext,
    *,
    project: Project,
    task_name: str,
    store: LakeStore,
    champion: str,
    trials: int,
    predictions: dg.AssetKey,
    metrics: list[Metric],
) -> tuple[Calibration, pd.DataFrame]:
    """Run the A/A trials of ``champion`` (an evaluated candidate key of the task)."""
    task = project.task(task_name)
    if not 2 <= trials <= 200:
        raise CalibrationError(task_name, f"trials must be between 2 and 200, not {trials}")
    path = store.partition_file("/".join(predictions.path), f"key={champion}")
    frame = store.read_table(path).to_pandas()
    spread = seeds.baseline_spread(
        context,
        project=project,
        task_name=task_name,
        key=champion,
        store=store,
        baseline_predictions=frame,
        metrics=metrics,
    )
    noise = seeds.seed_noise(
        store, task_name=task_name, task=task, spread=spread, sides=[champion]
    )  # the estimate every verdict uses, upper bound included
    wanted = trial_seeds(task, trials)
    runs, note, fits = _refits(
        context,
        project=project,
        task_name=task_name,
        key=champion,
        store=store,
        predictions=frame,
        wanted=wanted,
        spread=spread,
    )
    kind = "identical" if runs is None else "measured"
    table, blocked = compare_trials(
        frame,
        [frame] if runs is None else runs,
        task=task,
        task_name=task_name,
        key=champion,
        metrics=metrics,
        spread=noise.frame,
    )
    if runs is None:  # one structural comparison: zero alarms over every trial, no MDE
        table = table.assign(trials=trials, mde=np.nan, mde_relative=np.nan)
        table["detects_min_effect"] = None
    result = summarise(
        table,
        task=task,
        task_name=task_name,
        key=champion,
        blocked=blocked,
        trial_seed_list=wanted,
        kind=kind,
        note=note,
        seed_note="; ".join(t for t in (spread.note, noise.method) if t),
        fits=fits,
    )
    context.log.info(result.headline())
    return result, table


def runs_table(task_name: str, key: str, task: TaskConfig) -> str:
    """Where the refits of ``key`` under this task configuration are cached."""
    version = json_version(task.model_dump(mode="json"))[:12]
    return f"evaluation/{task_name}/seed_runs/{key}/{version}"


def _refits(
    context: dg.AssetExecutionContext,
    *,
    project: Project,
    task_name: str,
    key: str,
    store: LakeStore,
    predictions: pd.DataFrame,
    wanted: list[int],
    spread: seeds.SeedSpread,
) -> tuple[list[pd.DataFrame] | None, str, int]:
    """The champion's predictions under each seed of ``wanted`` (None: they reproduce the
    champion exactly), why, and how many fits that took now."""
    if spread.kind == "unmeasurable":
        return None, "it takes no seed and its seed runs reproduced it (it may fix its own)", 0
    if spread.kind == "deterministic":
        return None, "its seed runs reproduced it exactly (deterministic)", 0
    task = project.task(task_name)
    table = runs_table(task_name, key, task)
    manifest = f"{store.table_dir(table)}/manifest.json"
    known = read_json(store, manifest) or {}
    if known.get("identical"):
        return None, str(known["note"]), 0
    cached = {s: _cached_run(store, table, s) for s in wanted}
    missing = [s for s, frame in cached.items() if frame is None]
    fits = 0
    if missing:
        done = seeds.seeded_runs(
            context,
            project=project,
            task_name=task_name,
            key=key,
            store=store,
            predictions=predictions,
            seeds=missing,
        )
        fits = len(done.frames)
        if done.identical:
            note = (
                f"its refit under seed {missing[len(done.frames) - 1]} reproduced it exactly "
                "(deterministic, or it fixes its own seed)"
            )
            write_json(store, manifest, {"identical": True, "note": note})
            return None, note, fits
        for seed, frame in zip(missing, done.frames, strict=True):
            stored = pa.Table.from_pandas(frame, preserve_index=False)
            store.write(table, f"seed={seed}", stored.schema, stored.to_batches())
            cached[seed] = frame
    context.log.info(f"A/A refits of {key}: {fits} now, {len(wanted) - len(missing)} cached")
    runs = [cached[s] for s in wanted]
    return [r for r in runs if r is not None], "refits under other seeds differ", fits


def _cached_run(store: LakeStore, table: str, seed: int) -> pd.DataFrame | None:
    path = store.partition_file(table, f"seed={seed}")
    return store.read_table(path).to_pandas() if store.exists(path) else None

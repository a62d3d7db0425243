"""Report overhead: one ``candidate_report`` through Dagster vs the template run directly.

Side by side in one process, on the same comparison and predictions (20,000 predictions;
the comparison computed from them by the task's own comparison code), stored where the lake
IO manager keeps
``evaluation/arrival_delay/candidate_comparison`` and ``…/candidate_predictions``:

(a) direct: papermill executes ``notebooks/candidate_report.ipynb`` with the candidate and
    its inputs as parameters and nbconvert renders the page, called bare (no Clearlake);
(b) dagster: ``execute_job`` materialises ``reports/arrival_delay/candidate_report`` of the
    real definitions (``assets.definitions``) for that candidate, in process: a
    reconstructable job, so the report asset runs on dagstermill (its kernel, its context,
    provenance from the instance, ``.ipynb`` + HTML + record at the stable path);
(c) dagster, multiprocess: the same with Dagster's default executor (one step
    subprocess), as a run launched from the UI executes it;
(d) diagnostic: (b) with a root module that calls each domain's ``defs()`` instead of
    ``dg.load_defs`` (which snapshots the component library, ~0.4 s per domain, on every
    one of the ~4 definition loads of a run): what the root's loading costs each report.

Each variant runs ``CLEARLAKE_BENCH_REPEATS`` times (default 5) after one warm-up, in
rotating order; medians are compared. Target (issue 4): (b) ≤ 1.5 × (a).
Run: ``uv run python benchmarks/report_overhead.py``; results in
``benchmarks/results/report_overhead.json``. ``--smoke``: (a) and (b) once, no warm-up.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPEATS = int(os.environ.get("CLEARLAKE_BENCH_REPEATS", "5"))
TARGET_RATIO = 1.5
TASK = "arrival_delay"
CANDIDATE = "flight-delays@1a2b3c4"
CARRIERS = [f"C{i:02d}" for i in range(16)]
COMPARISON = f"evaluation/{TASK}/candidate_comparison"
PREDICTIONS = f"evaluation/{TASK}/candidate_predictions"


def comparison_frame(candidate: Any, baseline: Any) -> Any:
    """The real ``candidate_comparison`` of two prediction frames: the task's own metrics
    and subgroups of the default project, through the comparison code the asset runs."""
    from clearlake.evaluation.metrics import task_metrics
    from clearlake.evaluation.scoring import compare_predictions
    from clearlake.project.load import current_project
    from clearlake.settings import load_settings

    project = current_project(load_settings())
    task = project.task(TASK)
    metrics = task_metrics(task, lambda ref: project.load_object(ref, what="custom metric"))
    return compare_predictions(candidate, baseline, task, metrics).frame


def prepare_environment(home: Path) -> int:
    """An isolated local install holding one stored comparison (no lake data needed);
    return the comparison's row count."""
    import pyarrow as pa

    os.environ["CLEARLAKE_HOME"] = str(home)
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    os.environ.pop("CLEARLAKE_LAKE_URL", None)
    (home / "dagster").mkdir(parents=True)
    (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    from clearlake.lake.store import LakeStore
    from clearlake.settings import load_settings

    store = LakeStore(load_settings().lake_url)
    candidate, baseline = predictions_frame(noise=11.0, seed=11), predictions_frame(12.0, 12)
    comparison = comparison_frame(candidate, baseline)
    for key, frame in ((COMPARISON, comparison), (PREDICTIONS, candidate)):
        table = pa.Table.from_pandas(frame, preserve_index=False)
        store.write(key, f"key={CANDIDATE}", table.schema, table.to_batches())
    return len(comparison)


def predictions_frame(noise: float, seed: int, rows: int = 20_000) -> Any:
    """Predictions shaped like ``candidate_predictions`` with the task's subgroup columns
    (16 carriers, 3 origins, 3 months); the same rows and targets for every ``seed``."""
    import numpy as np
    import pandas as pd

    shared = np.random.default_rng(7)
    actual = shared.normal(5, 40, size=rows)
    frame = pd.DataFrame(
        {
            "row_id": [f"r{i}" for i in range(rows)],
            "carrier": shared.choice(CARRIERS, size=rows),
            "origin": shared.choice(["EWR", "JFK", "LGA"], size=rows),
            "month": shared.choice([1, 2, 3], size=rows),
            "actual": actual,
        }
    )
    frame["prediction"] = actual + np.random.default_rng(seed).normal(0, noise, size=rows)
    return frame


def direct(output: Path) -> Callable[[], None]:
    """papermill + nbconvert called bare: the floor any report engine is measured against."""
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    from clearlake.settings import PROJECT_ROOT

    template = PROJECT_ROOT / "notebooks" / "candidate_report.ipynb"
    output.mkdir(parents=True, exist_ok=True)
    parameters = {
        "candidate": CANDIDATE,
        "task": TASK,
        "inputs": {"comparison": COMPARISON, "predictions": PREDICTIONS},
    }

    def run() -> None:
        executed = output / "report.ipynb"
        papermill.execute_notebook(
            str(template), str(executed), parameters=parameters, progress_bar=False
        )
        notebook = nbformat.read(str(executed), as_version=4)  # type: ignore[no-untyped-call]
        exporter = HTMLExporter(template_name="lab", exclude_input=True)  # type: ignore[no-untyped-call]
        body, _ = exporter.from_notebook_node(notebook)
        (output / "report.html").write_text(body)

    return run


DIAGNOSTIC_ROOT = """
import importlib
import pkgutil

import dagster as dg

from assets.definitions import domain_names
from clearlake.orchestration.environment import executor_for, resources_for
from clearlake.settings import load_settings


def _domain(name):
    package = importlib.import_module(f"assets.{name}")
    for info in pkgutil.iter_modules(package.__path__):
        loader = getattr(importlib.import_module(f"assets.{name}.{info.name}"), "defs", None)
        if callable(loader):
            yield loader()


@dg.definitions
def defs():
    settings = load_settings()
    return dg.Definitions.merge(
        *(d for name in domain_names() for d in _domain(name)),
        dg.Definitions(resources=resources_for(settings), executor=executor_for(settings)),
    )
"""


def repository(root: Path | None) -> Any:
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    from clearlake.settings import PROJECT_ROOT

    if root is None:
        return ReconstructableRepository.for_module(
            "assets.definitions", "defs", working_directory=str(PROJECT_ROOT)
        )
    return ReconstructableRepository.for_file(
        str(root), "defs", working_directory=str(PROJECT_ROOT)
    )


def definitions_load_seconds(root: Path | None) -> float:
    """Median time of one (warm) load of the definitions, as a run does several times."""
    repo = repository(root)
    repo.get_definition()
    samples = []
    for _ in range(3):
        start = time.perf_counter()
        repo.get_definition()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def dagster(*, in_process: bool, root: Path | None = None) -> Callable[[], None]:
    import dagster as dg

    repo = repository(root)
    job = repo.get_reconstructable_job("__ASSET_JOB")
    instance = dg.DagsterInstance.get()
    instance.add_dynamic_partitions(f"candidates__{TASK}", [CANDIDATE])
    executor: dict[str, dict[str, object]] = (
        {"in_process": {}} if in_process else {"multiprocess": {}}
    )

    def run() -> None:
        result = dg.execute_job(
            job,
            instance,
            asset_selection=[dg.AssetKey(["reports", TASK, "candidate_report"])],
            tags={"dagster/partition": CANDIDATE},
            run_config={"execution": {"config": executor}},
        )
        assert result.success, result.run_id

    return run


def timed(run: Callable[[], None]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from harness import start

    run_ = start("report_overhead", __doc__, argv)
    repeats = 1 if run_.smoke else REPEATS
    with tempfile.TemporaryDirectory(prefix="clearlake-bench-reports-") as tmp:
        home = Path(tmp)
        comparison_rows = prepare_environment(home)
        diagnostic_root = home / "diagnostic_root.py"
        diagnostic_root.write_text(DIAGNOSTIC_ROOT)
        variants = {
            "direct_papermill_nbconvert": direct(home / "direct"),
            "dagster_in_process": dagster(in_process=True),
        }
        if not run_.smoke:
            variants["dagster_multiprocess"] = dagster(in_process=False)
            variants["diagnostic_in_process_root_without_load_defs"] = dagster(
                in_process=True, root=diagnostic_root
            )
        times: dict[str, list[float]] = {name: [] for name in variants}
        for run in variants.values() if not run_.smoke else []:
            run()  # warm-up: imports, kernel spec lookup, first definitions load
        names = list(variants)
        for round_ in range(repeats):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                times[name].append(timed(variants[name]))
                print(f"{name}: {times[name][-1]:.2f} s", file=sys.stderr)
        load_seconds = (
            {}
            if run_.smoke
            else {
                "assets.definitions": round(definitions_load_seconds(None), 3),
                "diagnostic_root_without_load_defs": round(
                    definitions_load_seconds(diagnostic_root), 3
                ),
            }
        )
    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians["direct_papermill_nbconvert"]
    result = {
        "benchmark": "report_overhead",
        "description": __doc__.split("\n\n")[0] if __doc__ else "",
        "template": "notebooks/candidate_report.ipynb",
        "comparison_rows": comparison_rows,
        "repeats": repeats,
        "seconds": {name: [round(v, 3) for v in values] for name, values in times.items()},
        "median_seconds": {name: round(v, 3) for name, v in medians.items()},
        "ratios_vs_direct": {
            name: round(v / base, 3)
            for name, v in medians.items()
            if name != "direct_papermill_nbconvert"
        },
        "definitions_load_seconds": load_seconds,
        "targets": {"dagster_in_process_vs_direct_max": TARGET_RATIO},
        "meets_target": medians["dagster_in_process"] / base <= TARGET_RATIO,
        "diagnostic_meets_target": (
            medians["diagnostic_in_process_root_without_load_defs"] / base <= TARGET_RATIO
            if "diagnostic_in_process_root_without_load_defs" in medians
            else None
        ),
        "notes": (
            "(a) is plain papermill; (b)-(d) run the report asset on dagstermill (a "
            "reconstructable job), whose kernel rebuilds a Dagster context: the overhead of (b) "
            "is Dagster's run machinery (definitions loads, event log), that context, the "
            "provenance lookups and the record/gallery files (benchmarks/report_render.py "
            "isolates dagstermill vs papermill)."
        ),
    }
    result = run_.finish(result)
    print(json.dumps(result["median_seconds"]), json.dumps(result["ratios_vs_direct"]))
    return result


if __name__ == "__main__":
    main()

"""Report render: one ``candidate_report`` through dagstermill vs through papermill.

Side by side in one process, on the stored comparison and predictions of
``report_overhead.py`` (20,000 predictions), each variant a real Dagster run of
``reports/arrival_delay/candidate_report`` for one candidate, with its ``.ipynb``, page,
record and metadata:

(a) papermill: the in-process twin (definitions built under
    ``clearlake.reports.engine.papermill_in_process``, ``dg.materialize``), as the demo,
    the command line and the tests run reports;
(b) dagstermill: the dagstermill asset through a reconstructable job
    (``assets.reports.in_process.materialize_report``, in-process executor), as Dagster's
    own runs execute it: the kernel rebuilds the run's context from the job's code
    pointer (``dagstermill.get_context()``) before the template's cells run.

Each variant runs ``CLEARLAKE_BENCH_REPEATS`` times (default 3) after one warm-up, in
rotating order; medians are compared. Target: none is set by the issue; what dagstermill
costs per report is recorded (``extra_seconds_per_report``) so that the choice to keep
in-process runs on papermill stays measured. ``--smoke``: each once, no warm-up.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPEATS = int(os.environ.get("CLEARLAKE_BENCH_REPEATS", "3"))
KEY = "reports/arrival_delay/candidate_report"


def papermill_variant() -> Callable[[], None]:
    import dagster as dg
    from report_overhead import CANDIDATE, TASK

    from assets.reports.report_assets import report_assets
    from clearlake.reports.engine import papermill_in_process

    with papermill_in_process():
        (asset,) = [a for a in report_assets() if dg.AssetKey.from_user_string(KEY) in a.keys]
    instance = dg.DagsterInstance.get()
    instance.add_dynamic_partitions(f"candidates__{TASK}", [CANDIDATE])

    def run() -> None:
        result = dg.materialize([asset], instance=instance, partition_key=CANDIDATE)
        assert result.success, result.run_id

    return run


def dagstermill_variant() -> Callable[[], None]:
    import dagster as dg
    from report_overhead import CANDIDATE, TASK

    from assets.reports.in_process import materialize_report

    instance = dg.DagsterInstance.get()
    instance.add_dynamic_partitions(f"candidates__{TASK}", [CANDIDATE])

    def run() -> None:
        result = materialize_report(KEY, instance, partition=CANDIDATE)
        assert result.success, result.run_id

    return run


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from harness import start
    from report_overhead import prepare_environment, timed

    run_ = start("report_render", __doc__, argv)
    repeats = 1 if run_.smoke else REPEATS
    with tempfile.TemporaryDirectory(prefix="clearlake-bench-render-") as tmp:
        comparison_rows = prepare_environment(Path(tmp))
        variants = {"papermill": papermill_variant(), "dagstermill": dagstermill_variant()}
        times: dict[str, list[float]] = {name: [] for name in variants}
        for run in variants.values() if not run_.smoke else []:
            run()  # warm-up: imports, kernel spec lookup, first definitions load
        names = list(variants)
        for round_ in range(repeats):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                times[name].append(timed(variants[name]))
                print(f"{name}: {times[name][-1]:.2f} s", file=sys.stderr)
    medians = {name: statistics.median(values) for name, values in times.items()}
    result = {
        "benchmark": "report_render",
        "description": __doc__.split("\n\n")[0] if __doc__ else "",
        "report": KEY,
        "comparison_rows": comparison_rows,
        "repeats": repeats,
        "seconds": {name: [round(v, 3) for v in values] for name, values in times.items()},
        "median_seconds": {name: round(v, 3) for name, v in medians.items()},
        "ratio_dagstermill_vs_papermill": round(medians["dagstermill"] / medians["papermill"], 3),
        "extra_seconds_per_report": round(medians["dagstermill"] - medians["papermill"], 3),
        "baseline": "papermill",
        "targets": {},
        "notes": (
            "dagstermill's kernel imports Dagster and the code location and rebuilds the run "
            "(definitions, execution plan, resources) before the template's first cell; "
            "papermill's kernel runs the template alone."
        ),
    }
    result = run_.finish(result)
    print(json.dumps(result["median_seconds"]), result["ratio_dagstermill_vs_papermill"])
    return result


if __name__ == "__main__":
    main()

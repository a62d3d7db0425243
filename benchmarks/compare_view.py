"""The compare page of two candidates on the holdout, beside one comparison materialisation.

On the demo's ``arrival_delay`` history (``clearlake demo`` into a fresh CLEARLAKE_HOME, or
the home given as the first argument): B = the regressing commit, A = its gated baseline.

* **compare page**: ``compare_candidates`` (stored predictions of both, the gate's deltas,
  commits, parameters, diff stat, provenance from the event log, the flip table with the
  holdout's feature values, slice discovery) + ``write_page`` (HTML + JSON), in process;
* **comparison asset**: one in-process materialisation of ``candidate_comparison`` for B
  (the asset the gate runs; its baseline's seed spread is cached by the demo, as in steady
  state).

Target: page ≤ 1× the asset. Run: ``uv run python benchmarks/compare_view.py [HOME]``
(``--smoke``: one repeat, written only to ``--out``; the demo it needs is still built).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import start

TASK = "arrival_delay"
REPEATS = 3


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog="benchmarks/compare_view.py", description=(__doc__ or "").strip().splitlines()[0]
    )
    parser.add_argument("home", nargs="?", type=Path, help="a CLEARLAKE_HOME the demo filled")
    run = start("compare_view", __doc__, argv, parser)
    home = run.extra.home or Path(tempfile.mkdtemp()) / "home"
    repeats = 1 if run.smoke else REPEATS
    os.environ["CLEARLAKE_HOME"] = str(home)
    if not (home / "lake").exists():
        subprocess.run([sys.executable, "-m", "clearlake.cli.main", "demo"], check=True)
    import dagster as dg

    from assets.definitions import defs
    from clearlake import names
    from clearlake.evaluation import compare, gate
    from clearlake.lake.store import LakeStore
    from clearlake.orchestration import runs
    from clearlake.orchestration.lineage import candidate_differences
    from clearlake.project.load import current_project
    from clearlake.reports import compare_page
    from clearlake.settings import ensure_dagster_home, load_settings

    settings = load_settings()
    ensure_dagster_home(settings)
    instance = dg.DagsterInstance.get()
    project, store = current_project(settings), LakeStore(settings.lake_url)
    blocked = [
        o
        for key in store.list_files(gate.gate_table(TASK), ".json")
        if (o := gate.load_outcome(store, TASK, key)) and o.status == gate.BLOCKED and o.baseline
    ]
    b = blocked[0].candidate
    a = str(blocked[0].baseline)
    paths = compare.ResultPaths(names.predictions_key(TASK).path, names.comparison_key(TASK).path)

    def page() -> float:
        started = time.perf_counter()
        result = compare.compare_candidates(
            project=project, settings=settings, store=store, task_name=TASK, a=a, b=b,
            paths=paths, event_log=candidate_differences(instance),
        )  # fmt: skip
        compare_page.write_page(settings.reports_root, result)
        return time.perf_counter() - started

    definitions = defs()

    def asset() -> float:
        started = time.perf_counter()
        done = runs.materialize(
            definitions, instance, [names.comparison_key(TASK)], partition_key=b
        )
        # B is blocked: its blocking check fails the run after the comparison is stored.
        made = [
            e for e in done.all_events if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
        ]
        assert made, runs.failure_message(done)
        return time.perf_counter() - started

    page()  # warm imports and caches on both sides alike
    asset()
    pages = [page() for _ in range(repeats)]
    assets = [asset() for _ in range(repeats)]
    result = compare.compare_candidates(
        project=project, settings=settings, store=store, task_name=TASK, a=a, b=b, paths=paths,
        event_log=candidate_differences(instance),
    )  # fmt: skip
    ratio = round(statistics.median(pages) / statistics.median(assets), 3)
    figures: dict[str, object] = {
        "task": TASK,
        "a": a,
        "b": b,
        "rows_compared": result.rows_compared,
        "slices_tested": result.slices.tested,
        "compare_page_seconds": [round(x, 3) for x in pages],
        "comparison_asset_seconds": [round(x, 3) for x in assets],
        "compare_page_median": round(statistics.median(pages), 3),
        "comparison_asset_median": round(statistics.median(assets), 3),
        "ratio_page_to_asset": ratio,
        "target_ratio": 1.0,
    }
    figures["meets_target"] = ratio <= 1.0
    return run.finish(figures)


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))

"""Definitions for the follow-up report tests: a comparison whose blocking check can fail.

The real ``candidate_evaluation`` job, ``candidate_reports`` job, ``regression_report_sensor``
and report assets, over a stand-in ``evaluation/candidate_comparison``: keys containing
'bad' regress in one subgroup (carrier WN) and fail the blocking check, as the demo's
third commit does. Loaded by file path (dagstermill re-imports the job in the kernel).
"""

from collections.abc import Iterator

import dagster as dg
import pandas as pd

import assets.reports.notebooks as report_defs
import assets.reports.regression_reports as regression_defs
from assets.evaluation.automation import candidate_evaluation_job
from clearlake.partitions import candidate_partitions_def
from clearlake.resources import resources_for
from clearlake.settings import load_settings

COMPARISON = dg.AssetKey(["evaluation", "candidate_comparison"])
CHECK = "no_significant_regression"
BASELINE = "delay_model@0000000"


def comparison_frame(candidate: str) -> pd.DataFrame:
    wn = "regressed" if "bad" in candidate else "improved"
    rows = [
        ("overall", "all", -0.1, -0.4, 0.2, "no significant change"),
        ("carrier", "WN", 2.5 if wn == "regressed" else -2.5, 1.0, 4.0, wn),
        ("carrier", "AA", -0.2, -0.5, 0.1, "no significant change"),
        ("origin", "LGA", -0.3, -0.6, 0.0, "no significant change"),
    ]
    if wn == "improved":
        rows[1] = ("carrier", "WN", -2.5, -4.0, -1.0, wn)
    return pd.DataFrame(
        [
            {
                "metric": "mae",
                "subgroup_kind": kind,
                "subgroup": name,
                "candidate_value": 10.0 + delta,
                "baseline_value": 10.0,
                "delta": delta,
                "ci_low": low,
                "ci_high": high,
                "verdict": verdict,
                "n_rows": 400,
            }
            for kind, name, delta, low, high, verdict in rows
        ]
    )


@dg.asset(
    key=COMPARISON,
    partitions_def=candidate_partitions_def,
    group_name="evaluation",
    check_specs=[dg.AssetCheckSpec(CHECK, asset=COMPARISON, blocking=True)],
)
def candidate_comparison(
    context: dg.AssetExecutionContext,
) -> Iterator[dg.Output[pd.DataFrame] | dg.AssetCheckResult]:
    frame = comparison_frame(context.partition_key)
    regressed = frame[frame["verdict"] == "regressed"]
    yield dg.Output(
        frame,
        metadata={
            "candidate": context.partition_key,
            "baseline": BASELINE,
            "overall_verdict": "no significant change",
            "regressions": ", ".join(f"mae for carrier={s}" for s in regressed["subgroup"])
            or "none",
        },
    )
    yield dg.AssetCheckResult(check_name=CHECK, passed=regressed.empty)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        report_defs.defs(),
        regression_defs.defs(),
        dg.Definitions(
            assets=[candidate_comparison],
            jobs=[candidate_evaluation_job(in_process=True)],
            resources=resources_for(load_settings()),
        ),
    )

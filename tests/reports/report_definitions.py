"""Definitions for the report tests: the real report assets on small, known upstream data.

``evaluation/candidate_comparison`` and ``evaluation/leaderboard`` here are stand-ins
with the evaluation contract's keys, columns and metadata, so the tests control the
verdicts; the lake assets are the real replication assets over the stored Q1 2013
sample (``sample_lake``).
Loaded by file path (dagstermill re-imports the job inside the kernel).
"""

from pathlib import Path

import dagster as dg
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import assets.lake.replication as lake_defs
import assets.reports.gallery as gallery_defs
import assets.reports.notebooks as report_defs
from clearlake.partitions import candidate_partitions_def, daily_partitions_def
from clearlake.reports.factory import notebook_report_asset
from clearlake.reports.templates import Template
from clearlake.resources import resources_for
from clearlake.settings import load_settings

BASELINE = "delay_model@0000000"
METRICS = ("mae", "rmse")


def comparison_frame(candidate: str) -> pd.DataFrame:
    """Deterministic comparison: keys containing 'bad' regress, others improve."""
    rng = np.random.default_rng(abs(hash(candidate)) % 2**32)
    sign = 1.0 if "bad" in candidate else -1.0
    rows = []
    groups = [("overall", "all")] + [("carrier", c) for c in ("AA", "B6", "DL", "EV", "UA")]
    groups += [("origin", o) for o in ("EWR", "JFK", "LGA")] + [("month", m) for m in "123"]
    for metric in METRICS:
        for kind, name in groups:
            baseline = 10.0 + rng.random()
            delta = sign * (1.0 + rng.random())
            rows.append(
                {
                    "metric": metric,
                    "subgroup_kind": kind,
                    "subgroup": name,
                    "candidate_value": baseline + delta,
                    "baseline_value": baseline,
                    "delta": delta,
                    "ci_low": delta - 0.5,
                    "ci_high": delta + 0.5,
                    "verdict": "regressed" if sign > 0 else "improved",
                    "n_rows": 500,
                }
            )
    return pd.DataFrame(rows)


@dg.asset(
    key=["evaluation", "candidate_comparison"],
    partitions_def=candidate_partitions_def,
    group_name="evaluation",
)
def candidate_comparison(context: dg.AssetExecutionContext) -> dg.Output[pd.DataFrame]:
    frame = comparison_frame(context.partition_key)
    verdict = "regressed" if "bad" in context.partition_key else "improved"
    return dg.Output(
        frame,
        metadata={
            "candidate": context.partition_key,
            "baseline": BASELINE,
            "overall_verdict": verdict,
        },
    )


@dg.asset(key=["evaluation", "leaderboard"], group_name="evaluation")
def leaderboard() -> pd.DataFrame:
    settings = load_settings()
    settings.reports_root.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot([1, 2, 3], [12.0, 11.2, 10.4], marker="o")
    ax.set_title("mae over commits")
    fig.savefig(settings.reports_root / "leaderboard.png")
    plt.close(fig)
    return pd.DataFrame({"candidate": ["delay_model@1a2b3c4"], "metric": ["mae"], "value": [10.4]})


context_probe = notebook_report_asset(
    Template.load(Path(__file__).with_name("context_probe.ipynb")),
    description="Test template that uses the dagstermill context and yields an event.",
    owners=["team:data-platform"],
    partitions_def=daily_partitions_def,
    partition_parameter="day",
)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        lake_defs.defs(),
        report_defs.defs(),
        gallery_defs.defs(),
        dg.Definitions(
            assets=[candidate_comparison, leaderboard, context_probe],
            resources=resources_for(load_settings()),
        ),
    )

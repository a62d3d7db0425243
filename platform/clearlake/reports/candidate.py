"""What the ``candidate_report`` template shows: overall deltas, subgroups, plots, verdict.

Input: the ``evaluation/candidate_comparison`` frame (one row per metric × subgroup,
the delta candidate − baseline with its confidence interval and a verdict).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from clearlake.errors import ClearlakeError
from clearlake.evaluation.scoring import COMPARISON_COLUMNS

COLUMNS = tuple(COMPARISON_COLUMNS)
SUBGROUP_KINDS = ("carrier", "origin", "month")
VERDICT_COLOURS = {
    "improved": "#2e7d32",
    "regressed": "#c62828",
    "no significant change": "#757575",
    "no baseline": "#9e9e9e",
}


def check_comparison(frame: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ClearlakeError(
            f"The candidate comparison lacks column(s) {', '.join(missing)}: it must come from "
            "evaluation/candidate_comparison (re-materialise it with the current code)."
        )
    return frame


def select_metrics(frame: pd.DataFrame, metrics: Sequence[str] | None) -> list[str]:
    """The metrics to show: all of the comparison's, or the requested ones (checked)."""
    available = sorted(frame["metric"].unique())
    if not metrics:
        return available
    unknown = [m for m in metrics if m not in available]
    if unknown:
        raise ClearlakeError(
            f"Metric(s) {', '.join(map(repr, unknown))} not in the comparison: available "
            f"metrics are {', '.join(available)}. Fix the `metrics` parameter."
        )
    return list(metrics)


def overall(frame: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    rows = frame[(frame["subgroup_kind"] == "overall") & frame["metric"].isin(metrics)]
    shown = [c for c in COMPARISON_COLUMNS if c not in ("subgroup_kind", "subgroup")]
    return rows[shown].reset_index(drop=True)


def overall_verdict(frame: pd.DataFrame, metrics: Sequence[str] | None = None) -> str:
    """regressed > improved > no baseline (all) > no significant change."""
    verdicts = set(overall(frame, metrics or sorted(frame["metric"].unique()))["verdict"])
    if "regressed" in verdicts:
        return "regressed"
    if "improved" in verdicts:
        return "improved"
    if verdicts == {"no baseline"}:
        return "no baseline"
    return "no significant change"


def subgroups(frame: pd.DataFrame, metric: str, kind: str, top: int) -> pd.DataFrame:
    """The ``top`` subgroups of one kind with the largest absolute delta."""
    rows = frame[(frame["metric"] == metric) & (frame["subgroup_kind"] == kind)].copy()
    rows["abs_delta"] = rows["delta"].abs()
    rows = rows.sort_values("abs_delta", ascending=False).head(top)
    return rows.drop(columns=["abs_delta"]).reset_index(drop=True)


def _errorbars(ax: Any, rows: pd.DataFrame, labels: Sequence[str]) -> None:
    y = list(range(len(rows)))
    colours = [VERDICT_COLOURS.get(v, "#000000") for v in rows["verdict"]]
    low = (rows["delta"] - rows["ci_low"]).clip(lower=0)
    high = (rows["ci_high"] - rows["delta"]).clip(lower=0)
    ax.errorbar(rows["delta"], y, xerr=[low, high], fmt="none", ecolor="#424242", capsize=3)
    ax.scatter(rows["delta"], y, c=colours, zorder=3)
    ax.axvline(0, color="#000000", linewidth=0.8)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()


def plot_deltas(frame: pd.DataFrame, metrics: Sequence[str]) -> Figure:
    rows = overall(frame, metrics)
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(rows) + 1.2))
    _errorbars(ax, rows, list(rows["metric"]))
    ax.set_xlabel("delta (candidate − baseline) with confidence interval")
    ax.set_title("Overall metric deltas")
    fig.tight_layout()
    return fig


def plot_subgroups(frame: pd.DataFrame, metric: str, kinds: Sequence[str], top: int) -> Figure:
    present = [
        k for k in kinds if ((frame["subgroup_kind"] == k) & (frame["metric"] == metric)).any()
    ]
    fig, axes = plt.subplots(
        1, max(len(present), 1), figsize=(4.5 * max(len(present), 1), 0.35 * top + 1.5)
    )
    for ax, kind in zip(list(getattr(axes, "flat", [axes])), present, strict=False):
        rows = subgroups(frame, metric, kind, top)
        _errorbars(ax, rows, list(rows["subgroup"].astype(str)))
        ax.set_title(f"{metric} by {kind}")
    fig.tight_layout()
    return fig


def baseline_of(provenance: Mapping[str, Any]) -> str | None:
    """The baseline key recorded by the comparison (``None`` outside Dagster or if none)."""
    upstream = provenance.get("inputs", {}).get("evaluation/candidate_comparison", {})
    baseline = (upstream.get("metadata") or {}).get("baseline")
    return str(baseline) if baseline and baseline != "none" else None

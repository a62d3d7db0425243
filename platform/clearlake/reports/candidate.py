"""What the ``candidate_report`` template shows, for any task: verdict, deltas, subgroups,
and the plots that fit the task's type.

Inputs are a task's ``candidate_comparison`` (one row per metric × subgroup: the delta
candidate − baseline with its interval and verdict) and ``candidate_predictions`` (row id,
one column per subgroup, ``actual``, ``prediction``; binary: probability of the positive
class; multiclass: a list of probabilities in the declared class order). Regression shows
residuals in the target's declared unit, binary the ROC curve and calibration, multiclass
the confusion matrix: no unit or data set is assumed.

pyplot is imported by each plot function, not at the top: it costs 0.5 s, and this module is
imported by every process that loads the definitions (report code versions), which plot
nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clearlake.errors import ClearlakeError
from clearlake.evaluation.candidates import (
    COMMITS_TABLE,
    CandidateKey,
    candidate_commit_info,
    candidate_parameters,
)
from clearlake.evaluation.gate import GateOutcome, load_outcome
from clearlake.evaluation.scoring import COMPARISON_COLUMNS, PERCENTILE_COLUMNS
from clearlake.lake.store import LakeStore
from clearlake.project import TaskConfig
from clearlake.settings import load_settings

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLUMNS = tuple(c for c in COMPARISON_COLUMNS if c not in PERCENTILE_COLUMNS)
"""Required; the percentile interval is shown when the comparison has it."""
VERDICT_COLOURS = {
    "improved": "#2e7d32",
    "regressed": "#c62828",
    "no significant change": "#757575",
    "inconclusive": "#bf8700",
    "no baseline": "#9e9e9e",
}


def check_comparison(frame: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ClearlakeError(
            f"The candidate comparison lacks column(s) {', '.join(missing)}: it must come from "
            "the task's candidate_comparison asset (re-materialise it with the current code)."
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


def subgroup_kinds(frame: pd.DataFrame, kinds: Sequence[str] | None = None) -> list[str]:
    """The comparison's subgroup kinds (in order of appearance), or the requested ones."""
    present = [k for k in dict.fromkeys(frame["subgroup_kind"]) if k != "overall"]
    return [k for k in kinds if k in present] if kinds else present


def overall(frame: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    rows = frame[(frame["subgroup_kind"] == "overall") & frame["metric"].isin(metrics)]
    shown = [c for c in COMPARISON_COLUMNS if c not in ("subgroup_kind", "subgroup") and c in frame]
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
    import matplotlib.pyplot as plt  # not at the top: see the module docstring

    rows = overall(frame, metrics)
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(rows) + 1.2))
    _errorbars(ax, rows, list(rows["metric"]))
    ax.set_xlabel("delta (candidate − baseline) with confidence interval")
    ax.set_title("Overall metric deltas")
    fig.tight_layout()
    return fig


def plot_subgroups(frame: pd.DataFrame, metric: str, kinds: Sequence[str], top: int) -> Figure:
    import matplotlib.pyplot as plt  # not at the top: see the module docstring

    present = [
        k for k in kinds if ((frame["subgroup_kind"] == k) & (frame["metric"] == metric)).any()
    ]
    width = max(len(present), 1)
    fig, axes = plt.subplots(1, width, figsize=(4.5 * width, 0.35 * top + 1.5))
    for ax, kind in zip(list(getattr(axes, "flat", [axes])), present, strict=False):
        rows = subgroups(frame, metric, kind, top)
        _errorbars(ax, rows, list(rows["subgroup"].astype(str)))
        ax.set_title(f"{metric} by {kind}")
    fig.tight_layout()
    return fig


# -- plots by task type -----------------------------------------------------------------


def _in_unit(label: str, unit: str) -> str:
    return f"{label} ({unit})" if unit else label


def plot_residuals(predictions: pd.DataFrame, *, target: str, unit: str = "") -> Figure:
    """Regression: residual (actual − prediction) against the prediction, and their spread."""
    import matplotlib.pyplot as plt  # not at the top: see the module docstring

    residual = predictions["actual"] - predictions["prediction"]
    fig, (scatter, histogram) = plt.subplots(1, 2, figsize=(11, 4))
    scatter.scatter(predictions["prediction"], residual, s=4, alpha=0.3, color="#1565c0")
    scatter.axhline(0, color="#000000", linewidth=0.8)
    scatter.set_xlabel(_in_unit(f"predicted {target}", unit))
    scatter.set_ylabel(_in_unit("residual", unit))
    scatter.set_title("Residuals against predictions")
    histogram.hist(residual, bins=60, color="#90a4ae")
    histogram.set_xlabel(_in_unit("residual (actual − predicted)", unit))
    histogram.set_title(
        f"Residuals: median {residual.median():.3g}, MAE {residual.abs().mean():.3g}"
    )
    fig.tight_layout()
    return fig


def plot_roc_and_calibration(predictions: pd.DataFrame, *, bins: int = 10) -> Figure:
    """Binary: ROC curve (with its AUC) and reliability of the predicted probabilities."""
    import matplotlib.pyplot as plt  # not at the top: see the module docstring
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import roc_auc_score, roc_curve

    actual = predictions["actual"].astype(float).to_numpy()
    probability = predictions["prediction"].astype(float).to_numpy()
    fig, (roc, calibration) = plt.subplots(1, 2, figsize=(11, 4.5))
    if len(np.unique(actual)) == 2:
        fpr, tpr, _ = roc_curve(actual, probability)
        auc = roc_auc_score(actual, probability)
        roc.plot(fpr, tpr, color="#1565c0", label=f"candidate (AUC {auc:.3f})")
    roc.plot([0, 1], [0, 1], linestyle="--", color="#9e9e9e", label="chance")
    roc.set_xlabel("false positive rate")
    roc.set_ylabel("true positive rate")
    roc.set_title("ROC curve")
    roc.legend(loc="lower right")
    observed, predicted = calibration_curve(actual, probability, n_bins=bins, strategy="quantile")
    calibration.plot(predicted, observed, marker="o", color="#1565c0", label="candidate")
    calibration.plot([0, 1], [0, 1], linestyle="--", color="#9e9e9e", label="perfectly calibrated")
    calibration.set_xlabel("mean predicted probability")
    calibration.set_ylabel("observed frequency of the positive class")
    calibration.set_title(f"Calibration ({bins} quantile bins)")
    calibration.legend(loc="upper left")
    fig.tight_layout()
    return fig


def confusion(predictions: pd.DataFrame, classes: Sequence[str]) -> pd.DataFrame:
    """Multiclass: rows = actual class, columns = most probable class, share of each row."""
    probabilities = np.vstack(list(predictions["prediction"]))
    predicted = np.asarray(classes)[probabilities.argmax(axis=1)]
    counts = pd.crosstab(
        pd.Series(predictions["actual"].astype(str).to_numpy()),
        pd.Series(predicted),
    ).reindex(index=list(classes), columns=list(classes), fill_value=0)
    counts.index.name, counts.columns.name = "actual", "predicted"
    return counts.div(counts.sum(axis=1).replace(0, 1), axis=0)


def plot_confusion(predictions: pd.DataFrame, classes: Sequence[str]) -> Figure:
    import matplotlib.pyplot as plt  # not at the top: see the module docstring

    matrix = confusion(predictions, classes)
    size = 1.0 + 0.6 * len(classes)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    image = ax.imshow(matrix.to_numpy(), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted class (most probable)")
    ax.set_ylabel("actual class")
    ax.set_title("Confusion matrix (share of each actual class)")
    for (i, j), value in np.ndenumerate(matrix.to_numpy()):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8)
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    return fig


def task_plots(task: TaskConfig, predictions: pd.DataFrame) -> tuple[str, list[Figure]]:
    """The section title and figures that fit the task's type."""
    if task.type == "regression":
        return "Residuals", [plot_residuals(predictions, target=task.target, unit=task.unit)]
    if task.type == "binary":
        return "ROC curve and calibration", [plot_roc_and_calibration(predictions)]
    return "Confusion matrix", [plot_confusion(predictions, task.classes or [])]


# -- provenance -------------------------------------------------------------------------


def baseline_of(provenance: Mapping[str, Any], comparison: str) -> str | None:
    """The baseline the comparison (asset path ``comparison``) recorded, if any."""
    upstream = provenance.get("inputs", {}).get(comparison, {})
    baseline = (upstream.get("metadata") or {}).get("baseline")
    return str(baseline) if baseline and baseline != "none" else None


def gate_outcome(task: str, key: str) -> GateOutcome | None:
    """The gate outcome the comparison stored (the report's headline: never re-derived)."""
    return load_outcome(LakeStore(load_settings().lake_url), task, key)


def candidate_provenance(key: str) -> dict[str, str]:
    """The candidate's code and parameters: repository, commit (+ message) and parameter set.

    Commit details come from the copy the evaluation recorded in the lake (no git access
    from a report step); parameters of a ``~<hash>`` key from the lake as well.
    """
    parsed = CandidateKey.parse(key)
    record = {"candidate_repo": parsed.repo, "candidate_commit": parsed.commit}
    store = LakeStore(load_settings().lake_url)
    if store.exists(f"{store.table_dir(COMMITS_TABLE)}/{key}.json"):
        info = candidate_commit_info(parsed, store=store)
        record["commit_message"] = info.message.splitlines()[0] if info.message else ""
        record["commit_author"] = info.author
        record["committed_at"] = info.committed_at.isoformat()
    if parsed.param_hash:
        record["candidate_params"] = parsed.param_hash
        try:
            parameters = candidate_parameters(parsed, store=store)
            record["candidate_parameters"] = json.dumps(parameters, sort_keys=True)
        except ClearlakeError:
            pass  # an experiment registered without its parameters: the hash still names it
    return record

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
from clearlake.evaluation.flips import join_sides
from clearlake.evaluation.gate import GateOutcome, load_outcome
from clearlake.evaluation.metrics import lower_is_better
from clearlake.evaluation.scoring import COMPARISON_COLUMNS, PERCENTILE_COLUMNS
from clearlake.evaluation.slices import SliceSearch, slices_between
from clearlake.lake.store import LakeStore
from clearlake.project import TaskConfig
from clearlake.settings import load_settings

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLUMNS = tuple(c for c in COMPARISON_COLUMNS if c not in PERCENTILE_COLUMNS)
"""Required; the percentile interval is shown when the comparison has it."""
P_COLUMNS = ("p_value", "p_adjusted")
P_FLOOR = 0.001
"""Below it a p-value is shown as "< 0.001": the bootstrap and the normal tail say nothing
finer, and a rounded 0.0 reads as certainty."""
IN_TARGET_UNIT = ("mae", "rmse", "bias")
"""Built-in regression metrics measured in the target's unit (r2 and the rest have none)."""
BASELINE_COLOUR = "#9e9e9e"
CANDIDATE_COLOUR = "#1565c0"
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


def subgroups(
    frame: pd.DataFrame, metric: str, kind: str, top: int, *, lower_better: bool | None = None
) -> pd.DataFrame:
    """The ``top`` weakest subgroups of one kind: the largest change for the worse first
    (``lower_better`` gives the metric's direction; unknown: the largest absolute delta)."""
    rows = frame[(frame["metric"] == metric) & (frame["subgroup_kind"] == kind)].copy()
    if lower_better is None:
        rows["_order"] = -rows["delta"].abs()
    else:
        rows["_order"] = -rows["delta"] if lower_better else rows["delta"]
    rows = rows.sort_values("_order", kind="stable").head(top)
    return rows.drop(columns=["_order"]).reset_index(drop=True)


def metric_direction(task: TaskConfig, metric: str) -> bool | None:
    """Whether lower is better for ``metric`` of ``task`` (``None``: not a declared metric)."""
    try:
        return lower_is_better(task, metric)
    except KeyError:
        return None


def metric_units(task: TaskConfig) -> dict[str, str]:
    """The unit of each built-in metric that has one (regression errors: the target's)."""
    if task.type != "regression" or not task.unit:
        return {}
    return dict.fromkeys(IN_TARGET_UNIT, task.unit)


def format_p(value: float) -> str:
    if pd.isna(value):
        return ""
    return f"< {P_FLOOR}" if value < P_FLOOR else f"{value:.3f}"


def table(rows: pd.DataFrame, *, digits: int = 4) -> pd.DataFrame:
    """A comparison table as shown: numbers to ``digits`` significant digits, p-values as
    "< 0.001" rather than a rounded 0.0."""
    shown = rows.copy()
    for column in shown.columns:
        if column in P_COLUMNS:
            shown[column] = shown[column].map(format_p)
        elif pd.api.types.is_float_dtype(shown[column]):
            shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}g}")
    return shown


def regressed_slices(
    task: TaskConfig, predictions: pd.DataFrame, baseline_predictions: pd.DataFrame, *, shown: int
) -> tuple[str, pd.DataFrame]:
    """Slice discovery beyond the declared subgroups (two-way combinations of the task's
    subgroup columns, at its minimum support and multiplicity rule): the text saying how the
    search was done and what it found, and the ``shown`` slices that regressed most."""
    found: SliceSearch = slices_between(task, join_sides(baseline_predictions, predictions))
    regressed = found.regressed()
    if not len(found.frame):
        return "No slice had enough rows to be tested.", regressed
    verdict = (
        f"**{len(regressed)} slice(s) regressed significantly**; the largest first."
        if len(regressed)
        else "No slice regressed significantly."
    )
    return f"{verdict} {found.note()}.", regressed.head(shown)


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


def plot_deltas(
    frame: pd.DataFrame, metrics: Sequence[str], *, units: Mapping[str, str] | None = None
) -> Figure:
    """One small panel per metric, each on its own axis: metrics in the target's unit and
    unitless ones (r2, AUC) never share a scale."""
    import matplotlib.pyplot as plt  # not at the top: see the module docstring

    rows = overall(frame, metrics)
    fig, axes = plt.subplots(len(rows), 1, figsize=(7, 1.1 * len(rows) + 0.8), squeeze=False)
    for ax, (_, row) in zip(axes[:, 0], rows.iterrows(), strict=True):
        _errorbars(ax, rows.loc[[row.name]], [str(row["metric"])])
        ax.set_xlabel(_in_unit(f"Δ {row['metric']}", (units or {}).get(str(row["metric"]), "")))
    axes[0, 0].set_title("Overall metric deltas (candidate − baseline, confidence interval)")
    fig.tight_layout()
    return fig


def plot_subgroups(
    frame: pd.DataFrame,
    metric: str,
    kinds: Sequence[str],
    top: int,
    *,
    lower_better: bool | None = None,
) -> Figure:
    import matplotlib.pyplot as plt  # not at the top: see the module docstring

    present = [
        k for k in kinds if ((frame["subgroup_kind"] == k) & (frame["metric"] == metric)).any()
    ]
    width = max(len(present), 1)
    fig, axes = plt.subplots(1, width, figsize=(4.5 * width, 0.35 * top + 1.5))
    for ax, kind in zip(list(getattr(axes, "flat", [axes])), present, strict=False):
        rows = subgroups(frame, metric, kind, top, lower_better=lower_better)
        _errorbars(ax, rows, list(rows["subgroup"].astype(str)))
        ax.set_title(f"{metric} by {kind}")
    fig.tight_layout()
    return fig


# -- plots by task type -----------------------------------------------------------------


def _in_unit(label: str, unit: str) -> str:
    return f"{label} ({unit})" if unit else label


def plot_residuals(
    predictions: pd.DataFrame,
    *,
    target: str,
    unit: str = "",
    baseline: pd.DataFrame | None = None,
) -> Figure:
    """Regression: residual (actual − prediction) against the prediction, and their spread;
    the baseline's in grey behind the candidate's when its predictions are stored."""
    import matplotlib.pyplot as plt  # not at the top: see the module docstring

    residual = predictions["actual"] - predictions["prediction"]
    fig, (scatter, histogram) = plt.subplots(1, 2, figsize=(11, 4))
    if baseline is not None:
        base = baseline["actual"] - baseline["prediction"]
        scatter.scatter(
            baseline["prediction"], base, s=4, alpha=0.25, color=BASELINE_COLOUR, label="baseline"
        )
        histogram.hist(
            base, bins=60, histtype="step", linewidth=1.5, color="#424242", label="baseline"
        )
    scatter.scatter(
        predictions["prediction"],
        residual,
        s=4,
        alpha=0.3,
        color=CANDIDATE_COLOUR,
        label="candidate",
    )
    scatter.axhline(0, color="#000000", linewidth=0.8)
    scatter.set_xlabel(_in_unit(f"predicted {target}", unit))
    scatter.set_ylabel(_in_unit("residual", unit))
    scatter.set_title("Residuals against predictions")
    histogram.hist(residual, bins=60, color="#90a4ae", label="candidate")
    histogram.set_xlabel(_in_unit("residual (actual − predicted)", unit))
    histogram.set_title(
        f"Residuals: median {residual.median():.3g}, MAE {residual.abs().mean():.3g}"
    )
    if baseline is not None:
        scatter.legend(loc="upper right", markerscale=3)
        histogram.legend(loc="upper right")
    fig.tight_layout()
    return fig


def plot_roc_and_calibration(
    predictions: pd.DataFrame, *, bins: int = 10, baseline: pd.DataFrame | None = None
) -> Figure:
    """Binary: ROC curve (with its AUC) and reliability of the predicted probabilities, the
    baseline's drawn beside the candidate's when its predictions are stored."""
    import matplotlib.pyplot as plt  # not at the top: see the module docstring
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import roc_auc_score, roc_curve

    fig, (roc, calibration) = plt.subplots(1, 2, figsize=(11, 4.5))
    drawn = [("baseline", baseline, BASELINE_COLOUR, "--")] if baseline is not None else []
    drawn.append(("candidate", predictions, CANDIDATE_COLOUR, "-"))
    for name, frame, colour, style in drawn:
        actual = frame["actual"].astype(float).to_numpy()
        probability = frame["prediction"].astype(float).to_numpy()
        if len(np.unique(actual)) == 2:
            fpr, tpr, _ = roc_curve(actual, probability)
            auc = roc_auc_score(actual, probability)
            roc.plot(fpr, tpr, color=colour, linestyle=style, label=f"{name} (AUC {auc:.3f})")
        observed, predicted = calibration_curve(
            actual, probability, n_bins=bins, strategy="quantile"
        )
        calibration.plot(predicted, observed, marker="o", color=colour, linestyle=style, label=name)
    roc.plot([0, 1], [0, 1], linestyle=":", color="#bdbdbd", label="chance")
    roc.set_xlabel("false positive rate")
    roc.set_ylabel("true positive rate")
    roc.set_title("ROC curve")
    roc.legend(loc="lower right")
    calibration.plot([0, 1], [0, 1], linestyle=":", color="#bdbdbd", label="perfectly calibrated")
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


def task_plots(
    task: TaskConfig, predictions: pd.DataFrame, baseline: pd.DataFrame | None = None
) -> tuple[str, list[Figure]]:
    """The section title and figures that fit the task's type (``baseline``: its predictions
    on the same rows, drawn as an overlay; multiclass shows the candidate only)."""
    if task.type == "regression":
        figure = plot_residuals(predictions, target=task.target, unit=task.unit, baseline=baseline)
        return "Residuals", [figure]
    if task.type == "binary":
        return "ROC curve and calibration", [
            plot_roc_and_calibration(predictions, baseline=baseline)
        ]
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
    """The candidate's code and parameters: repository, commit (+ message) and parameter set;
    for a pipeline's combination also ``candidate_stages``, each stage's commit in order (the
    full shas are in the comparison's ``stages`` metadata, among the report's inputs).

    Commit details come from the copy the evaluation recorded in the lake (no git access
    from a report step); parameters of a ``~<hash>`` key from the lake as well.
    """
    parsed = CandidateKey.parse(key)
    record = {"candidate_repo": parsed.repo, "candidate_commit": parsed.commit}
    if len(parsed.stages) > 1:  # a pipeline's combination: every stage's commit, in order
        record["candidate_stages"] = " + ".join(f"{s.repo}@{s.commit}" for s in parsed.stages)
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

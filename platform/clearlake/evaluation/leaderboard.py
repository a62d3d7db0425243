"""A task's leaderboard: every candidate's overall scores over commit time, and its plot.

Built from the task's candidate index (:mod:`clearlake.evaluation.candidate_index`): one
table, whatever the history. The plot and the preview table show the last
:data:`SHOWN` candidates (the stored frame keeps them all): one label per candidate of a
long history was unreadable and cost ~18 ms each to draw.

Frame columns: ``candidate``, ``repo``, ``commit``, ``committed_at`` (UTC), ``metric``,
``value``, ``ci_low``, ``ci_high``, ``verdict`` (of this metric overall; null when it was
never compared), ``gate`` and ``gate_summary`` (the stored gate outcome: what the plot's
colours and the CLI show), ``stages`` and ``stage_change``, ordered by commit time.

A pipeline's progress over combined commits: one row per combination, ``commit`` its
stages' short shas joined by ``+`` (``1a2b3c4+5d6e7f8``, pipeline order), ``stages`` them
named (``late-features@1a2b3c4 + late-arrivals@5d6e7f8``), ``stage_change`` the stage(s)
whose commit moved from the gated baseline, and ``committed_at`` the newest stage commit's
time (when the combination came to be). Single repositories have empty ``stages``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from clearlake.evaluation.candidate_index import (
    candidate_rows,
    commit_label,
    empty_index,
    scored,
)
from clearlake.evaluation.gate import GateOutcome, stage_list

LEADERBOARD_SCHEMA = pa.schema(
    [
        ("candidate", pa.string()),
        ("repo", pa.string()),
        ("commit", pa.string()),
        ("committed_at", pa.timestamp("us", tz="UTC")),
        ("metric", pa.string()),
        ("value", pa.float64()),
        ("ci_low", pa.float64()),
        ("ci_high", pa.float64()),
        ("verdict", pa.string()),
        ("gate", pa.string()),
        ("gate_summary", pa.string()),
        ("stages", pa.string()),
        ("stage_change", pa.string()),
    ]
)
LEADERBOARD_COLUMNS: list[str] = LEADERBOARD_SCHEMA.names
SHOWN = 40
"""Candidates the plot and the preview table show (the newest in commit order)."""
GATE_COLOURS = {
    "passed": "#1a7f37",
    "blocked": "#cf222e",
    "inconclusive": "#bf8700",
    "no baseline": "#0969da",
}


def plot_path(reports_root: Path, task: str) -> Path:
    """Where a task's leaderboard plot is written (``<reports>/leaderboards/<task>.png``)."""
    return reports_root / "leaderboards" / f"{task}.png"


@dataclass(frozen=True)
class Entry:
    """One evaluated candidate: its scores, its comparison (if any) and its commit time."""

    key: str
    committed_at: dt.datetime | None
    scores: pd.DataFrame
    comparison: pd.DataFrame | None
    gate: GateOutcome | None = None


def entry_rows(entries: list[Entry]) -> pd.DataFrame:
    """``entries`` as candidate-index rows (what the index holds for them)."""
    frames = []
    for entry in entries:
        rows = candidate_rows(
            entry.key,
            commit=None,
            scores=entry.scores,
            comparison=entry.comparison,
            outcome=entry.gate,
        )
        frames.append(rows.assign(committed_at=entry.committed_at))
    return pd.concat(frames, ignore_index=True) if frames else empty_index()


def build_leaderboard(entries: list[Entry]) -> pd.DataFrame:
    return leaderboard_frame(entry_rows(entries))


def leaderboard_frame(index: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard of a task from its candidate index rows."""
    overall = scored(index)
    overall = overall[overall["subgroup_kind"] == "overall"]
    frame = pd.DataFrame(
        {
            "candidate": overall["candidate"],
            "repo": overall["repo"],
            "commit": [commit_label(k) for k in overall["candidate"]],
            "committed_at": pd.to_datetime(overall["committed_at"], utc=True),
            "metric": overall["metric"],
            "value": overall["value"].astype("float64"),
            "ci_low": overall["ci_low"].astype("float64"),
            "ci_high": overall["ci_high"].astype("float64"),
            "verdict": overall["verdict"],
            "gate": overall["gate"],
            "gate_summary": overall["gate_summary"],
            "stages": [stage_list(str(k)) for k in overall["candidate"]],
            "stage_change": overall["stage_change"]
            if "stage_change" in overall
            else pd.Series(None, index=overall.index, dtype=object),
        },
        columns=LEADERBOARD_COLUMNS,
    )
    frame["committed_at"] = pd.to_datetime(frame["committed_at"], utc=True).astype(
        "datetime64[us, UTC]"
    )
    for column in ("verdict", "gate", "gate_summary", "stage_change"):
        frame[column] = frame[column].astype("object").where(frame[column].notna(), None)
    return frame.sort_values(["committed_at", "candidate", "metric"], kind="stable").reset_index(
        drop=True
    )


def newest(frame: pd.DataFrame, *, last: int = SHOWN) -> pd.DataFrame:
    """The rows of the ``last`` candidates of a leaderboard frame (in commit order)."""
    keep = list(dict.fromkeys(frame["candidate"]))[-last:]
    return frame[frame["candidate"].isin(keep)]


def subgroup_regressions(entry: Entry, metric: str) -> str:
    """``region=west, basket=>=150``: the subgroups where ``metric`` regressed (may be empty)."""
    if entry.comparison is None:
        return ""
    return regressions(entry_rows([entry]), metric).get(entry.key, "")


def regressions(index: pd.DataFrame, metric: str) -> dict[str, str]:
    """Per candidate of ``index`` with a regression of ``metric``: where (``kind=group, …``)."""
    bad = index[(index["verdict"] == "regressed") & (index["metric"] == metric)]
    found: dict[str, list[str]] = {}
    for key, kind, group in zip(
        bad["candidate"], bad["subgroup_kind"], bad["subgroup"], strict=True
    ):
        found.setdefault(str(key), []).append(f"{kind}={group}")
    return {key: ", ".join(where) for key, where in found.items()}


def plot_leaderboard(
    frame: pd.DataFrame,
    *,
    metric: str,
    path: Path,
    lower_is_better: bool = True,
    title: str = "Candidates over time",
    flagged: dict[str, str] | None = None,
) -> Path:
    """``metric`` over commit time per repository, intervals coloured by gate outcome.

    ``flagged`` maps a candidate to its regressed subgroups: ringed in red and named.
    """
    # Imported here: 0.5 s in every process that loads the definitions, which plot nothing.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    flagged = flagged or {}
    data = frame[frame["metric"] == metric]
    figure, axes = plt.subplots(figsize=(9, 4.5), dpi=110)
    for repo, rows in data.groupby("repo", sort=True):
        times = rows["committed_at"].tolist()
        axes.plot(times, rows["value"].tolist(), "-", color="#8c959f", lw=1, zorder=1)
        for point in rows.to_dict("records"):
            value, low, high = (
                float(point["value"]),
                float(point["ci_low"]),
                float(point["ci_high"]),
            )
            axes.errorbar(
                point["committed_at"],
                value,
                yerr=[[value - low], [high - value]],
                fmt="o",
                color=GATE_COLOURS.get(str(point["gate"]), "#8c959f"),
                capsize=3,
                zorder=2,
            )
            axes.annotate(
                f"{repo}@{point['commit']}" if not point.get("stages") else point["commit"],
                (point["committed_at"], value),
                textcoords="offset points",
                xytext=(5, 5),
                fontsize=7,
            )
    for status, colour in GATE_COLOURS.items():
        axes.plot([], [], "o", color=colour, label=f"gate {status}")
    axes.set_xlabel("commit time (UTC)")
    better = "lower" if lower_is_better else "higher"
    axes.set_ylabel(f"{metric} (held-out, {better} is better)")
    axes.set_title(f"{title}: {metric}")
    axes.legend(fontsize=7, loc="best")
    axes.grid(alpha=0.3)
    figure.autofmt_xdate()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path


def markdown_table(frame: pd.DataFrame, *, metric: str) -> str:
    data = frame[frame["metric"] == metric]
    staged = bool(data["stages"].astype(bool).any()) if "stages" in data else False
    changed = " changed |" if staged else ""
    lines = [f"| candidate | committed |{changed} {metric} | 95% CI | gate |"]
    lines.append("|---|---|" + ("---|" if staged else "") + "---|---|---|")
    for row in data.to_dict("records"):
        when = row["committed_at"]
        shown = when.strftime("%Y-%m-%d %H:%M") if isinstance(when, dt.datetime) else "?"
        stage = f" {row.get('stage_change') or '—'} |" if staged else ""
        lines.append(
            f"| {row['candidate']} | {shown} |{stage} {float(row['value']):.4g} | "
            f"{float(row['ci_low']):.4g}–{float(row['ci_high']):.4g} | "
            f"{row['gate_summary'] or '—'} |"
        )
    return "\n".join(lines)

"""A task's trends: every metric over commits, small multiples per subgroup, and a
subgroup × commit heatmap of the significant changes.

Bounded as history grows: the plots show the ``last`` candidates in commit order (30 by
default; the stored leaderboard keeps them all), at most ``MAX_TICKS`` commit labels, at most
``MAX_PANELS`` subgroup panels and ``MAX_ROWS`` heatmap rows (the subgroups with the most
significant changes first). A figure's size therefore depends on those caps, never on the
number of candidates. Plots are SVG (crisp at any zoom, a few tens of KB).

Frame columns (:func:`trend_frame`): ``candidate``, ``repo``, ``commit``, ``committed_at``,
``metric``, ``subgroup_kind``, ``subgroup``, ``value``, ``ci_low``, ``ci_high``,
``verdict`` (of the comparison with its baseline for this metric and subgroup; null
when never compared), ``gate`` (the stored gate outcome), one row per score.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from clearlake.evaluation.candidate_index import commit_label, scored
from clearlake.evaluation.leaderboard import GATE_COLOURS, Entry, entry_rows
from clearlake.evaluation.scoring import IMPROVED, REGRESSED

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LAST_COMMITS = 30
MAX_TICKS = 12
MAX_PANELS = 12
MAX_ROWS = 30
BLOCKED_COLOUR = GATE_COLOURS["blocked"]
TREND_COLUMNS = [
    "candidate",
    "repo",
    "commit",
    "committed_at",
    "metric",
    "subgroup_kind",
    "subgroup",
    "value",
    "ci_low",
    "ci_high",
    "verdict",
    "gate",
]


def trend_frame(entries: Sequence[Entry], *, last: int = LAST_COMMITS) -> pd.DataFrame:
    """Every score of the ``last`` candidates in commit order (unknown times first)."""
    ordered = sorted(
        entries,
        key=lambda e: (e.committed_at is not None, e.committed_at or EPOCH, e.key),
    )[-last:]
    return trend_rows(entry_rows(ordered), last=last)


def trend_rows(index: pd.DataFrame, *, last: int = LAST_COMMITS) -> pd.DataFrame:
    """:func:`trend_frame` from a task's candidate index rows (only the ``last`` candidates'
    rows are touched beyond one ordering of the candidates)."""
    rows = scored(index)
    if rows.empty:
        return pd.DataFrame(columns=TREND_COLUMNS)
    times = rows.drop_duplicates("candidate")[["candidate", "committed_at"]]
    ordered = sorted(
        zip(times["candidate"], pd.to_datetime(times["committed_at"], utc=True), strict=True),
        key=lambda pair: (pd.notna(pair[1]), pair[1] if pd.notna(pair[1]) else EPOCH, pair[0]),
    )[-last:]
    position = {key: i for i, (key, _) in enumerate(ordered)}
    mine = rows[rows["candidate"].isin(position)]
    mine = mine.iloc[mine["candidate"].map(position).argsort(kind="stable")]
    frame = mine.assign(
        commit=[commit_label(k) for k in mine["candidate"]],
        committed_at=pd.to_datetime(mine["committed_at"], utc=True),
    )
    return frame[TREND_COLUMNS].reset_index(drop=True)


def _pyplot() -> Any:
    import matplotlib  # 0.5 s: only where something is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "none"  # text stays text: smaller, searchable, selectable
    return plt


def _order(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame["candidate"]))


def _label(key: str) -> str:
    """A tick label: the key, or a pipeline's stage shas (``1a2b3c4+5d6e7f8``): its
    repositories are the same on every tick."""
    label = commit_label(key)
    return key if "+" not in label else label + (key[key.index("~") :] if "~" in key else "")


def _ticks(axes: Any, candidates: list[str]) -> None:
    step = max(1, math.ceil(len(candidates) / MAX_TICKS))
    shown = list(range(0, len(candidates), step))
    labels = [_label(candidates[i]) for i in shown]
    axes.set_xticks(shown, labels, rotation=30, ha="right", fontsize=7)
    axes.set_xlim(-0.5, len(candidates) - 0.5)


def _series(axes: Any, rows: pd.DataFrame, position: dict[str, int]) -> None:
    """One line with its interval band per repository; blocked commits marked with a red ✕."""
    for _, repo_rows in rows.groupby("repo", sort=True):
        x = [position[c] for c in repo_rows["candidate"]]
        axes.fill_between(
            x,
            repo_rows["ci_low"],
            repo_rows["ci_high"],
            color="#8c959f",
            alpha=0.25,
            lw=0,
            label="95% interval",
        )
        axes.plot(x, repo_rows["value"], "-o", color="#57606a", lw=1, ms=2.5, label="value")
        blocked = repo_rows["gate"] == "blocked"
        if blocked.any():
            axes.plot(
                [position[c] for c in repo_rows.loc[blocked, "candidate"]],
                repo_rows.loc[blocked, "value"],
                "x",
                color=BLOCKED_COLOUR,
                ms=8,
                mew=2,
                label="blocked",
            )


def _save(figure: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="svg")
    _pyplot().close(figure)
    return path


def plot_metrics(frame: pd.DataFrame, *, metrics: Sequence[str], path: Path) -> Path:
    """Every metric overall over commits: one panel each, interval bands, blocked marked."""
    plt = _pyplot()
    overall = frame[frame["subgroup_kind"] == "overall"]
    candidates = _order(overall)
    position = {c: i for i, c in enumerate(candidates)}
    figure, axes_list = plt.subplots(
        len(metrics), 1, figsize=(9, 2.2 * len(metrics) + 0.8), dpi=100, sharex=True, squeeze=False
    )
    for axes, metric in zip(axes_list[:, 0], metrics, strict=True):
        _series(axes, overall[overall["metric"] == metric], position)
        axes.set_ylabel(metric, fontsize=8)
        axes.grid(alpha=0.3)
    axes_list[0, 0].set_title(f"Every metric over the last {len(candidates)} commit(s)", fontsize=9)
    if (overall["gate"] == "blocked").any():
        handles, labels = axes_list[0, 0].get_legend_handles_labels()
        unique = dict(zip(labels, handles, strict=True))  # one entry per label, not per repo
        axes_list[0, 0].legend(unique.values(), unique.keys(), fontsize=7, loc="best")
    _ticks(axes_list[-1, 0], candidates)
    figure.tight_layout()
    return _save(figure, path)


def ranked_subgroups(frame: pd.DataFrame, *, metric: str) -> list[tuple[str, str]]:
    """Subgroups of ``metric``, most significant changes first, then by name."""
    rows = frame[(frame["metric"] == metric) & (frame["subgroup_kind"] != "overall")]
    significant = rows["verdict"].isin([REGRESSED, IMPROVED])
    counts: dict[tuple[str, str], int] = {}
    for kind, group, hit in zip(rows["subgroup_kind"], rows["subgroup"], significant, strict=True):
        counts[(str(kind), str(group))] = counts.get((str(kind), str(group)), 0) + int(hit)
    return sorted(counts, key=lambda pair: (-counts[pair], pair))


def plot_subgroups(frame: pd.DataFrame, *, metric: str, path: Path) -> tuple[Path, int]:
    """Small multiples of ``metric`` per subgroup (at most ``MAX_PANELS``, shared y axis);
    returns the path and how many subgroups were left out."""
    plt = _pyplot()
    candidates = _order(frame)
    position = {c: i for i, c in enumerate(candidates)}
    groups = ranked_subgroups(frame, metric=metric)
    shown = groups[:MAX_PANELS] or [("overall", "all")]
    columns = min(4, len(shown))
    lines = math.ceil(len(shown) / columns)
    figure, axes_grid = plt.subplots(
        lines,
        columns,
        figsize=(2.4 * columns + 0.6, 1.9 * lines + 0.6),
        dpi=100,
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    rows = frame[frame["metric"] == metric]
    for index, axes in enumerate(axes_grid.flat):
        if index >= len(shown):
            axes.set_visible(False)
            continue
        kind, group = shown[index]
        mine = rows[(rows["subgroup_kind"] == kind) & (rows["subgroup"] == group)]
        _series(axes, mine, position)
        regressed = mine["verdict"] == REGRESSED
        axes.set_title(
            f"{kind}={group}" if kind != "overall" else "overall",
            fontsize=8,
            color=BLOCKED_COLOUR if regressed.any() else "#24292f",
        )
        axes.grid(alpha=0.3)
        axes.tick_params(labelsize=6)
    for axes in axes_grid[-1]:
        if axes.get_visible():
            _ticks(axes, candidates)
            axes.tick_params(axis="x", labelsize=5)
    figure.suptitle(f"{metric} per subgroup (red title: regressed at least once)", fontsize=9)
    figure.tight_layout()
    return _save(figure, path), max(0, len(groups) - len(shown))


def plot_heatmap(frame: pd.DataFrame, *, metric: str, path: Path) -> Path:
    """Subgroup × commit: red where ``metric`` regressed significantly against the baseline,
    green where it improved, blank otherwise (not compared, or no significant change)."""
    plt = _pyplot()
    from matplotlib.colors import ListedColormap

    candidates = _order(frame)
    groups = ranked_subgroups(frame, metric=metric)[:MAX_ROWS] or [("overall", "all")]
    rows = frame[frame["metric"] == metric]
    code = {REGRESSED: 0.0, IMPROVED: 1.0}
    lookup = {
        (r.subgroup_kind, r.subgroup, r.candidate): code.get(str(r.verdict), math.nan)
        for r in rows.itertuples()
    }
    grid = [[lookup.get((k, g, c), math.nan) for c in candidates] for k, g in groups]
    figure, axes = plt.subplots(
        figsize=(min(9.0, 2.5 + 0.25 * len(candidates)), 1.2 + 0.22 * len(groups)), dpi=100
    )
    colours = ListedColormap([BLOCKED_COLOUR, GATE_COLOURS["passed"]]).with_extremes(bad="#fff")
    axes.imshow(grid, aspect="auto", cmap=colours, vmin=0, vmax=1, interpolation="nearest")
    axes.set_yticks(range(len(groups)), [f"{k}={g}" for k, g in groups], fontsize=7)
    _ticks(axes, candidates)
    axes.set_xticks([x - 0.5 for x in range(len(candidates) + 1)], minor=True)
    axes.set_yticks([y - 0.5 for y in range(len(groups) + 1)], minor=True)
    axes.grid(which="minor", color="#d0d7de", lw=0.5)
    axes.tick_params(which="minor", length=0)
    axes.set_title(f"{metric}: significant changes vs baseline (red regressed, green improved)")
    axes.title.set_fontsize(9)
    figure.tight_layout()
    return _save(figure, path)


def draw_trends(
    frame: pd.DataFrame, *, metrics: Sequence[str], directory: Path
) -> list[tuple[str, str, str]]:
    """Every trend figure of a task into ``directory``: ``(title, file name, note)`` each, in
    the order a page shows them (all metrics, then per metric its subgroups and heatmap)."""
    figures = [
        (
            "Every metric",
            plot_metrics(frame, metrics=metrics, path=directory / "metrics.svg").name,
            "",
        )
    ]
    for metric in metrics:
        path, hidden = plot_subgroups(
            frame, metric=metric, path=directory / f"subgroups-{metric}.svg"
        )
        note = (
            f"{hidden} more subgroup(s) with fewer significant changes not drawn." if hidden else ""
        )
        figures.append((f"{metric} per subgroup", path.name, note))
        heatmap = plot_heatmap(frame, metric=metric, path=directory / f"heatmap-{metric}.svg")
        figures.append((f"{metric}: significant changes per subgroup", heatmap.name, ""))
    return figures

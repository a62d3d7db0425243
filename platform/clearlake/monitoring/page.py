"""A task's monitoring page in the report gallery: ``monitoring/<task>/index.html``.

Each watched metric over the days, with its daily bootstrap interval as a band: overall
on top, then one small panel per subgroup (the same y axis, so a subgroup that drifts
away is seen at a glance); the latest drift table; the open and recent alert episodes;
the method. Static files with relative links, like the rest of the gallery.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

from clearlake.monitoring.episodes import Episode, message, where
from clearlake.reports.execute import write_atomic
from clearlake.reports.gallery import STYLE


def page_path(task: str) -> str:
    """The page, relative to the reports root (the gallery index links it)."""
    return f"monitoring/{task}/index.html"


def plot_metric(scores: pd.DataFrame, *, metric: str, path: Path) -> Path:
    """``metric`` per day with interval bands: overall, then a panel per subgroup value."""
    import matplotlib  # here: 0.5 s in every process that loads the definitions

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = scores[scores["metric"] == metric].copy()
    data["when"] = pd.to_datetime(data["day"])
    groups = {(k, g) for k, g in zip(data["subgroup_kind"], data["subgroup"], strict=True)}
    panels = [("overall", "all"), *sorted(groups - {("overall", "all")})]
    columns = min(4, len(panels))
    rows = -(-len(panels) // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(3.2 * columns, 2.4 * rows), dpi=100, sharey=True, squeeze=False
    )
    for index, (kind, subgroup) in enumerate(panels):
        ax = axes[index // columns][index % columns]
        part = data[(data["subgroup_kind"] == kind) & (data["subgroup"] == subgroup)]
        part = part.sort_values("when")
        ax.fill_between(part["when"], part["ci_low"], part["ci_high"], alpha=0.25, lw=0)
        ax.plot(part["when"], part["value"], "-", lw=1.2)
        ax.set_title(where(kind, subgroup), fontsize=8)
        ax.tick_params(labelsize=6)
        ax.grid(alpha=0.3)
    for index in range(len(panels), rows * columns):
        axes[index // columns][index % columns].axis("off")
    figure.suptitle(f"{metric} per day (band: bootstrap interval)", fontsize=9)
    figure.autofmt_xdate()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path


DECISION_COLUMNS = [
    "metric", "subgroup_kind", "subgroup", "window_days", "reference_value", "recent_value",
    "delta", "ci_low", "ci_high", "mde", "min_effect", "state",
]  # fmt: skip


def _longest(tests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The longest window's rows: every subgroup's change, and which are inconclusive."""
    if not tests:
        return []
    longest = max(t["window_days"] for t in tests)
    return [t for t in tests if t["window_days"] == longest]


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(r.get(c)))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def render_page(root: Path, status: dict[str, Any], alerts: dict[str, Any]) -> Path:
    """Write the task's page (and its images) under the reports ``root``; returns it."""
    task = str(status["task"])
    folder = root / "monitoring" / task
    scores = pd.DataFrame(status.get("scores") or [])
    images = []
    if len(scores):
        for metric in sorted(set(scores["metric"])):
            plot_metric(scores, metric=metric, path=folder / f"{metric}.png")
            images.append(f'<h3>{html.escape(metric)}</h3><img src="{html.escape(metric)}.png"/>')
    drift = status.get("drift") or []
    last = max((d["day"] for d in drift), default=None)
    episodes = [Episode(**e) for e in alerts.get("episodes", [])]
    watched = str(status.get("watched") or "")
    opened = [
        f"<li class='regressed'>{html.escape(message(task, watched, e, 'opened'))}</li>"
        for e in episodes
        if e.status == "open"
    ]
    history = [
        {"episode": e.id, "status": e.status, "metrics": ", ".join(e.metrics),
         "resolved": e.resolved, "delivered": ", ".join(e.delivered)}
        for e in reversed(episodes)
    ]  # fmt: skip
    body = (
        "<p><a href='../../index.html'>← all reports</a></p>"
        f"<h1>Monitor of {html.escape(task)}</h1>"
        f"<p>Watching <strong>{html.escape(watched or '(nothing yet)')}</strong>; "
        f"{status.get('days', 0)} labelled day(s), {html.escape(str(status.get('first_day')))}"
        f"..{html.escape(str(status.get('last_day')))}; last decision "
        f"{html.escape(str(status.get('last_decision')))}.</p>"
        "<h2>Open alerts</h2>"
        + (f"<ul>{''.join(opened)}</ul>" if opened else "<p>None.</p>")
        + "<h2>Metrics per day</h2>"
        + ("".join(images) or "<p><em>No labelled day yet.</em></p>")
        + "<h2>Latest decision (longest window)</h2>"
        + _table(_longest(status.get("tests") or []), DECISION_COLUMNS)
        + f"<h2>Drift {html.escape(str(last or ''))}</h2>"
        + _table([d for d in drift if d["day"] == last], ["column", "psi", "threshold", "drifting"])
        + "<h2>Alert episodes</h2>"
        + _table(history, ["episode", "status", "metrics", "resolved", "delivered"])
        + f"<h2>Method</h2><p>{html.escape(str(status.get('method', '')))}</p>"
    )
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Monitor {html.escape(task)}"
        f"</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )
    target = root / page_path(task)
    write_atomic(target, page.encode())
    return target

"""Alert episodes: one incident per subgroup, told once when it opens and once when it ends.

An episode belongs to a subgroup (``overall`` is one): it **opens** on the first decision
where some watched metric of that subgroup is *degraded* in some trailing window
(:mod:`clearlake.monitoring.statistics`); metrics that degrade later join it silently. It
**resolves** on the first decision where none of its subgroup's metrics is still worse
over the last ``resolve_days`` (change below the minimum effect and not significant even
unadjusted: :func:`clearlake.monitoring.detection.still_worse`). After that, a new episode
of the subgroup needs new evidence: windows reaching back before the resolving window
are not used for it (else the long windows, still full of the bad days, would reopen it).

The state is plain JSON (:class:`MonitorState`) kept in the lake and written atomically
before any message is sent; a message is marked delivered once the webhook answered, so a
restart neither repeats nor loses it (a crash between delivery and the write repeats it
once: at-least-once).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from clearlake.monitoring.statistics import DEGRADED

OPEN, RESOLVED = "open", "resolved"
OPENED_EVENT, RESOLVED_EVENT = "opened", "resolved"


def where(kind: str, subgroup: str) -> str:
    return "overall" if kind == "overall" else f"{kind}={subgroup}"


@dataclass
class Episode:
    subgroup_kind: str
    subgroup: str
    opened: str
    """The decision day it opened (ISO)."""
    metrics: list[str]
    evidence: list[dict[str, Any]]
    """The degraded test of each metric when it opened (effect, interval, window, test)."""
    explanation: str = ""
    """The mix-shift / within-subgroup split of the overall change at opening."""
    decomposition: dict[str, Any] = field(default_factory=dict)
    """The same split as numbers (:meth:`Decomposition.to_json`, plus its metric)."""
    status: str = OPEN
    resolved: str | None = None
    resolution: list[dict[str, Any]] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)
    """Events whose message every notifier accepted (``opened``, ``resolved``)."""
    note: str = ""
    """Why it resolved, when not by the evidence (the watched model was replaced)."""

    @property
    def id(self) -> str:
        return f"{where(self.subgroup_kind, self.subgroup)}@{self.opened}"

    def events(self) -> list[str]:
        return [OPENED_EVENT] + ([RESOLVED_EVENT] if self.status == RESOLVED else [])

    def pending(self) -> list[str]:
        return [e for e in self.events() if e not in self.delivered]


@dataclass
class MonitorState:
    task: str
    watched: str = ""
    episodes: list[Episode] = field(default_factory=list)
    evidence_from: dict[str, str] = field(default_factory=dict)
    """Per subgroup (``where``): the first day a window may start to open a new episode."""
    last_decision: str | None = None

    def open_episode(self, kind: str, subgroup: str) -> Episode | None:
        return next(
            (
                e
                for e in self.episodes
                if e.status == OPEN and (e.subgroup_kind, e.subgroup) == (kind, subgroup)
            ),
            None,
        )

    def open_episodes(self) -> list[Episode]:
        return [e for e in self.episodes if e.status == OPEN]

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> MonitorState:
        episodes = [Episode(**e) for e in raw.get("episodes", [])]
        return cls(
            task=raw["task"],
            watched=raw.get("watched", ""),
            episodes=episodes,
            evidence_from=dict(raw.get("evidence_from", {})),
            last_decision=raw.get("last_decision"),
        )


def _record(row: Any) -> dict[str, Any]:
    keys = (
        "metric",
        "delta",
        "ci_low",
        "ci_high",
        "recent_value",
        "reference_value",
        "window_days",
        "window_start",
        "window_end",
        "method",
        "p_adjusted",
        "level",
        "n_recent",
        "n_reference",
        "min_effect",
    )
    out = {k: row[k] for k in keys if k in row}
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in out.items()}


def replace_model(state: MonitorState, model: str, *, day: str) -> list[tuple[Episode, str]]:
    """A new watched model starts with no open episode and no remembered evidence: the
    old model's open episodes close, saying why."""
    events = []
    for episode in state.open_episodes():
        episode.status, episode.resolved = RESOLVED, day
        episode.note = f"the watched model changed from {state.watched} to {model}"
        events.append((episode, RESOLVED_EVENT))
    state.evidence_from.clear()
    state.watched = model
    return events


def step(
    state: MonitorState,
    *,
    day: dt.date,
    tests: pd.DataFrame,
    worse: pd.DataFrame,
    resolve_days: int,
    explain: Callable[[str, str, dict[str, Any]], dict[str, Any]],
) -> list[tuple[Episode, str]]:
    """Advance the episodes by the decision of ``day``; returns the new events.

    ``tests``: every window's decided tests; ``worse``: :func:`still_worse` of the resolving
    window; ``explain(kind, subgroup, evidence)``: the decomposition of an opening (with
    its ``text``), ``{}`` when there is none.
    """
    events: list[tuple[Episode, str]] = []
    iso = day.isoformat()
    for episode in state.open_episodes():
        rows = worse[
            (worse["subgroup_kind"] == episode.subgroup_kind)
            & (worse["subgroup"] == episode.subgroup)
        ]
        if len(rows) and not rows["worse"].astype(bool).any():
            episode.status, episode.resolved = RESOLVED, iso
            episode.resolution = [_record(r) for _, r in rows.iterrows()]
            start = day - dt.timedelta(days=resolve_days - 1)
            state.evidence_from[where(episode.subgroup_kind, episode.subgroup)] = start.isoformat()
            events.append((episode, RESOLVED_EVENT))
    degraded = tests[tests["state"] == DEGRADED] if len(tests) else tests
    for (kind_key, subgroup_key), rows in degraded.groupby(
        ["subgroup_kind", "subgroup"], sort=True
    ):
        kind, subgroup = str(kind_key), str(subgroup_key)
        since = state.evidence_from.get(where(kind, subgroup), "")
        fresh = rows[rows["window_start"].astype(str) >= since]
        if fresh.empty:
            continue
        # Per metric, the window with the strongest evidence (smallest p relative to level).
        best = (
            fresh.assign(_strength=fresh["p_adjusted"] / fresh["level"])
            .sort_values(["metric", "_strength", "window_days"])
            .groupby("metric", sort=True)
            .head(1)
        )
        current = state.open_episode(kind, subgroup)
        if current is not None:
            for _, row in best.iterrows():
                if row["metric"] not in current.metrics:
                    current.metrics.append(str(row["metric"]))
            continue
        evidence = [_record(r) for _, r in best.iterrows()]
        episode = Episode(
            subgroup_kind=str(kind),
            subgroup=str(subgroup),
            opened=iso,
            metrics=[e["metric"] for e in evidence],
            evidence=evidence,
        )
        split = explain(kind, subgroup, evidence[0])
        episode.explanation = str(split.pop("text", ""))
        episode.decomposition = split
        state.episodes.append(episode)
        events.append((episode, OPENED_EVENT))
    state.last_decision = iso
    return events


def message(task: str, watched: str, episode: Episode, event: str) -> str:
    """The one line (or few) a person reads: the effect, interval, window, test, split."""
    place = where(episode.subgroup_kind, episode.subgroup)
    if event == RESOLVED_EVENT and episode.note:
        return (
            f"Clearlake monitor {task}: closed for {place} on {episode.resolved} (opened "
            f"{episode.opened}): {episode.note}."
        )
    if event == RESOLVED_EVENT:
        return (
            f"Clearlake monitor {task} ({watched}): resolved for {place} on {episode.resolved} "
            f"(opened {episode.opened}; {', '.join(episode.metrics)} back within the minimum "
            "effect over the recent days)."
        )
    parts = [
        f"{e['metric']} {e['delta']:+.4g} ({e['reference_value']:.4g} → {e['recent_value']:.4g}; "
        f"interval {e['ci_low']:+.4g}..{e['ci_high']:+.4g}) over the {e['window_days']}-day "
        f"window {e['window_start']}..{e['window_end']} (n={e['n_recent']} vs "
        f"{e['n_reference']} reference rows), {e['method']}, Holm-adjusted p={e['p_adjusted']:.2g}"
        f" at level {e['level']:.2g}"
        for e in episode.evidence
    ]
    text = (
        f"Clearlake monitor {task} ({watched}): degraded for {place} since {episode.opened}: "
        + "; ".join(parts)
        + "."
    )
    return text + (f" Decomposition: {episode.explanation}." if episode.explanation else "")

"""``clearlake monitor TASK``: what the watch on a task's shipped model says today."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from clearlake.cli.output import make_console
from clearlake.errors import ClearlakeError
from clearlake.settings import load_settings

if TYPE_CHECKING:
    from clearlake.lake.store import LakeStore

console = make_console()


def summary(store: LakeStore, task: str) -> dict[str, Any]:
    """The status the monitor last wrote, with its alert episodes (a clear error if none)."""
    from clearlake.monitoring import storage

    status = storage.load_status(store, task)
    if status is None:
        raise ClearlakeError(
            f"Task {task} has no monitor status yet: declare `monitor:` for it and materialise "
            f"monitor/{task}/status (its daily assets run by themselves as days land)."
        )
    state = storage.load_state(store, task)
    return {**status, "alerts": state.to_json()}


def _latest_scores(found: dict[str, Any]) -> list[dict[str, Any]]:
    scores = found.get("scores") or []
    if not scores:
        return []
    last = max(s["day"] for s in scores)
    return [s for s in scores if s["day"] == last]


def show(found: dict[str, Any]) -> None:
    from clearlake.monitoring.episodes import Episode, message

    task = found["task"]
    console.print(
        f"monitor {task}: watching {found.get('watched') or '(nothing yet)'}; "
        f"{found.get('days', 0)} day(s) labelled "
        f"({found.get('first_day', '-')}..{found.get('last_day', '-')}), "
        f"last decision {found.get('last_decision') or '-'}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    latest = _latest_scores(found)
    if latest:
        table = Table(title=f"scores of {latest[0]['day']} (bootstrap intervals)")
        for column in ("metric", "subgroup", "value", "interval", "rows"):
            table.add_column(column, no_wrap=True)
        for s in latest:
            where = "overall" if s["subgroup_kind"] == "overall" else f"{s['subgroup_kind']}="
            where += "" if s["subgroup_kind"] == "overall" else s["subgroup"]
            table.add_row(
                escape(s["metric"]),
                escape(where),
                f"{s['value']:.4g}",
                f"{s['ci_low']:.4g}..{s['ci_high']:.4g}",
                str(s["n_rows"]),
            )
        console.print(table)
    alerts = found["alerts"]
    opened = [e for e in alerts["episodes"] if e["status"] == "open"]
    if not opened:
        console.print("open alerts: none", markup=False)
    for raw in opened:
        episode = Episode(**raw)
        text = message(task, alerts.get("watched", ""), episode, "opened")
        console.print(f"OPEN {text}", markup=False, highlight=False, soft_wrap=True)
    tests = found.get("tests") or []
    if tests:
        longest = max(t["window_days"] for t in tests)
        unsure = [t for t in tests if t["window_days"] == longest and t["state"] == "inconclusive"]
        for t in unsure:
            place = (
                "overall"
                if t["subgroup_kind"] == "overall"
                else (f"{t['subgroup_kind']}={t['subgroup']}")
            )
            console.print(
                f"inconclusive over {longest} days: {t['metric']} for {place} (minimum "
                f"detectable effect {t['mde']:.3g} > minimum effect {t['min_effect']:.3g}, "
                f"n={t['n_recent']})",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
    drift = found.get("drift") or []
    if drift:
        last = max(d["day"] for d in drift)
        table = Table(title=f"drift of {last} (PSI against the reference)")
        for column in ("column", "psi", "threshold", "drifting"):
            table.add_column(column, no_wrap=True)
        for d in (d for d in drift if d["day"] == last):
            table.add_row(
                escape(d["column"]),
                f"{d['psi']:.3f}",
                f"{d['threshold']:.2f}",
                "yes" if d["drifting"] else "no",
            )
        console.print(table)
    console.print(found.get("method", ""), markup=False, highlight=False, soft_wrap=True)


def monitor(
    task: Annotated[str, typer.Argument(help="Task name (`tasks:` in clearlake.yaml).")],
    as_json: Annotated[bool, typer.Option("--json", help="The whole status as JSON.")] = False,
) -> None:
    """The watched model of TASK: days covered, the latest metrics per subgroup with
    intervals, open alerts and drift, as its monitor last computed them."""
    from clearlake.lake.store import LakeStore
    from clearlake.project.load import current_project

    settings = load_settings()
    project = current_project(settings)
    if project.task(task).monitor is None:
        raise ClearlakeError(
            f"Task {task} declares no `monitor:`: add one to {project.path} (see the README)."
        )
    found = summary(LakeStore(settings.lake_url), task)
    if as_json:
        typer.echo(json.dumps(found, indent=2, sort_keys=True, default=str))
        return
    show(found)

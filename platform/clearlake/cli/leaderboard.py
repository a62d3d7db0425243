"""``clearlake leaderboard``: every candidate's score over commit time, overall or in one
subgroup (read from each candidate's stored scores), with its gate outcome; for a pipeline,
one row per combination of its stages' commits, with the stage that changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from clearlake.cli.output import JsonOption, Listing, make_console, minutes, missing
from clearlake.errors import ClearlakeError
from clearlake.settings import load_settings

if TYPE_CHECKING:
    from clearlake.lake.store import LakeStore


def _subgroup(text: str) -> tuple[str, str]:
    column, sep, value = text.partition("=")
    if not sep or not column or not value:
        raise ClearlakeError(f"--subgroup {text!r}: write COLUMN=VALUE, e.g. carrier=WN.")
    return column, value


def leaderboard(
    task: Annotated[str | None, typer.Option(help="Only this task (default: every task).")] = None,
    metric: Annotated[str | None, typer.Option(help="Metric (default: the primary).")] = None,
    subgroup: Annotated[
        str | None,
        typer.Option(help="COLUMN=VALUE: the metric within this subgroup instead of overall."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Every evaluated candidate's score over commit time (overall or in one subgroup), with
    its gate outcome."""
    from clearlake import names
    from clearlake.evaluation.leaderboard import plot_path
    from clearlake.evaluation.metrics import lower_is_better
    from clearlake.evaluation.results import stored_frame
    from clearlake.lake.store import LakeStore
    from clearlake.project.load import current_project

    settings = load_settings()
    project = current_project(settings)
    store = LakeStore(settings.lake_url)
    tasks = [task] if task else sorted(project.config.tasks)
    where = _subgroup(subgroup) if subgroup else None
    out = make_console()
    plain = as_json or not out.is_terminal  # one listing of every task's rows
    missing: list[str] = []
    every = Listing(LEADERBOARD_COLUMNS)
    for name in tasks:
        config = project.task(name)
        key = names.leaderboard_key(name)
        frame = stored_frame(store, key)
        if frame is None:
            raise ClearlakeError(
                f"The leaderboard of task {name} has not been materialised yet: run `clearlake "
                f"demo`, or materialise {key.to_user_string()}."
            )
        chosen = metric or config.primary
        rows = frame[frame["metric"] == chosen]
        if rows.empty:
            raise ClearlakeError(
                f"No {chosen!r} scores on the leaderboard of task {name}: metrics there are "
                f"{', '.join(sorted(set(frame['metric']))) or '(none)'}."
            )
        records: list[dict[str, Any]] = [
            {str(k): v for k, v in r.items()} for r in rows.to_dict("records")
        ]
        if where is not None:
            try:
                records = _subgroup_rows(store, name, records, chosen, where)
            except UnknownSubgroupError as exc:
                if task is not None:
                    raise
                missing.append(str(exc))  # another task may have this subgroup
                continue
        label = f"{where[0]}={where[1]}" if where else "overall"
        staged = any(_text(r.get("stages")) for r in records)  # a pipeline: say which stage moved
        board = Listing(
            ["candidate", "committed"]
            + (["changed"] if staged else [])
            + ["value", "95% CI"]
            + (["verdict"] if where else [])
            + ["gate", "summary"],
            title=(
                f"Task {name} — {chosen}{'' if where is None else ' for ' + label} on "
                f"{config.test_suite} "
                f"({'lower' if lower_is_better(config, chosen) else 'higher'} is better)"
            ),
            wide=("summary",),
        )
        for row in records:
            entry = {
                "task": name,
                "candidate": row["candidate"],
                "committed": minutes(row["committed_at"]),
                "metric": chosen,
                "subgroup": label,
                "value": float(row["value"]),
                "ci_low": float(row["ci_low"]),
                "ci_high": float(row["ci_high"]),
                "verdict": row.get("verdict"),
                "gate": row.get("gate"),
                "summary": row.get("gate_summary"),
                "stages": _text(row.get("stages")),
                "changed": _text(row.get("stage_change")) or ("—" if row.get("stages") else ""),
            }
            every.add(entry)
            board.add({**entry, "95% CI": f"{entry['ci_low']:.4g}–{entry['ci_high']:.4g}"})
        notes = [f"minimum effects: {_min_effects(config)}"]
        notes.append(f"plot: {plot_path(settings.reports_root, name)}")
        if not plain:
            board.show(out=out)
            for note in notes:
                out.print(note, markup=False, highlight=False)
        elif not as_json:  # piped: the rows alone on stdout
            for note in notes:
                typer.echo(f"{name}: {note}", err=True)
    if len(missing) == len(tasks):
        raise UnknownSubgroupError(" ".join(missing))
    if plain:
        every.show(as_json=as_json)


def _text(value: Any) -> str:
    """A cell of a stored leaderboard as text ('' when missing: NaN, None, an older frame)."""
    return "" if missing(value) else str(value)


class UnknownSubgroupError(ClearlakeError):
    """A ``--subgroup COLUMN=VALUE`` that a task's stored scores do not hold."""


LEADERBOARD_COLUMNS = ["task", "candidate", "committed", "metric", "subgroup", "value"]
LEADERBOARD_COLUMNS += ["ci_low", "ci_high", "verdict", "gate", "summary", "stages", "changed"]


def _subgroup_rows(
    store: LakeStore,
    task: str,
    records: list[dict[str, Any]],
    metric: str,
    where: tuple[str, str],
) -> list[dict[str, Any]]:
    """The leaderboard's rows with ``metric`` read from each candidate's stored scores in
    subgroup ``where`` (and its verdict from the stored comparison, when compared)."""
    from clearlake import names
    from clearlake.evaluation.results import stored_frame

    column, value = where
    found: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for row in records:
        scores = stored_frame(store, names.scores_key(task), candidate=row["candidate"])
        if scores is None:
            continue
        seen.update(zip(scores["subgroup_kind"], scores["subgroup"].astype(str), strict=True))
        mine = scores[
            (scores["metric"] == metric)
            & (scores["subgroup_kind"] == column)
            & (scores["subgroup"].astype(str) == value)
        ]
        if mine.empty:
            continue
        score = mine.iloc[0]
        verdict = None
        compared = stored_frame(store, names.comparison_key(task), candidate=row["candidate"])
        if compared is not None:
            hit = compared[
                (compared["metric"] == metric)
                & (compared["subgroup_kind"] == column)
                & (compared["subgroup"].astype(str) == value)
            ]
            verdict = str(hit["verdict"].iloc[0]) if not hit.empty else None
        found.append(
            {
                **row,
                "value": float(score["value"]),
                "ci_low": float(score["ci_low"]),
                "ci_high": float(score["ci_high"]),
                "verdict": verdict,
            }
        )
    if not found:
        known = sorted(f"{k}={v}" for k, v in seen if k != "overall")
        columns = sorted({k for k, _ in seen if k != "overall"})
        if column in columns:
            values = ", ".join(v.split("=", 1)[1] for v in known if v.startswith(f"{column}="))
            hint = f"subgroup {column} has values {values}"
        else:
            hint = f"subgroup columns are {', '.join(columns) or '(none)'}"
        raise UnknownSubgroupError(
            f"Unknown subgroup {column}={value} on task {task}: {hint} (`clearlake config "
            "check` lists them)."
        )
    return found


def _min_effects(config: Any) -> str:
    from clearlake.evaluation import gate

    return "; ".join(f"{m} {t}" for m, t in gate.min_effect_texts(config).items())

"""``clearlake submit | why | diff | leaderboard | candidates``: continuous evaluation.

Dagster, pandas and the lake are imported inside the commands: help stays light.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from clearlake.cli.output import JsonOption, Listing, make_console
from clearlake.errors import ClearlakeError
from clearlake.settings import load_settings

if TYPE_CHECKING:
    import dagster as dg

    from clearlake.lake.store import LakeStore


def _instance() -> dg.DagsterInstance:
    from clearlake.cli.runs import instance

    return instance()


def _asset_key(text: str) -> dg.AssetKey:
    import dagster as dg

    if not text or text.startswith("/") or text.endswith("/"):
        raise ClearlakeError(
            f"{text!r} is not an asset key: write it as evaluation/<task>/candidate_scores."
        )
    return dg.AssetKey.from_user_string(text)


def _parameters(values: list[str]) -> dict[str, Any]:
    parameters: dict[str, Any] = {}
    for item in values:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise ClearlakeError(f"--param {item!r}: write NAME=VALUE (VALUE as JSON, e.g. 0.1).")
        try:
            parameters[name] = json.loads(raw)
        except ValueError:
            parameters[name] = raw
    return parameters


def submit(
    repo: Annotated[str, typer.Option(help="Registered repository name.")],
    commit: Annotated[str, typer.Option(help="Commit sha (at least 7 hex digits).")],
    param: Annotated[
        list[str] | None, typer.Option(help="Parameter NAME=VALUE (repeatable; VALUE is JSON).")
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="Dagster webserver (default CLEARLAKE_DAGSTER_URL).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Launch even if it was evaluated already.")] = False,
    wait: Annotated[
        bool, typer.Option(help="Wait for the gate outcome; exit 0 passed, 1 blocked, 2 error.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds --wait waits at most.")] = 1800.0,
) -> None:
    """Evaluate one commit now on its repository's task, through a running Dagster's
    GraphQL API (for CI, webhooks). With --wait: print the gate outcome and the report's
    link, exit 0 (passed, inconclusive, no baseline allowed), 1 (blocked) or 2 (error,
    timeout)."""
    from clearlake import names
    from clearlake.evaluation.submit import submit as submit_commit
    from clearlake.lake.store import LakeStore
    from clearlake.project.load import current_project

    out = make_console()
    settings = load_settings()
    task = current_project(settings).task_of(repo)
    parameters = _parameters(param or [])
    done = submit_commit(
        url or settings.dagster_url,
        repo=repo,
        commit=commit,
        job=names.evaluation_job(task),
        partitions=names.candidate_partitions_name(task),
        sensor=names.COMMIT_SENSOR,
        parameters=parameters or None,
        store=LakeStore(settings.lake_url) if parameters else None,
        force=force,
        comparison=list(names.comparison_key(task).path),
    )
    state = "launched" if done.new else "already evaluated or running"
    out.print(f"{done.key} (task {task}): {state} (run {done.run_id})", markup=False)
    if not wait:
        return
    from clearlake.evaluation.submit import wait_for_outcome
    from clearlake.reports.gallery import commit_url

    try:
        outcome = wait_for_outcome(
            url or settings.dagster_url,
            run_id=done.run_id,
            key=done.key,
            comparison=list(names.comparison_key(task).path),
            timeout_seconds=timeout,
        )
    except ClearlakeError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    link = commit_url(settings.reports_root, done.key, base_url=settings.reports_url)
    out.print(f"gate {outcome.headline()}", markup=False, highlight=False)
    out.print(f"report: {link}", markup=False, highlight=False)
    raise typer.Exit(0 if outcome.passed else 1)


def why(
    asset: Annotated[
        str, typer.Argument(help="Asset key, e.g. evaluation/<task>/candidate_comparison.")
    ],
    partition: Annotated[
        str | None, typer.Option(help="Partition key, or run:<run id> for a specific run.")
    ] = None,
    depth: Annotated[int, typer.Option(help="How many levels upstream to walk.")] = 8,
) -> None:
    """How a result came to be: its gate outcome (for a candidate), then its upstream
    lineage with code, data and parameters."""
    from clearlake import lineage
    from clearlake.evaluation import gate
    from clearlake.lake.store import LakeStore

    out = make_console()
    key = _asset_key(asset)
    tree = lineage.why(_instance(), key, partition, depth=depth)
    path = key.path
    if partition and len(path) >= 3 and path[0] == "evaluation" and "@" in partition:
        outcome = gate.load_outcome(LakeStore(load_settings().lake_url), path[1], partition)
        if outcome is not None:
            out.print("gate: " + "\n  ".join(outcome.details()), highlight=False, markup=False)
    out.print(lineage.render(tree), highlight=False, markup=False)


def diff(
    asset: Annotated[
        str, typer.Argument(help="Asset key, e.g. evaluation/<task>/candidate_scores.")
    ],
    key_a: Annotated[str, typer.Argument(help="Partition key (or run:<run id>) of A.")],
    key_b: Annotated[str, typer.Argument(help="Partition key (or run:<run id>) of B.")],
) -> None:
    """Why two results differ: which code, data, parameters or environment differ."""
    from clearlake import lineage

    instance, key = _instance(), _asset_key(asset)
    a, b = lineage.select(instance, key, key_a), lineage.select(instance, key, key_b)
    make_console().print(
        lineage.render_diff(a, b, lineage.compare(instance, a, b)), highlight=False, markup=False
    )


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
        board = Listing(
            ["candidate", "committed", "value", "95% CI"]
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
                "committed": _minutes(row["committed_at"]),
                "metric": chosen,
                "subgroup": label,
                "value": float(row["value"]),
                "ci_low": float(row["ci_low"]),
                "ci_high": float(row["ci_high"]),
                "verdict": row.get("verdict"),
                "gate": row.get("gate"),
                "summary": row.get("gate_summary"),
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


class UnknownSubgroupError(ClearlakeError):
    """A ``--subgroup COLUMN=VALUE`` that a task's stored scores do not hold."""


def _minutes(when: Any) -> str | None:
    """A commit time in UTC to the minute (None for a missing one, NaT included)."""
    if when is None or when != when:
        return None
    return str(when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M"))


LEADERBOARD_COLUMNS = ["task", "candidate", "committed", "metric", "subgroup", "value"]
LEADERBOARD_COLUMNS += ["ci_low", "ci_high", "verdict", "gate", "summary"]


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


def candidates(
    repo: Annotated[str | None, typer.Option(help="Only this repository.")] = None,
    task: Annotated[str | None, typer.Option(help="Only this task.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Candidates to show (newest first).")] = 20,
    offset: Annotated[int, typer.Option(min=0, help="Newest candidates to skip first.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Evaluated candidates, newest commit first, with their gate outcome (passed, blocked,
    inconclusive, no baseline; failed when the run failed before any outcome)."""
    from clearlake import names
    from clearlake.evaluation import gate
    from clearlake.evaluation.candidates import candidate_commit_info
    from clearlake.lake.store import LakeStore
    from clearlake.project.load import current_project

    settings = load_settings()
    store, project = LakeStore(settings.lake_url), current_project(settings)
    if repo:
        tasks = [project.task_of(repo)]
        if task and task != tasks[0]:
            raise ClearlakeError(f"Repository {repo} is evaluated on task {tasks[0]}, not {task}.")
    elif task:
        project.task(task)  # an unknown task is an error, not an empty list
        tasks = [task]
    else:
        tasks = sorted(project.config.tasks)
    instance = _instance()
    found: list[tuple[str, str, Any]] = []
    for name in tasks:
        for key in instance.get_dynamic_partitions(names.candidate_partitions_name(name)):
            if repo and not key.startswith(f"{repo}@"):
                continue
            try:
                info = candidate_commit_info(key, store=store, project=project, settings=settings)
            except ClearlakeError:
                info = None
            found.append((name, key, info))
    found.sort(key=lambda f: (_sort_time(f[2]), f[1]), reverse=True)
    page = found[offset : offset + limit]
    listing = Listing(
        ["task", "candidate", "committed", "gate", "message", "detail"],
        title=f"{len(found)} candidate(s)",
        wide=("detail",),
        shown={"message": 40, "detail": 240},
        terminal=("candidate", "committed", "gate", "message", "detail"),  # the key names the task
    )
    for name, key, info in page:
        outcome = gate.load_outcome(store, name, key)
        if outcome is not None:
            state, detail = outcome.status, outcome.headline()
        else:
            state, detail = _run_state(instance, key)
        listing.add(
            {
                "task": name,
                "candidate": key,
                "committed": _minutes(info.committed_at) if info else None,
                "gate": state,
                "message": info.subject if info else "",
                "detail": detail,
            }
        )
    listing.show(as_json=as_json)
    if len(found) > offset + len(page) and not as_json:
        typer.echo(
            f"showing {offset + 1}–{offset + len(page)} of {len(found)}: "
            f"--offset {offset + len(page)} for more",
            err=True,
        )


def _sort_time(info: Any) -> str:
    return info.committed_at.isoformat() if info is not None else ""


def _run_state(instance: dg.DagsterInstance, key: str) -> tuple[str, str]:
    """A candidate without a gate outcome: failed (with our error's first line), running,
    or not run."""
    import dagster as dg

    runs = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": key}), limit=1)
    if not runs:
        return "not run", ""
    run = runs[0]
    if run.status == dg.DagsterRunStatus.FAILURE:
        return "failed", _failure(instance, run.run_id).removeprefix(f"Candidate {key}: ")
    if run.is_finished:
        return "failed", f"run {run.status.value.lower()} without a gate outcome"
    return "running", f"run {run.run_id[:8]} {run.status.value.lower()}"


def _min_effects(config: Any) -> str:
    from clearlake.evaluation import gate

    return "; ".join(f"{m} {t}" for m, t in gate.min_effect_texts(config).items())


def _failure(instance: dg.DagsterInstance, run_id: str) -> str:
    """The first line of our own error in a failed run (what went wrong, briefly), with its
    last line when the first only announces it."""
    import dagster as dg

    for record in instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.STEP_FAILURE
    ).records:
        event = record.event_log_entry.dagster_event
        error = event.step_failure_data.error if event and event.step_failure_data else None
        while error is not None and error.cause is not None:
            error = error.cause
        if error is not None:
            lines = [line.strip() for line in error.message.strip().splitlines() if line.strip()]
            first = lines[0].split(": ", 1)[-1]
            if first.endswith(":") and len(lines) > 1:  # "Last lines of its output:" → the last
                first += " " + lines[-1]
            return first
    return "failed"

"""``clearlake submit | why | diff | leaderboard | candidates``: continuous evaluation."""

from __future__ import annotations

import json
from typing import Annotated, Any

import dagster as dg
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from clearlake import lineage, names
from clearlake.errors import ClearlakeError
from clearlake.evaluation import gate
from clearlake.evaluation.metrics import lower_is_better
from clearlake.evaluation.results import stored_frame
from clearlake.lake.store import LakeStore
from clearlake.project.load import current_project
from clearlake.settings import load_settings

console = Console(width=160)


def _instance() -> dg.DagsterInstance:
    from clearlake.cli.runs import instance

    return instance()


def _asset_key(text: str) -> dg.AssetKey:
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
    from clearlake.evaluation.git import git_repository
    from clearlake.evaluation.submit import check_sha
    from clearlake.evaluation.submit import submit as submit_commit

    settings = load_settings()
    project = current_project(settings)
    task = project.task_of(repo)
    parameters = _parameters(param or [])
    check_sha(commit)
    repository = git_repository(project, repo, settings)
    repository.refresh()
    sha = repository.resolve(commit)  # before anything is registered or launched
    done = submit_commit(
        url or settings.dagster_url,
        repo=repo,
        commit=sha,
        job=names.evaluation_job(task),
        partitions=names.candidate_partitions_name(task),
        sensor=names.COMMIT_SENSOR,
        parameters=parameters or None,
        store=LakeStore(settings.lake_url) if parameters else None,
        force=force,
        comparison=list(names.comparison_key(task).path),
    )
    state = "launched" if done.new else "already evaluated or running"
    console.print(f"{done.key} (task {task}): {state} (run {done.run_id})", markup=False)
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
        console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    link = commit_url(settings.reports_root, done.key, base_url=settings.reports_url)
    console.print(f"gate {outcome.headline()}", markup=False, highlight=False, soft_wrap=True)
    console.print(f"report: {link}", markup=False, highlight=False, soft_wrap=True)
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
    key = _asset_key(asset)
    tree = lineage.why(_instance(), key, partition, depth=depth)
    path = key.path
    if partition and len(path) >= 3 and path[0] == "evaluation" and "@" in partition:
        outcome = gate.load_outcome(LakeStore(load_settings().lake_url), path[1], partition)
        if outcome is not None:
            console.print("gate: " + "\n  ".join(outcome.details()), highlight=False, markup=False)
    console.print(lineage.render(tree), highlight=False, markup=False)


def diff(
    asset: Annotated[
        str, typer.Argument(help="Asset key, e.g. evaluation/<task>/candidate_scores.")
    ],
    key_a: Annotated[str, typer.Argument(help="Partition key (or run:<run id>) of A.")],
    key_b: Annotated[str, typer.Argument(help="Partition key (or run:<run id>) of B.")],
) -> None:
    """Why two results differ: which code, data, parameters or environment differ."""
    instance, key = _instance(), _asset_key(asset)
    a, b = lineage.select(instance, key, key_a), lineage.select(instance, key, key_b)
    console.print(
        lineage.render_diff(a, b, lineage.compare(instance, a, b)), highlight=False, markup=False
    )


def leaderboard(
    task: Annotated[str | None, typer.Option(help="Only this task (default: every task).")] = None,
    metric: Annotated[str | None, typer.Option(help="Metric (default: the primary).")] = None,
) -> None:
    """Every evaluated candidate's overall score over commit time, with its verdict."""
    from clearlake.evaluation.leaderboard import plot_path

    settings = load_settings()
    project = current_project(settings)
    store = LakeStore(settings.lake_url)
    tasks = [task] if task else sorted(project.config.tasks)
    for name in tasks:
        config = project.task(name)
        frame = stored_frame(store, names.leaderboard_key(name))
        if frame is None:
            raise ClearlakeError(
                f"The leaderboard of task {name} has not been materialised yet: run `clearlake "
                f"demo`, or materialise {names.leaderboard_key(name).to_user_string()}."
            )
        chosen = metric or config.primary
        rows = frame[frame["metric"] == chosen]
        if rows.empty:
            raise ClearlakeError(
                f"No {chosen!r} scores on the leaderboard of task {name}: metrics there are "
                f"{', '.join(sorted(set(frame['metric']))) or '(none)'}."
            )
        better = "lower" if lower_is_better(config, chosen) else "higher"
        table = Table(title=f"Task {name} — {chosen} on {config.test_suite} ({better} is better)")
        table.add_column("candidate", no_wrap=True)
        for column in ("committed", chosen, "95% CI"):
            table.add_column(column, no_wrap=True)
        table.add_column("gate", overflow="fold")
        for row in rows.to_dict("records"):
            when = row["committed_at"]
            table.add_row(
                row["candidate"],
                str(when)[:16] if when is not None else "?",
                f"{row['value']:.4g}",
                f"{row['ci_low']:.4g}–{row['ci_high']:.4g}",
                escape(str(row.get("gate_summary") or "—")),
            )
        console.print(table)
        console.print(f"minimum effects: {_min_effects(config)}", markup=False)
        console.print(f"plot: {plot_path(settings.reports_root, name)}")


def candidates(
    repo: Annotated[str | None, typer.Option(help="Only this repository.")] = None,
    task: Annotated[str | None, typer.Option(help="Only this task.")] = None,
) -> None:
    """Registered candidates of every task with their latest run status and verdict."""
    instance, settings = _instance(), load_settings()
    store, project = LakeStore(settings.lake_url), current_project(settings)
    tasks = [task] if task else sorted(project.config.tasks)
    if repo:
        tasks = [project.task_of(repo)]
    table = Table(title="candidates")
    for column in ("task", "candidate", "commit", "run", "gate"):
        table.add_column(column, no_wrap=column != "commit")
    table.add_column("outcome", overflow="fold")
    count = 0
    for name in tasks:
        keys = sorted(instance.get_dynamic_partitions(names.candidate_partitions_name(name)))
        if repo:
            keys = [k for k in keys if k.startswith(f"{repo}@")]
        for key in keys:
            count += 1
            runs = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": key}), limit=1)
            status = runs[0].status.value.lower() if runs else "never run"
            outcome = gate.load_outcome(store, name, key)
            subject = _subject(key, store)
            verdict = outcome.status if outcome else ""
            detail = outcome.headline() if outcome else ""
            if runs and not outcome and runs[0].status == dg.DagsterRunStatus.FAILURE:
                detail = _failure(instance, runs[0].run_id).removeprefix(f"Candidate {key}: ")
            table.add_row(
                *(escape(v) for v in (name, key, subject[:50], status, verdict, detail[:120]))
            )
    table.title = f"{count} candidate(s)"
    console.print(table)


def _min_effects(config: Any) -> str:
    return "; ".join(f"{m} {t}" for m, t in gate.min_effect_texts(config).items())


def _subject(key: str, store: LakeStore) -> str:
    from clearlake.evaluation.candidates import candidate_commit_info

    try:
        return candidate_commit_info(key, store=store).subject
    except ClearlakeError:
        return ""


def _failure(instance: dg.DagsterInstance, run_id: str) -> str:
    """The first line of our own error in a failed run (what went wrong, briefly)."""
    for record in instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.STEP_FAILURE
    ).records:
        event = record.event_log_entry.dagster_event
        error = event.step_failure_data.error if event and event.step_failure_data else None
        while error is not None and error.cause is not None:
            error = error.cause
        if error is not None:
            return error.message.strip().splitlines()[0].split(": ", 1)[-1]
    return "failed"


def register(app: typer.Typer) -> None:
    app.command("submit")(submit)
    app.command("why")(why)
    app.command("diff")(diff)
    app.command("leaderboard")(leaderboard)
    app.command("candidates")(candidates)

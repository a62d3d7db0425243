"""``clearlake candidates``: evaluated candidates, newest commit first, with the gate outcome
stored for each (not the status of its latest run), a page at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from clearlake.cli.output import JsonOption, Listing, minutes
from clearlake.errors import ClearlakeError
from clearlake.settings import load_settings

if TYPE_CHECKING:
    import dagster as dg


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
    from clearlake.cli.runs import instance as configured
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
    instance = configured()
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
                "committed": minutes(info.committed_at) if info else None,
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

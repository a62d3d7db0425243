"""``clearlake submit | why | diff``: evaluate a commit now; how a result came to be.

Dagster, pandas and the lake are imported inside the commands: help stays light.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from clearlake.cli.output import make_console
from clearlake.errors import ClearlakeError
from clearlake.settings import load_settings

if TYPE_CHECKING:
    import dagster as dg


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
    from clearlake.evaluation.git import git_repository
    from clearlake.evaluation.submit import check_sha
    from clearlake.evaluation.submit import submit as submit_commit
    from clearlake.lake.store import LakeStore
    from clearlake.project.load import current_project

    out = make_console()
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
    from clearlake.evaluation import gate
    from clearlake.lake.store import LakeStore
    from clearlake.orchestration import lineage

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
    from clearlake.orchestration import lineage

    instance, key = _instance(), _asset_key(asset)
    a, b = lineage.select(instance, key, key_a), lineage.select(instance, key, key_b)
    make_console().print(
        lineage.render_diff(a, b, lineage.compare(instance, a, b)), highlight=False, markup=False
    )

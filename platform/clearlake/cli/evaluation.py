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

    from clearlake.project.load import Project
    from clearlake.settings import Settings


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
    GraphQL API (for CI, webhooks). A commit of a pipeline's stage is evaluated with the
    other stages at their reference commits, and --wait also waits for every combination
    the commit sensor made with it. With --wait: print each gate outcome and report link,
    exit 0 (passed, inconclusive, no baseline allowed), 1 (one blocked) or 2 (error,
    timeout)."""
    import time

    from clearlake import names
    from clearlake.evaluation.git import git_repository
    from clearlake.evaluation.submit import check_sha
    from clearlake.evaluation.submit import submit as submit_commit
    from clearlake.lake.store import LakeStore
    from clearlake.project.load import current_project

    out = make_console()
    settings = load_settings()
    project = current_project(settings)
    parameters = _parameters(param or [])
    check_sha(commit)
    repository = git_repository(project, repo, settings)
    repository.refresh()
    sha = repository.resolve(commit)  # before anything is registered or launched
    server = url or settings.dagster_url
    launched = []
    for task, stages in _targets(project, settings, server, repo, sha, parameters):
        done = submit_commit(
            server,
            repo=repo,
            commit=sha,
            job=names.evaluation_job(task),
            partitions=names.candidate_partitions_name(task),
            sensor=names.COMMIT_SENSOR,
            parameters=parameters or None,
            store=LakeStore(settings.lake_url) if parameters else None,
            force=force,
            comparison=list(names.comparison_key(task).path),
            stages=stages,
        )
        state = "launched" if done.new else "already evaluated or running"
        out.print(f"{done.key} (task {task}): {state} (run {done.run_id})", markup=False)
        launched.append((task, done))
    if not wait:
        return
    from clearlake.evaluation.submit import wait_for_outcome
    from clearlake.reports.gallery import commit_url

    deadline = time.monotonic() + timeout
    blocked = False
    for task, done in launched:
        try:
            outcome = wait_for_outcome(
                server,
                run_id=done.run_id,
                key=done.key,
                comparison=list(names.comparison_key(task).path),
                timeout_seconds=max(deadline - time.monotonic(), 0.0),
            )
        except ClearlakeError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from None
        link = commit_url(settings.reports_root, done.key, base_url=settings.reports_url)
        whose = f"{done.key}: " if len(launched) > 1 else ""
        out.print(f"gate {whose}{outcome.headline()}", markup=False, highlight=False)
        out.print(f"report: {link}", markup=False, highlight=False)
        blocked = blocked or not outcome.passed
    raise typer.Exit(1 if blocked else 0)


def _targets(
    project: Project,
    settings: Settings,
    url: str,
    repo: str,
    sha: str,
    parameters: dict[str, Any],
) -> list[tuple[str, dict[str, str] | None]]:
    """What submitting ``repo@sha`` evaluates: ``(task, stages)`` per candidate — the
    repository's task (stages None), or for a pipeline's stage, per pipeline naming it, the
    combination with the other stages at their reference commits (what the commit sensor
    would evaluate) and every combination already registered that holds the commit."""
    from clearlake import names
    from clearlake.evaluation.candidates import CandidateKey, parameter_hash
    from clearlake.evaluation.submit import reference_combination, registered_with

    tasks = project.pipelines_of(repo)
    if not tasks:
        return [(project.task_of(repo), None)]
    wanted = parameter_hash(parameters) if parameters else None
    found: list[tuple[str, dict[str, str] | None]] = []
    for task in tasks:
        reference = reference_combination(project, settings, task=task, repo=repo, sha=sha)
        found.append((task, reference))
        known = {str(CandidateKey.of_stages(reference).without_parameters())}
        comparison = list(names.comparison_key(task).path)
        for key in registered_with(url, comparison=comparison, repo=repo, sha=sha):
            parsed = CandidateKey.parse(key)
            plain = str(parsed.without_parameters())
            if parsed.param_hash == wanted and plain not in known:
                known.add(plain)
                stages = {s.repo: s.commit for s in parsed.stages}
                found.append((task, {**stages, repo: sha}))
    return found


def why(
    asset: Annotated[
        str,
        typer.Argument(
            help="Asset key (evaluation/<task>/candidate_comparison), or a candidate key "
            "(repo@1a2b3c4, a pipeline's late-features@1a2b3c4+model@5d6e7f8): its comparison."
        ),
    ],
    partition: Annotated[
        str | None, typer.Option(help="Partition key, or run:<run id> for a specific run.")
    ] = None,
    depth: Annotated[int, typer.Option(help="How many levels upstream to walk.")] = 8,
) -> None:
    """How a result came to be: its gate outcome (for a candidate), each stage's commit (for
    a pipeline's combination), then its upstream lineage with code, data and parameters."""
    from clearlake.evaluation import gate
    from clearlake.lake.store import LakeStore
    from clearlake.orchestration import lineage

    out = make_console()
    key, partition = _why_target(asset, partition)
    tree = lineage.why(_instance(), key, partition, depth=depth)
    path = key.path
    if partition and len(path) >= 3 and path[0] == "evaluation" and "@" in partition:
        outcome = gate.load_outcome(LakeStore(load_settings().lake_url), path[1], partition)
        if outcome is not None:
            out.print("gate: " + "\n  ".join(outcome.details()), highlight=False, markup=False)
    out.print(lineage.render(tree), highlight=False, markup=False)


def _why_target(text: str, partition: str | None) -> tuple[dg.AssetKey, str | None]:
    """The asset and partition ``why`` explains: a candidate key stands for its task's
    comparison of that candidate."""
    if "@" not in text or "/" in text:
        return _asset_key(text), partition
    from clearlake import names
    from clearlake.evaluation.candidates import CandidateKey
    from clearlake.project.load import current_project

    if partition is not None:
        raise ClearlakeError(
            f"{text} is a candidate key: drop --partition (or give an asset key and --partition)."
        )
    parsed = CandidateKey.parse(text)
    task = current_project(load_settings()).task_of(parsed.repo)
    return names.comparison_key(task), str(parsed)


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

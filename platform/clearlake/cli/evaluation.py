"""``clearlake submit | why | diff | leaderboard | candidates``: continuous evaluation."""

from __future__ import annotations

import json
from typing import Annotated, Any

import dagster as dg
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from clearlake import lineage
from clearlake.errors import ClearlakeError
from clearlake.lake.store import LakeStore
from clearlake.settings import load_settings

console = Console(width=160)
COMPARISON = dg.AssetKey(["evaluation", "candidate_comparison"])


def _instance() -> dg.DagsterInstance:
    from clearlake.cli.runs import instance

    return instance()


def _asset_key(text: str) -> dg.AssetKey:
    if not text or text.startswith("/") or text.endswith("/"):
        raise ClearlakeError(
            f"{text!r} is not an asset key: write it as evaluation/candidate_scores."
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
) -> None:
    """Evaluate one commit now, through a running Dagster's GraphQL API (for CI, webhooks)."""
    from clearlake.evaluation.submit import submit as submit_commit

    settings = load_settings()
    parameters = _parameters(param or [])
    done = submit_commit(
        url or settings.dagster_url,
        repo=repo,
        commit=commit,
        parameters=parameters or None,
        store=LakeStore(settings.lake_url) if parameters else None,
        force=force,
    )
    state = "launched" if done.new else "already evaluated or running"
    console.print(f"{done.key}: {state} (run {done.run_id})")


def why(
    asset: Annotated[str, typer.Argument(help="Asset key, e.g. evaluation/candidate_comparison.")],
    partition: Annotated[
        str | None, typer.Option(help="Partition key, or run:<run id> for a specific run.")
    ] = None,
    depth: Annotated[int, typer.Option(help="How many levels upstream to walk.")] = 8,
) -> None:
    """How a result came to be: its upstream lineage with code, data and parameters."""
    tree = lineage.why(_instance(), _asset_key(asset), partition, depth=depth)
    console.print(lineage.render(tree), highlight=False, markup=False)


def diff(
    asset: Annotated[str, typer.Argument(help="Asset key, e.g. evaluation/candidate_scores.")],
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
    metric: Annotated[str | None, typer.Option(help="Metric (default: the primary).")] = None,
) -> None:
    """Every evaluated candidate's overall score over commit time, with its verdict."""
    from clearlake.evaluation.config import load_config

    settings = load_settings()
    store = LakeStore(settings.lake_url)
    path = store.partition_file("evaluation/leaderboard", None)
    if not store.exists(path):
        raise ClearlakeError(
            "The leaderboard has not been materialised yet: run `clearlake demo`, or "
            "materialise evaluation/leaderboard in the Dagster UI."
        )
    chosen = metric or load_config(settings.config_path).evaluation.primary_metric
    frame = store.read_table(path).to_pandas()
    rows = frame[frame["metric"] == chosen]
    if rows.empty:
        raise ClearlakeError(
            f"No {chosen!r} scores on the leaderboard: metrics there are "
            f"{', '.join(sorted(set(frame['metric'])))}."
        )
    table = Table(title=f"Leaderboard — {chosen} on the held-out suite (lower is better)")
    for column in ("candidate", "committed", chosen, "95% CI", "verdict vs baseline"):
        table.add_column(column)
    for row in rows.to_dict("records"):
        when = row["committed_at"]
        table.add_row(
            row["candidate"],
            str(when)[:16] if when is not None else "?",
            f"{row['value']:.2f}",
            f"{row['ci_low']:.2f}–{row['ci_high']:.2f}",
            str(row["verdict"] or "—"),
        )
    console.print(table)
    console.print(f"plot: {settings.reports_root / 'leaderboard.png'}")


def candidates(
    repo: Annotated[str | None, typer.Option(help="Only this repository.")] = None,
) -> None:
    """Registered candidates with their latest run status and verdict."""
    instance, store = _instance(), LakeStore(load_settings().lake_url)
    keys = sorted(instance.get_dynamic_partitions("candidates"))
    if repo:
        keys = [k for k in keys if k.startswith(f"{repo}@")]
    table = Table(title=f"{len(keys)} candidate(s)")
    for column in ("candidate", "commit", "run", "verdict", "regressions"):
        table.add_column(column)
    for key in keys:
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": key}), limit=1)
        status = runs[0].status.value.lower() if runs else "never run"
        made = lineage.latest(instance, COMPARISON, key)
        subject = _subject(key, store)
        verdict = made.metadata.get("overall_verdict", "") if made else ""
        detail = made.metadata.get("regressions", "") if made else ""
        if runs and not made and runs[0].status == dg.DagsterRunStatus.FAILURE:
            detail = _failure(instance, runs[0].run_id).removeprefix(f"Candidate {key}: ")
        table.add_row(*(escape(v) for v in (key, subject[:50], status, verdict, detail[:120])))
    console.print(table)


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

"""``clearlake gate calibrate``: how far a task's regression gate can be trusted."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from clearlake.cli.output import make_console
from clearlake.errors import ClearlakeError
from clearlake.settings import load_settings

console = make_console()
gate_app = typer.Typer(help="The regression gate: measure how far it can be trusted.")


@gate_app.command("calibrate")
def calibrate(
    task: Annotated[str, typer.Argument(help="Task name (`tasks:` in clearlake.yaml).")],
    trials: Annotated[
        int | None,
        typer.Option(min=2, max=200, help="A/A trials (default: the task's calibration.trials)."),
    ] = None,
    champion: Annotated[
        str | None,
        typer.Option(
            help="repo@sha7 (or a pipeline's combination key) compared with itself (default: "
            "calibration.champion, else the task's best evaluated candidate)."
        ),
    ] = None,
) -> None:
    """A/A trials: the task's champion against itself under other seeds and bootstrap
    resamples, through a Dagster run of evaluation/<task>/gate_calibration (the gate's own
    code). Prints and records the false-alarm rate and each subgroup's minimum detectable
    effect; the gallery shows them next to the task."""
    from clearlake import names
    from clearlake.cli.runs import failure_message, materialize
    from clearlake.evaluation import calibration
    from clearlake.evaluation.candidates import CandidateKey, InvalidCandidateKeyError
    from clearlake.lake.store import LakeStore
    from clearlake.project.load import current_project

    settings = load_settings()
    project = current_project(settings)
    config = project.task(task)
    try:  # a pipeline's combination names its task through its model stage (the last)
        repo = CandidateKey.parse(champion).repo if champion else ""
    except InvalidCandidateKeyError:
        repo = (champion or "").partition("@")[0]
    if any(r.name == repo for r in project.config.repositories) and project.task_of(repo) != task:
        raise ClearlakeError(
            f"Champion {champion} is not a candidate of task {task}: repository {repo} is "
            f"evaluated on task {project.task_of(repo)}."
        )
    store = LakeStore(settings.lake_url)
    chosen = calibration.choose_champion(
        store,
        project=project,
        task_name=task,
        scores=names.scores_key(task),
        predictions=names.predictions_key(task),
        champion=champion,
    )
    count = trials or config.calibration.trials
    key = names.gate_calibration_key(task)
    console.print(f"calibrating task {task}: {count} A/A trials of {chosen}", markup=False)
    op_config = {"champion": chosen, "trials": count}
    result = materialize(
        [key], run_config={"ops": {key.to_python_identifier(): {"config": op_config}}}
    )
    if not result.success:
        raise ClearlakeError(
            f"Calibrating task {task} failed (run {result.run_id}): {failure_message(result)}"
        )
    found = calibration.load(store, key)
    if found is None:  # the run succeeded, so this is a bug, not a user's problem
        raise ClearlakeError(f"The calibration of task {task} left no {calibration.SUMMARY_FILE}.")
    console.print(found.headline(), markup=False, highlight=False, soft_wrap=True)
    rows = found.table_rows()
    if rows:
        table = Table(title=f"{found.primary} per subgroup ({found.trials} A/A trials)")
        for column in rows[0]:
            table.add_column(column, no_wrap=True)
        for row in rows:
            table.add_row(*(escape(v) for v in row.values()))
        console.print(table)
    console.print(
        f"recorded: {calibration.summary_path(store, key)} (run {result.run_id})",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )

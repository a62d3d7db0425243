"""``evaluation/<task>/gate_calibration``: how far each task's gate can be trusted.

A/A trials of the task's champion (:mod:`clearlake.evaluation.calibration`), on demand
(``clearlake gate calibrate TASK``, or the job ``names.calibration_job(task)``) or on the
cron a task declares as ``calibration.schedule``. Output (lake IO manager,
``<lake>/evaluation/<task>/gate_calibration/data.parquet``): one row per metric and subgroup
— ``n_rows``, ``trials``, ``false_alarms``, ``false_alarm_rate``, ``baseline_value``,
``min_effect``, ``mde``, ``mde_relative``, ``detects_min_effect``; the summary the gallery
and the CLI print is ``latest.json`` beside it.
"""

import time

import dagster as dg
import pyarrow as pa
from pydantic import Field

from assets.evaluation.candidates import task_metrics, task_version
from clearlake.evaluation import calibration, candidates, gate, runner, scoring, seeds
from clearlake.names import (
    calibration_job,
    calibration_schedule,
    evaluation_group,
    gate_calibration_key,
    predictions_key,
    scores_key,
)
from clearlake.orchestration.resources import LakeResource
from clearlake.project.load import Project, current_project
from clearlake.provenance import provenance_metadata
from clearlake.settings import load_settings
from clearlake.versioning import digest, source_version


class GateCalibrationConfig(dg.Config):
    """What ``clearlake gate calibrate`` may override for one run."""

    champion: str | None = Field(
        default=None, description="repo@sha7 (default: calibration.champion, else the best)."
    )
    trials: int | None = Field(default=None, description="Default: calibration.trials.")


def calibration_asset(project: Project, task_name: str) -> dg.AssetsDefinition:
    task = project.task(task_name)
    code_version = digest(
        source_version(calibration, scoring, gate, seeds, runner), task_version(task)
    )

    @dg.asset(
        key=gate_calibration_key(task_name),
        group_name=evaluation_group(task_name),
        description=(
            f"Task {task_name}: A/A trials of its champion against itself (other seeds, other "
            "bootstrap resamples) through the gate's own code: the measured false-alarm rate "
            "overall and per subgroup, and each subgroup's minimum detectable effect."
        ),
        deps=[predictions_key(task_name), scores_key(task_name)],
        code_version=code_version,
        kinds={"python", "pandas"},
        owners=["team:data-science"],
        tags={"layer": "evaluation", "task": task_name},
    )
    def _calibration(
        context: dg.AssetExecutionContext, lake: LakeResource, config: GateCalibrationConfig
    ) -> dg.Output[pa.Table]:
        started = time.perf_counter()
        store = lake.store()
        champion = calibration.choose_champion(
            store,
            project=project,
            task_name=task_name,
            scores=scores_key(task_name),
            predictions=predictions_key(task_name),
            champion=config.champion,
        )
        result, frame = calibration.calibrate(
            context,
            project=project,
            task_name=task_name,
            store=store,
            champion=champion,
            trials=config.trials or task.calibration.trials,
            predictions=predictions_key(task_name),
            metrics=task_metrics(project, task),
        )
        summary = calibration.save(store, gate_calibration_key(task_name), result)
        table = pa.Table.from_pandas(
            frame, schema=calibration.CALIBRATION_SCHEMA, preserve_index=False
        )
        sha = candidates.candidate_commit_info(champion, store=store, project=project).sha
        return dg.Output(
            table,
            metadata={
                "task": task_name,
                "champion": champion,
                "trials": result.trials,
                "kind": result.kind,
                "blocked": result.blocked,
                "false_alarm_rate": result.false_alarm_rate,
                "subgroup_false_alarm_rate": round(result.subgroup_false_alarm_rate, 6),
                "declared_level": result.declared_level,
                "summary": result.headline(),
                "mde_per_subgroup": dg.MetadataValue.md(markdown(result)),
                "seed_spread": result.seed_note,
                "fits": result.fits,
                "summary_path": dg.MetadataValue.path(summary),
                "compute_seconds": round(time.perf_counter() - started, 3),
                **provenance_metadata(
                    run_id=context.run_id,
                    code_version=code_version,
                    parameters=candidates.candidate_parameters(champion, store=store),
                    candidate_commit=sha,
                ),
            },
        )

    return _calibration


def markdown(result: calibration.Calibration) -> str:
    rows = result.table_rows()
    if not rows:
        return result.headline()
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row[h] for h in head) + " |" for row in rows]
    return f"{result.headline()}\n\n" + "\n".join(lines)


def calibration_definitions(project: Project, *, in_process: bool) -> dg.Definitions:
    """Per task: the asset, a job that runs it alone, and its schedule when one is declared."""
    assets, jobs, schedules = [], [], []
    for task_name, task in sorted(project.config.tasks.items()):
        assets.append(calibration_asset(project, task_name))
        job = dg.define_asset_job(
            calibration_job(task_name),
            selection=dg.AssetSelection.assets(gate_calibration_key(task_name)),
            description=f"A/A calibration of task {task_name}'s gate.",
            executor_def=dg.in_process_executor if in_process else None,
        )
        jobs.append(job)
        if task.calibration.schedule:
            schedules.append(
                dg.ScheduleDefinition(
                    name=calibration_schedule(task_name),
                    job=job,
                    cron_schedule=task.calibration.schedule,
                    default_status=dg.DefaultScheduleStatus.RUNNING,
                    description=f"Re-calibrates task {task_name}'s gate (calibration.schedule).",
                )
            )
    return dg.Definitions(assets=assets, jobs=jobs, schedules=schedules)


@dg.definitions
def defs() -> dg.Definitions:
    settings = load_settings()
    return calibration_definitions(current_project(settings), in_process=settings.env == "local")

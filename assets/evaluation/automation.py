"""Materialise-on-commit: one evaluation job per task and one commit sensor for all.

A task's job (``names.evaluation_job(task)``) holds every asset of the evaluation and
reports groups tagged ``partitioned_by: candidate`` and ``task: <task>`` (so a report
template added later is rendered for every commit without editing this file);
unpartitioned assets such as the leaderboards refresh themselves through their automation
condition instead. The sensor polls every registered repository and submits each new
commit to its task's job. Locally the steps run in the run's process (the candidate runs
in its own process anyway); on the cluster the environment's executor applies.
"""

from typing import Any, TypeAlias

import dagster as dg

from clearlake.evaluation.candidate_run import STAGES_TAG, stages_json
from clearlake.evaluation.watch import Request, parse_cursor, plan_tick
from clearlake.names import (
    COMMIT_SENSOR,
    candidate_partitions_name,
    evaluation_group,
    evaluation_job,
)
from clearlake.orchestration.partitions import candidate_partitions
from clearlake.project.load import Project, current_project
from clearlake.settings import load_settings

AssetJob: TypeAlias = Any
"""What ``dg.define_asset_job`` returns (its class is not part of Dagster's public API)."""


def task_candidate_assets(task: str) -> dg.AssetSelection:
    """Every asset of a task partitioned by its candidates, found by their tags
    (``partitioned_by: candidate`` and ``task: <task>``): a report template tagged so
    joins the task's job without editing this file."""
    return (
        dg.AssetSelection.groups(evaluation_group(task), "reports")
        & dg.AssetSelection.tag("partitioned_by", "candidate")
        & dg.AssetSelection.tag("task", task)
    )


def candidate_evaluation_job(task: str, *, in_process: bool = False) -> AssetJob:
    """The task's job; ``in_process`` runs its steps in the run's process (the local
    default: the candidate already has its own process, a process per step only adds
    start-up)."""
    partitions = candidate_partitions_name(task)
    return dg.define_asset_job(
        evaluation_job(task),
        selection=task_candidate_assets(task),
        partitions_def=candidate_partitions(partitions),
        description=f"Evaluate one candidate of task {task}: predictions, scores, comparison, "
        "reports.",
        tags={"clearlake/job": evaluation_job(task), "clearlake/task": task},
        executor_def=dg.in_process_executor if in_process else None,
    )


def evaluation_jobs(project: Project, *, in_process: bool = False) -> list[AssetJob]:
    return [
        candidate_evaluation_job(task, in_process=in_process)
        for task in sorted(project.config.tasks)
    ]


def request_tags(request: Request) -> dict[str, str]:
    """A run's tags: the model stage's repository and full sha, why it runs, its task; for a
    pipeline combination every stage's full sha (``clearlake/stages``, which the candidate
    run resolves from without asking git) and the stages it changed."""
    tags = {
        "clearlake/repo": request.repo,
        "clearlake/commit": request.commit,
        "clearlake/reason": request.reason,
        "clearlake/task": request.task,
    }
    if request.stages:
        tags[STAGES_TAG] = stages_json(request.stages)
        tags["clearlake/changed_stages"] = ",".join(request.changed)
    return tags


def commit_sensor(project: Project, jobs: list[AssetJob]) -> dg.SensorDefinition:
    @dg.sensor(
        name=COMMIT_SENSOR,
        jobs=jobs,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Polls the registered algorithm repositories; every new commit on a watched "
            "branch becomes a candidate partition of its repository's task (a pipeline "
            "task: combinations of its stages' commits) and is evaluated once by that "
            "task's job (run key = partition key)."
        ),
    )
    def candidate_commit_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        instance = context.instance

        def known(task: str, key: str) -> bool:
            return instance.has_dynamic_partition(candidate_partitions_name(task), key)

        plan = plan_tick(project, load_settings(), parse_cursor(context.cursor), is_known=known)
        for note in plan.skipped:
            context.log.warning(note)
        new: dict[str, list[str]] = {}
        for request in plan.requests:
            if not known(request.task, request.key):
                new.setdefault(request.task, []).append(request.key)
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=request.key,
                    partition_key=request.key,
                    job_name=evaluation_job(request.task),
                    tags=request_tags(request),
                )
                for request in plan.requests
            ],
            dynamic_partitions_requests=[
                candidate_partitions(candidate_partitions_name(task)).build_add_request(keys)
                for task, keys in sorted(new.items())
            ],
            cursor=plan.cursor_json(),
            skip_reason=None if plan.requests else "no new commits",
        )

    return candidate_commit_sensor


@dg.definitions
def defs() -> dg.Definitions:
    settings = load_settings()
    project = current_project(settings)
    jobs = evaluation_jobs(project, in_process=settings.env == "local")
    if not jobs:
        return dg.Definitions()
    sensors = [commit_sensor(project, jobs)] if project.config.repositories else []
    return dg.Definitions(jobs=jobs, sensors=sensors)

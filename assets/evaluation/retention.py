"""``evaluation.retention``: a scheduled job that prunes old candidates from each task's
partition list (:mod:`clearlake.evaluation.retention` says which and why it is safe).
Registered only when the project declares a retention policy."""

from functools import partial

import dagster as dg

from clearlake.evaluation import retention
from clearlake.names import RETENTION_JOB, RETENTION_SCHEDULE, candidate_partitions_name
from clearlake.orchestration.resources import LakeResource
from clearlake.project.config import RetentionConfig
from clearlake.project.load import Project, current_project
from clearlake.settings import load_settings


def retention_job(project: Project, policy: RetentionConfig) -> dg.JobDefinition:
    @dg.op(name="prune_candidate_partitions")
    def prune(context: dg.OpExecutionContext, lake: LakeResource) -> None:
        for task in sorted(project.config.tasks):
            name = candidate_partitions_name(task)
            plan = retention.prune_task(
                project,
                lake.store(),
                task,
                registered=partial(context.instance.get_dynamic_partitions, name),
                delete=partial(context.instance.delete_dynamic_partition, name),
                policy=policy,
                dry_run=False,
            )
            if plan is None:
                context.log.info(f"{task}: no candidate index yet, nothing pruned.")
                continue
            context.log.info(
                f"{task}: pruned {len(plan.prune)} candidate partition(s), {plan.kept} kept "
                f"({len(plan.protected)} old ones kept as referenced)."
            )

    @dg.job(name=RETENTION_JOB, description="Prunes old candidates from the partition lists.")
    def _job() -> None:
        prune()

    return _job


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project(load_settings())
    policy = project.config.evaluation.retention
    if policy is None or not project.config.tasks:
        return dg.Definitions()
    job = retention_job(project, policy)
    schedule = dg.ScheduleDefinition(
        name=RETENTION_SCHEDULE,
        job=job,
        cron_schedule=policy.cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    return dg.Definitions(jobs=[job], schedules=[schedule])

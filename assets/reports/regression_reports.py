"""Reports for commits the regression check blocked: a report job per task and one sensor.

The blocking check on a task's ``candidate_comparison`` stops the rest of the evaluation
run, reports included. The regression-report sensor notices a finished comparison without
a newer report and runs that task's report job for the candidate (from the stored
comparison: nothing is evaluated twice), once per comparison (run key
``<candidate>:<storage id>``). Decided by :mod:`clearlake.reports.pending`.
"""

import json
from typing import Any

import dagster as dg

from assets.reports.report_assets import report_assets
from clearlake import names
from clearlake.names import REGRESSION_REPORT_SENSOR, candidate_partitions_name, comparison_key
from clearlake.orchestration.partitions import candidate_partitions
from clearlake.project.load import current_project
from clearlake.reports.pending import pending_reports
from clearlake.settings import load_settings


def candidate_reports_job(task: str, *, in_process: bool = False) -> Any:
    """Every candidate report of ``task`` (a template added later is included too).

    Typed ``Any``: the type ``dg.define_asset_job`` returns is not exported by Dagster.
    """
    name = names.report_job(task)
    return dg.define_asset_job(
        name,
        selection=dg.AssetSelection.groups("reports")
        & dg.AssetSelection.tag("partitioned_by", "candidate")
        & dg.AssetSelection.tag("task", task),
        partitions_def=candidate_partitions(candidate_partitions_name(task)),
        description=f"Render one candidate's reports of task {task} from its stored comparison.",
        tags={"clearlake/job": name, "clearlake/task": task},
        executor_def=dg.in_process_executor if in_process else None,
    )


def regression_report_sensor(
    jobs: dict[str, Any], reports: dict[str, dg.AssetKey]
) -> dg.SensorDefinition:
    """One sensor for every task: ``reports`` names the report each task's follow-up checks."""

    @dg.sensor(
        name=REGRESSION_REPORT_SENSOR,
        jobs=list(jobs.values()),
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Renders the reports of a candidate whose evaluation run stopped before them "
            "(the blocking regression check failed): once per comparison materialisation."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        cursors: dict[str, int] = json.loads(context.cursor) if context.cursor else {}
        requests = []
        for task, job in jobs.items():
            pending = pending_reports(
                context.instance,
                comparison=comparison_key(task),
                report=reports[task],
                after=cursors.get(task),
            )
            if pending.cursor is not None:
                cursors[task] = pending.cursor
            requests += [
                dg.RunRequest(
                    run_key=p.run_key,
                    partition_key=p.partition,
                    job_name=job.name,
                    tags={
                        "clearlake/reason": "its evaluation run stopped before the report",
                        "clearlake/comparison_run": p.comparison_run_id,
                    },
                )
                for p in pending.reports
            ]
        return dg.SensorResult(
            run_requests=requests,
            cursor=json.dumps(cursors, sort_keys=True),
            skip_reason=None if requests else "every finished comparison has its report",
        )

    return _sensor


@dg.definitions
def defs() -> dg.Definitions:
    settings = load_settings()
    keys = [k for asset in report_assets() for k in asset.keys if len(k.path) == 3]
    reports = {}
    for task in current_project(settings).config.tasks:
        own = sorted(
            (k for k in keys if k.path[1] == task), key=lambda k: k.path[2] != "candidate_report"
        )
        if own:
            reports[task] = own[0]
    jobs = {t: candidate_reports_job(t, in_process=settings.env == "local") for t in reports}
    if not jobs:
        return dg.Definitions()
    return dg.Definitions(
        jobs=list(jobs.values()), sensors=[regression_report_sensor(jobs, reports)]
    )

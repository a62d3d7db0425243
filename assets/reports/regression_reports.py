"""Reports for commits the regression check blocked: ``candidate_reports`` + its sensor.

The blocking check on ``evaluation/candidate_comparison`` skips the rest of the
``candidate_evaluation`` run, reports included. ``regression_report_sensor`` notices a
finished comparison without a newer report and runs only the candidate's report assets
(from the stored comparison: nothing is evaluated twice), once per comparison (run key
``<candidate>:<storage id>``). The check still fails and still blocks everything else
downstream in the evaluation run. Decided by :mod:`clearlake.reports.pending`.
"""

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from assets.evaluation.automation import CandidatePartitioned
from clearlake.partitions import candidate_partitions_def
from clearlake.reports.pending import REPORT_JOB, REPORT_SENSOR, parse_cursor, pending_reports
from clearlake.settings import load_settings


def candidate_reports_job(*, in_process: bool = False) -> UnresolvedAssetJobDefinition:
    """Every candidate-partitioned report (a template added later is included too)."""
    return dg.define_asset_job(
        REPORT_JOB,
        selection=CandidatePartitioned(child=dg.AssetSelection.groups("reports")),
        partitions_def=candidate_partitions_def,
        description="Render one candidate's reports from its stored comparison.",
        tags={"clearlake/job": REPORT_JOB},
        executor_def=dg.in_process_executor if in_process else None,
    )


def regression_report_sensor(job: UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    @dg.sensor(
        name=REPORT_SENSOR,
        job=job,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Renders the report of a candidate whose evaluation run stopped before it "
            "(the blocking regression check failed): once per comparison materialisation."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        pending = pending_reports(context.instance, after=parse_cursor(context.cursor))
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=p.run_key,
                    partition_key=p.partition,
                    tags={
                        "clearlake/reason": "its evaluation run stopped before the report",
                        "clearlake/comparison_run": p.comparison_run_id,
                    },
                )
                for p in pending.reports
            ],
            cursor=None if pending.cursor is None else str(pending.cursor),
            skip_reason=None if pending.reports else "every finished comparison has its report",
        )

    return _sensor


@dg.definitions
def defs() -> dg.Definitions:
    job = candidate_reports_job(in_process=load_settings().env == "local")
    return dg.Definitions(jobs=[job], sensors=[regression_report_sensor(job)])

"""Materialise-on-commit: the ``candidate_evaluation`` job and ``candidate_commit_sensor``.

The job holds every candidate-partitioned asset of the evaluation and reports groups (so
a report template added later is rendered for every commit without editing this file);
unpartitioned assets such as the leaderboard refresh themselves through their
automation condition instead. Locally its steps run in the run's process (the candidate
runs in its own process anyway); on the cluster the environment's executor applies.
"""

import dagster as dg
from dagster._core.definitions.asset_selection import ChainedAssetSelection
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from clearlake.evaluation.config import ClearlakeConfig, load_config
from clearlake.evaluation.watch import parse_cursor, plan_tick
from clearlake.partitions import CANDIDATES, candidate_partitions_def
from clearlake.settings import load_settings

JOB_NAME = "candidate_evaluation"
SENSOR_NAME = "candidate_commit_sensor"


class CandidatePartitioned(ChainedAssetSelection):
    """The assets of ``child`` partitioned by candidate (Dagster has no public filter for it)."""

    def resolve_inner(self, asset_graph: object, allow_missing: bool) -> set[dg.AssetKey]:
        keys = self.child.resolve_inner(asset_graph, allow_missing=allow_missing)  # type: ignore[arg-type]
        return {
            key
            for key in keys
            if asset_graph.get(key).partitions_def == candidate_partitions_def  # type: ignore[attr-defined]
        }


def candidate_evaluation_job(*, in_process: bool = False) -> UnresolvedAssetJobDefinition:
    """The job; ``in_process`` runs its steps in the run's process (the local default: the
    candidate already has its own process, a process per step would only add start-up)."""
    return dg.define_asset_job(
        JOB_NAME,
        selection=CandidatePartitioned(child=dg.AssetSelection.groups("evaluation", "reports")),
        partitions_def=candidate_partitions_def,
        description="Evaluate one candidate: predictions, scores, comparison, reports.",
        tags={"clearlake/job": JOB_NAME},
        executor_def=dg.in_process_executor if in_process else None,
    )


def commit_sensor(
    config: ClearlakeConfig, job: UnresolvedAssetJobDefinition
) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR_NAME,
        job=job,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Polls the registered algorithm repositories; every new commit on a watched "
            "branch becomes a candidate partition and is evaluated once (run key = key)."
        ),
    )
    def candidate_commit_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        instance = context.instance
        plan = plan_tick(
            config,
            load_settings(),
            parse_cursor(context.cursor),
            is_known=lambda key: instance.has_dynamic_partition(CANDIDATES, key),
        )
        for note in plan.skipped:
            context.log.warning(note)
        new = [k for k in plan.new_keys if not instance.has_dynamic_partition(CANDIDATES, k)]
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=request.key,
                    partition_key=request.key,
                    tags={
                        "clearlake/repo": request.repo,
                        "clearlake/commit": request.commit,
                        "clearlake/reason": request.reason,
                    },
                )
                for request in plan.requests
            ],
            dynamic_partitions_requests=[candidate_partitions_def.build_add_request(new)]
            if new
            else [],
            cursor=plan.cursor_json(),
            skip_reason=None if plan.requests else "no new commits",
        )

    return candidate_commit_sensor


@dg.definitions
def defs() -> dg.Definitions:
    settings = load_settings()
    config = load_config(settings.config_path)
    job = candidate_evaluation_job(in_process=settings.env == "local")
    return dg.Definitions(jobs=[job], sensors=[commit_sensor(config, job)])

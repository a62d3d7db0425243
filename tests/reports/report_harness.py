"""Helpers of the report tests: an isolated Clearlake home, the real definitions, real runs.

Runs are in-process (``execute_in_process`` of the real report assets beside stand-in
evaluation outputs): the definitions are built as the in-process clients build them
(``papermill_in_process``; dagstermill refuses a job that is not reconstructable).
``test_dagstermill_reports`` runs the dagstermill assets through a reconstructable job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from regression_definitions import evaluation_assets, evaluation_job_def

import assets.reports.gallery as gallery_defs
import assets.reports.regression_reports as regression_defs
import assets.reports.report_assets as report_defs
from assets.lake.replication import defs as lake_defs
from clearlake.orchestration.environment import resources_for
from clearlake.project.load import current_project
from clearlake.reports.engine import papermill_in_process
from clearlake.settings import load_settings

PUBLIC_URL = "http://reports.example.test"
REPORTS_URL = f"{PUBLIC_URL}/reports"
INSTANCE_YAML = "telemetry:\n  enabled: false\n"
TASKS = ("arrival_delay", "late_arrival")


def definitions() -> dg.Definitions:
    """Lake + report + gallery + follow-up definitions of the current project, stand-in
    evaluation outputs for its tasks."""
    settings = load_settings()
    tasks = [t for t in current_project(settings).config.tasks if t in TASKS]
    with papermill_in_process():
        return dg.Definitions.merge(
            lake_defs(),
            report_defs.defs(),
            gallery_defs.defs(),
            regression_defs.defs(),
            dg.Definitions(
                assets=[a for t in tasks for a in evaluation_assets(t)],
                jobs=[evaluation_job_def(t) for t in tasks],
                resources=resources_for(settings),
            ),
        )


@dataclass
class ReportEnv:
    home: Path
    reports_root: Path
    instance: dg.DagsterInstance

    def materialize(
        self,
        *selection: str,
        partition: str | None = None,
        config: Mapping[str, Any] | None = None,
        raise_on_error: bool = False,
    ) -> dg.ExecuteInProcessResult:
        defs = definitions()
        keys = [dg.AssetKey(s.split("/")) for s in selection]
        job = defs.resolve_implicit_global_asset_job_def()
        run_config: dict[str, Any] = {}
        if config:
            run_config["ops"] = {op: {"config": dict(values)} for op, values in config.items()}
        return job.execute_in_process(
            instance=self.instance,
            asset_selection=keys,
            partition_key=partition,
            run_config=run_config,
            raise_on_error=raise_on_error,
        )


def materialization(result: dg.ExecuteInProcessResult, key: str) -> dict[str, Any]:
    """Metadata values of the materialisation of ``key`` in a run."""
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if materialization.asset_key == dg.AssetKey(key.split("/")):
            return {k: v.value for k, v in materialization.metadata.items()}
    raise AssertionError(f"{key} was not materialised in run {result.run_id}")


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.is_step_failure]
    assert failures, f"run {result.run_id} did not fail"
    error = failures[0].step_failure_data.error
    assert error is not None
    return error.message

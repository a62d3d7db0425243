"""Helpers of the report tests: an isolated Clearlake home and real Dagster runs.

dagstermill re-imports the job inside the notebook kernel, so runs go through
``execute_job`` on a reconstructable repository (``report_definitions.py`` by file
path), in-process (the kernel is the only subprocess).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableRepository

from clearlake.settings import PROJECT_ROOT

DEFINITIONS_FILE = Path(__file__).with_name("report_definitions.py")
REPORTS_URL = "http://reports.example.test/reports"
INSTANCE_YAML = "telemetry:\n  enabled: false\n"


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
    ) -> dg.ExecuteJobResult:
        repo = ReconstructableRepository.for_file(
            str(DEFINITIONS_FILE), "defs", working_directory=str(PROJECT_ROOT)
        )
        run_config: dict[str, Any] = {"execution": {"config": {"in_process": {}}}}
        if config:
            run_config["ops"] = {op: {"config": dict(values)} for op, values in config.items()}
        return dg.execute_job(
            repo.get_reconstructable_job("__ASSET_JOB"),
            self.instance,
            asset_selection=[dg.AssetKey(s.split("/")) for s in selection],
            tags={"dagster/partition": partition} if partition else None,
            run_config=run_config,
        )


def materialization(result: dg.ExecuteJobResult, key: str) -> dict[str, Any]:
    """Metadata values of the materialisation of ``key`` in a run."""
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if materialization.asset_key == dg.AssetKey(key.split("/")):
            return {k: v.value for k, v in materialization.metadata.items()}
    raise AssertionError(f"{key} was not materialised in run {result.run_id}")


def failure_message(result: dg.ExecuteJobResult) -> str:
    failures = [e for e in result.all_events if e.is_step_failure]
    assert failures, f"run {result.run_id} did not fail"
    error = failures[0].step_failure_data.error
    assert error is not None
    return error.message

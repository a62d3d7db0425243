"""One report through dagstermill from a Python process: a reconstructable one-asset job.

dagstermill's kernel rebuilds the run's context from the job's code pointer, so a run
from Python must be ``dg.execute_job`` of a reconstructable job
(``dg.build_reconstructable_job`` naming :func:`report_run_job`), not ``dg.materialize``.
Steps run in this process (in-process executor); the notebook runs in a kernel that
imports this module again. Used by tests and ``benchmarks/report_render.py``; Dagster's
own runs (UI, sensors, automation, cluster) need none of this.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from assets.reports.report_assets import report_assets, report_resources
from clearlake.errors import ClearlakeError
from clearlake.names import REPORT_RUN_JOB
from clearlake.orchestration.runs import QUIET_RUN_CONFIG
from clearlake.reports.engine import DAGSTERMILL, using


def report_run_job(key: str) -> dg.JobDefinition:
    """The job that materialises the report asset ``key`` (``reports/...``)."""
    with using(DAGSTERMILL):
        found = [a for a in report_assets() if dg.AssetKey.from_user_string(key) in a.keys]
        resources = report_resources()
    if not found:
        known = ", ".join(k.to_user_string() for a in report_assets() for k in a.keys)
        raise ClearlakeError(f"No report asset {key!r} (report assets: {known or 'none'}).")
    (asset,) = found
    job = dg.define_asset_job(
        REPORT_RUN_JOB, selection=[asset.key], partitions_def=asset.partitions_def
    )
    return dg.Definitions(assets=[asset], resources=resources, jobs=[job]).resolve_job_def(
        REPORT_RUN_JOB
    )


def materialize_report(
    key: str,
    instance: dg.DagsterInstance,
    *,
    partition: str | None = None,
    config: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
) -> dg.ExecuteJobResult:
    """Run the report ``key`` (one partition, launchpad ``config``) through dagstermill."""
    job = dg.build_reconstructable_job(__name__, report_run_job.__name__, (key,))
    op = dg.AssetKey.from_user_string(key).to_python_identifier()
    run_config: dict[str, Any] = {
        **QUIET_RUN_CONFIG,
        "execution": {"config": {"in_process": {}}},
    }
    if config:
        run_config["ops"] = {op: {"config": dict(config)}}
    run_tags = dict(tags or {})
    if partition is not None:
        run_tags["dagster/partition"] = partition
    return dg.execute_job(job, instance, run_config=run_config, tags=run_tags, raise_on_error=False)

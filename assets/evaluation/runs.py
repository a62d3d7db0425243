"""What every candidate-partitioned asset of a task shares: its Dagster attributes and how a
step gets its :class:`~clearlake.evaluation.candidate_run.CandidateRun` (full shas from the
sensor's run tag or the upstream step's metadata, git only when neither has them)."""

from __future__ import annotations

from typing import Any

import dagster as dg

from clearlake.evaluation.candidate_run import (
    STAGES_TAG,
    CandidateRun,
    parse_stages,
    resolve_run,
)
from clearlake.lake.store import LakeStore
from clearlake.names import candidate_partitions_name, evaluation_group
from clearlake.orchestration.partitions import candidate_partitions
from clearlake.project.load import Project
from clearlake.settings import Settings


def common(task_name: str) -> dict[str, Any]:
    return {
        "group_name": evaluation_group(task_name),
        "partitions_def": candidate_partitions(candidate_partitions_name(task_name)),
        "owners": ["team:data-science"],
        "tags": {"layer": "evaluation", "partitioned_by": "candidate", "task": task_name},
    }


def known_shas(
    context: dg.AssetExecutionContext, *, upstream: dg.AssetKey | None = None
) -> dict[str, str]:
    """Full shas already resolved for this partition: the ``stages`` metadata of the
    upstream step's latest materialisation, else the sensor's run tags."""
    if upstream is not None:
        found = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=upstream, asset_partitions=[context.partition_key]),
            limit=1,
        )
        for record in found.records:
            materialization = record.asset_materialization
            if materialization is not None:
                shas = parse_stages(materialization.metadata.get("stages"))
                if shas:
                    return shas
    tags = context.run.tags
    shas = parse_stages(tags.get(STAGES_TAG))
    if not shas and tags.get("clearlake/repo") and tags.get("clearlake/commit"):
        shas = {tags["clearlake/repo"]: tags["clearlake/commit"]}
    return shas


def candidate_run_of(
    context: dg.AssetExecutionContext,
    project: Project,
    settings: Settings,
    store: LakeStore,
    *,
    upstream: dg.AssetKey | None = None,
) -> CandidateRun:
    return resolve_run(
        context.partition_key,
        project=project,
        settings=settings,
        store=store,
        known_shas=known_shas(context, upstream=upstream),
    )

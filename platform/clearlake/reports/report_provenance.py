"""The provenance record a report shows at its top: code + data + parameters (+ run).

Dagster records code and input data versions as tags of each materialisation; the
report itself must carry them too, because people read the page, not the event log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from dagster_shared.check import CheckError

from clearlake.errors import ClearlakeError
from clearlake.evaluation.candidates import (
    COMMITS_TABLE,
    CandidateKey,
    candidate_commit_info,
    candidate_parameters,
)
from clearlake.lake.store import LakeStore
from clearlake.provenance import environment_lock_hash, platform_commit
from clearlake.reports.templates import Template
from clearlake.settings import load_settings
from clearlake.versioning import json_version

_SCALAR_TYPES = (str, int, float, bool)


def _upstream_metadata(
    instance: dg.DagsterInstance, key: dg.AssetKey, partitions: Sequence[str]
) -> dict[str, Any]:
    """Scalar metadata of the materialisation the report reads (one partition, or latest)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=list(partitions) or None), limit=1
    ).records
    if not records or records[0].asset_materialization is None:
        return {}
    found: dict[str, Any] = {}
    for name, entry in records[0].asset_materialization.metadata.items():
        if name.startswith("dagster/") or (
            name.startswith("provenance/") and name != "provenance/code_version"
        ):
            continue
        value = entry.value
        if isinstance(value, _SCALAR_TYPES):
            found[name] = value
    return found


def _upstream(
    context: dg.AssetExecutionContext, key: dg.AssetKey, input_name: str | None
) -> dict[str, Any]:
    step = context.get_step_execution_context()
    info = step.maybe_fetch_and_get_input_asset_version_info(key)
    partitions: list[str] = []
    if input_name is not None:
        try:
            partitions = list(context.asset_partition_keys_for_input(input_name))
        except (dg.DagsterInvariantViolationError, CheckError):
            partitions = []  # unpartitioned upstream
    entry: dict[str, Any] = {
        "data_version": info.data_version.value if info and info.data_version else None,
        "run_id": info.run_id if info else None,
    }
    if partitions:
        entry["partitions"] = partitions if len(partitions) > 1 else partitions[0]
    if input_name is not None:
        entry["metadata"] = _upstream_metadata(context.instance, key, partitions[:1])
    return entry


def report_provenance(
    context: dg.AssetExecutionContext,
    *,
    template: Template,
    code_version: str,
    parameters: Mapping[str, Any],
    ins: Mapping[str, dg.AssetKey],
    deps: Sequence[dg.AssetKey],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything needed to say how this report came to be, as plain JSON."""
    names = {key: name for name, key in context.assets_def.keys_by_input_name.items()}
    upstream = {
        key.to_user_string(): _upstream(context, key, names.get(key))
        for key in [*ins.values(), *deps]
    }
    return {
        "template": f"notebooks/{template.path.name}",
        "template_hash": template.content_hash,
        "code_version": code_version,
        "platform_commit": platform_commit(),
        "environment_lock_hash": environment_lock_hash(),
        "run_id": context.run_id,
        "partition": context.partition_key if context.has_partition_key else None,
        "parameters": dict(parameters),
        "parameters_hash": json_version(dict(parameters)),
        "inputs": upstream,
        **(extra or {}),
    }


def candidate_provenance(key: str) -> dict[str, str]:
    """The candidate's code and parameters: repository, commit (+ message) and parameter set.

    Commit details come from the copy the evaluation recorded in the lake (no git access
    from a report step); parameters of a ``~<hash>`` key from the lake as well.
    """
    parsed = CandidateKey.parse(key)
    record = {"candidate_repo": parsed.repo, "candidate_commit": parsed.commit}
    store = LakeStore(load_settings().lake_url)
    if store.exists(f"{store.table_dir(COMMITS_TABLE)}/{key}.json"):
        info = candidate_commit_info(parsed, store=store)
        record["commit_message"] = info.message.splitlines()[0] if info.message else ""
        record["commit_author"] = info.author
        record["committed_at"] = info.committed_at.isoformat()
    if parsed.param_hash:
        record["candidate_params"] = parsed.param_hash
        try:
            parameters = candidate_parameters(parsed, store=store)
            record["candidate_parameters"] = json.dumps(parameters, sort_keys=True)
        except ClearlakeError:
            pass  # an experiment registered without its parameters: the hash still names it
    return record

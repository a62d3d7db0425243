"""Drop-zone ingestion: a sensor notices complete dropped files, one run ingests each content.

The run storage, not the cursor, says what is done: a content is done when a run tagged
with it succeeded, in flight while such a run is queued or running, and pending again when
every run of it failed or none exists (a run that vanished or was killed). The cursor only
carries the sightings of the settle window, so it can never make the sensor skip a file.
"""

import json
import time
from collections.abc import Mapping
from typing import Any

import dagster as dg

from clearlake.errors import DropZoneError, LakeUnavailableError
from clearlake.lake import drops
from clearlake.lake.metadata import written_metadata
from clearlake.orchestration.resources import DropZoneResource, LakeResource
from clearlake.orchestration.run_sweep import fail_dead_runs
from clearlake.project.load import current_project
from clearlake.provenance import provenance_metadata
from clearlake.settings import load_settings
from clearlake.versioning import digest as version_digest
from clearlake.versioning import source_version

PROJECT = current_project(load_settings())

ZONES = drops.drop_zones(
    {name: zone.model_dump() for name, zone in PROJECT.config.drops.items()},
    source=str(PROJECT.path),
)
"""The project's drop zones (``drops:`` in its clearlake.yaml)."""
CODE_VERSION = source_version(drops)
JOB_NAME = "drop_ingestion"
CONTENT_TAG, FILE_TAG = "clearlake/drop_content", "clearlake/drop_file"
MAX_ATTEMPTS = 3
"""Failed runs of one content before its file is quarantined instead of retried each tick."""
IN_FLIGHT = {
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
}


class DroppedFileConfig(dg.Config):
    file_name: str
    """Name of the file in the dataset's drop folder."""


def partitions_def(zone: drops.DropZone) -> dg.DynamicPartitionsDefinition:
    return dg.DynamicPartitionsDefinition(name=f"drops_{zone.name}")


def content_tag(zone: str, digest: str) -> str:
    return f"{zone}/{digest}"


def drop_asset(zone: drops.DropZone) -> dg.AssetsDefinition:
    @dg.asset(
        key=["lake", "drops", zone.name],
        group_name="lake",
        description=f"{zone.description} (drop zone: one partition per distinct file content)",
        partitions_def=partitions_def(zone),
        code_version=f"{CODE_VERSION}-{version_digest(repr(zone))}",
        kinds={"parquet", "file"},
        owners=["team:data-platform"],
        tags={"layer": "lake"},
    )
    def _dropped(
        context: dg.AssetExecutionContext,
        config: DroppedFileConfig,
        lake: LakeResource,
        drop_zone: DropZoneResource,
    ) -> dg.MaterializeResult:  # type: ignore[type-arg]
        dropped = drops.find_dropped(
            drop_zone.root, zone.name, context.partition_key, config.file_name
        )
        try:
            written, kept_at = drops.ingest(dropped, zone, lake.store())
        except DropZoneError as exc:
            where = drops.quarantine(dropped, str(exc))
            raise dg.Failure(
                description=f"{exc} — moved to {where} with a reason file.",
                metadata={"quarantined": dg.MetadataValue.path(where)},
                allow_retries=False,
            ) from None
        context.log.info(f"ingested {dropped.name}: {written.row_count} rows")
        return dg.MaterializeResult(
            metadata={
                **written_metadata(written),
                "source_file": dg.MetadataValue.path(kept_at),
                "content_sha256": dropped.content_hash,
                **provenance_metadata(run_id=context.run_id, code_version=CODE_VERSION),
            },
            data_version=dg.DataVersion(written.content_hash[:16]),
        )

    return _dropped


def _load_cursor(cursor: str | None) -> dict[str, dict[str, drops.Sighting]]:
    raw: dict[str, dict[str, list[Any]]] = json.loads(cursor) if cursor else {}
    return {
        zone: {name: drops.Sighting(*values) for name, values in files.items()}
        for zone, files in raw.items()
    }


def _dump_cursor(state: Mapping[str, Mapping[str, drops.Sighting]]) -> str:
    return json.dumps(
        {
            zone: {
                name: [s.size, s.mtime_ns, s.first_seen, s.content_hash]
                for name, s in files.items()
            }
            for zone, files in state.items()
        }
    )


def _plan_zone(
    context: dg.SensorEvaluationContext,
    zone: drops.DropZone,
    ready: list[drops.DroppedFile],
    asset: dg.AssetsDefinition,
) -> tuple[list[dg.RunRequest], list[str], set[str]]:
    """Run requests, new partition keys, and the names moved aside, for a zone's ready files."""
    by_hash: dict[str, list[drops.DroppedFile]] = {}
    for dropped in ready:
        by_hash.setdefault(dropped.content_hash, []).append(dropped)
    records = context.instance.get_run_records(
        filters=dg.RunsFilter(tags={CONTENT_TAG: [content_tag(zone.name, h) for h in by_hash]})
    )
    past: dict[str, list[dg.DagsterRun]] = {}
    for run in (r.dagster_run for r in records):
        past.setdefault(run.tags[CONTENT_TAG].rsplit("/", 1)[1], []).append(run)
    known = set(context.instance.get_dynamic_partitions(partitions_def(zone).name or ""))
    requests: list[dg.RunRequest] = []
    new_keys: list[str] = []
    moved: set[str] = set()
    # A run killed with its process (daemon kill -9) stays STARTED: mark it failed here too.
    in_flight = [r for runs in past.values() for r in runs if r.status in IN_FLIGHT]
    killed = set(fail_dead_runs(context.instance, in_flight))
    for digest, copies in by_hash.items():
        attempts = [
            r.with_status(dg.DagsterRunStatus.FAILURE) if r.run_id in killed else r
            for r in past.get(digest, [])
        ]
        done = next((r for r in attempts if r.status == dg.DagsterRunStatus.SUCCESS), None)
        if any(r.status in IN_FLIGHT for r in attempts):
            continue
        if done is not None or len(attempts) >= MAX_ATTEMPTS:
            folder = drops.DUPLICATES if done is not None else drops.QUARANTINE
            for dropped in copies:
                reason = (
                    f"same content (sha256 {digest}) as {done.tags.get(FILE_TAG)!r}, ingested "
                    f"by run {done.run_id} into partition {dropped.partition_key} of "
                    f"{zone.table}: not ingested again."
                    if done is not None
                    else f"{len(attempts)} ingestion runs of this content failed (last: run "
                    f"{attempts[0].run_id}); see its logs, fix the cause and drop it again."
                )
                try:
                    where = drops.set_aside(dropped.folder, dropped.name, folder, reason)
                except (OSError, LakeUnavailableError) as exc:
                    context.log.warning(f"cannot move {dropped.where} aside: {exc}")
                    continue
                moved.add(dropped.name)
                context.log.info(f"{dropped.name} → {where}: {reason}")
            continue
        first = copies[0]
        if first.partition_key not in known:
            new_keys.append(first.partition_key)
        requests.append(
            dg.RunRequest(
                run_key=f"{zone.name}:{first.partition_key}:{len(attempts)}",
                partition_key=first.partition_key,
                asset_selection=[asset.key],
                run_config={"ops": {asset.op.name: {"config": {"file_name": first.name}}}},
                tags={FILE_TAG: first.name, CONTENT_TAG: content_tag(zone.name, digest)},
            )
        )
    return requests, new_keys, moved


def build_drop_sensor(
    zones: Mapping[str, drops.DropZone],
    assets: Mapping[str, dg.AssetsDefinition],
    *,
    minimum_interval_seconds: int = 30,
) -> dg.SensorDefinition:
    @dg.sensor(
        name="drop_zone_sensor",
        job_name=JOB_NAME,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def _sensor(
        context: dg.SensorEvaluationContext, drop_zone: DropZoneResource
    ) -> dg.SensorResult | dg.SkipReason:
        """One run per complete file content; done only when that run succeeded."""
        seen = _load_cursor(context.cursor)
        state: dict[str, dict[str, drops.Sighting]] = {}
        requests: list[dg.RunRequest] = []
        partitions: list[dg.AddDynamicPartitionsRequest] = []
        notes: list[str] = []
        now = time.time()
        for name, zone in zones.items():
            try:
                folder = drops.zone_folder(drop_zone.root, name)
                ready, state[name], unfinished = drops.observe(
                    folder, zone, seen.get(name, {}), now
                )
                for never in unfinished:
                    where = drops.set_aside(folder, never.name, drops.QUARANTINE, never.reason)
                    context.log.info(f"{never.name} → {where}: {never.reason}")
            except (DropZoneError, LakeUnavailableError, OSError) as exc:
                notes.append(str(exc))
                continue
            zone_requests, new_keys, moved = _plan_zone(context, zone, ready, assets[name])
            for moved_name in moved:
                state[name].pop(moved_name, None)
            requests += zone_requests
            if new_keys:
                partitions.append(partitions_def(zone).build_add_request(new_keys))
        if not requests and notes:
            return dg.SkipReason(" ".join(notes))
        return dg.SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=partitions,
            cursor=_dump_cursor(state),
        )

    return _sensor


def build_drop_zone(
    zones: Mapping[str, drops.DropZone], *, minimum_interval_seconds: int = 30
) -> tuple[dict[str, dg.AssetsDefinition], dg.SensorDefinition]:
    """The drop zone's assets and sensor for these declarations."""
    assets = {name: drop_asset(zone) for name, zone in zones.items()}
    sensor = build_drop_sensor(zones, assets, minimum_interval_seconds=minimum_interval_seconds)
    return assets, sensor


def drop_definitions(
    zones: Mapping[str, drops.DropZone], *, minimum_interval_seconds: int = 30
) -> dg.Definitions:
    assets, sensor = build_drop_zone(zones, minimum_interval_seconds=minimum_interval_seconds)
    job = dg.define_asset_job(JOB_NAME, selection=dg.AssetSelection.assets(*assets.values()))
    return dg.Definitions(assets=list(assets.values()), jobs=[job], sensors=[sensor])


DROP_ASSETS, drop_zone_sensor = build_drop_zone(ZONES)
drop_ingestion_job = dg.define_asset_job(
    JOB_NAME, selection=dg.AssetSelection.assets(*DROP_ASSETS.values())
)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=list(DROP_ASSETS.values()), jobs=[drop_ingestion_job], sensors=[drop_zone_sensor]
    )

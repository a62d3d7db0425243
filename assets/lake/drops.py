"""Drop-zone ingestion: a sensor notices dropped files, one run ingests each file."""

import json
from pathlib import Path

import dagster as dg

from clearlake.errors import DropZoneError
from clearlake.lake import drops
from clearlake.lake.metadata import written_metadata
from clearlake.provenance import provenance_metadata
from clearlake.resources import DropZoneResource, LakeResource
from clearlake.versioning import file_version, source_version

DECLARATIONS = Path(__file__).with_name("drops.yaml")
DATASETS = drops.load_datasets(DECLARATIONS)
CODE_VERSION = source_version(drops)


class DroppedFileConfig(dg.Config):
    file_name: str
    """Name of the file in the dataset's drop folder."""


def partitions_def(dataset: drops.DropDataset) -> dg.DynamicPartitionsDefinition:
    return dg.DynamicPartitionsDefinition(name=f"drops_{dataset.name}")


def drop_asset(dataset: drops.DropDataset) -> dg.AssetsDefinition:
    @dg.asset(
        key=["lake", "drops", dataset.name],
        group_name="lake",
        description=f"{dataset.description} (drop zone: one partition per dropped file)",
        partitions_def=partitions_def(dataset),
        code_version=f"{CODE_VERSION}-{file_version(DECLARATIONS)}",
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
            drop_zone.path(), dataset.name, context.partition_key, config.file_name
        )
        try:
            written, kept_at = drops.ingest(dropped, dataset, lake.store())
        except DropZoneError as exc:
            where = drops.quarantine(dropped.path, str(exc))
            raise dg.Failure(
                description=f"{exc} — moved to {where} with a reason file.",
                metadata={"quarantined": dg.MetadataValue.path(str(where))},
                allow_retries=False,
            ) from None
        context.log.info(f"ingested {dropped.path.name}: {written.row_count} rows")
        return dg.MaterializeResult(
            metadata={
                **written_metadata(written),
                "source_file": dg.MetadataValue.path(str(kept_at)),
                "dropped_at": dg.MetadataValue.timestamp(dropped.dropped_at),
                **provenance_metadata(run_id=context.run_id, code_version=CODE_VERSION),
            },
            data_version=dg.DataVersion(written.content_hash[:16]),
        )

    return _dropped


DROP_ASSETS = {name: drop_asset(d) for name, d in DATASETS.items()}
drop_ingestion_job = dg.define_asset_job(
    "drop_ingestion", selection=dg.AssetSelection.assets(*DROP_ASSETS.values())
)


@dg.sensor(
    job=drop_ingestion_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def drop_zone_sensor(
    context: dg.SensorEvaluationContext, drop_zone: DropZoneResource
) -> dg.SensorResult | dg.SkipReason:
    """One run per new dropped file; the run key (content hash) keeps it to one ingest.

    The cursor remembers which files were already requested, so a restart resumes
    where it stopped without re-hashing; the run keys make a repeat harmless anyway.
    """
    requested: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    run_requests: list[dg.RunRequest] = []
    new_partitions: dict[str, list[str]] = {}
    missing: list[str] = []
    for name in DATASETS:
        try:
            waiting = drops.pending_files(drop_zone.path(), name)
        except DropZoneError as exc:
            missing.append(str(exc))
            continue
        for dropped in waiting:
            run_key = f"{name}:{dropped.partition_key}"
            if requested.get(run_key) == dropped.path.name:
                continue
            requested[run_key] = dropped.path.name
            new_partitions.setdefault(name, []).append(dropped.partition_key)
            run_requests.append(
                dg.RunRequest(
                    run_key=run_key,
                    partition_key=dropped.partition_key,
                    asset_selection=[DROP_ASSETS[name].key],
                    run_config={
                        "ops": {
                            DROP_ASSETS[name].op.name: {"config": {"file_name": dropped.path.name}}
                        }
                    },
                    tags={"clearlake/drop_file": dropped.path.name},
                )
            )
    if not run_requests and missing:
        return dg.SkipReason(" ".join(missing))
    return dg.SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[
            partitions_def(DATASETS[n]).build_add_request(keys)
            for n, keys in new_partitions.items()
        ],
        cursor=json.dumps(dict(list(requested.items())[-1000:])),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=list(DROP_ASSETS.values()), jobs=[drop_ingestion_job], sensors=[drop_zone_sensor]
    )

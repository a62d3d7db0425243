"""``features/flight_features``: daily feature partitions built from the lake, with data checks.

The code version is the hash of the toolbox and feature definitions: editing them marks
this asset (and exactly what is downstream of it) as unsynced; a candidate commit does not.
"""

import datetime as dt
from typing import Any

import dagster as dg

from clearlake.features import checks, datasets, flight_features, toolbox
from clearlake.features.flight_features import FLIGHT_FEATURES_SCHEMA, TABLE, FlightFeatures
from clearlake.lake.metadata import written_metadata
from clearlake.lake.store import date_partition
from clearlake.partitions import daily_partitions_def
from clearlake.provenance import provenance_metadata
from clearlake.resources import LakeResource
from clearlake.versioning import digest, source_version

FEATURES_CODE_VERSION = source_version(toolbox, flight_features, datasets, checks)
BLOCKING = {"schema_matches_declaration", "unique_flight_ids"}
CHECK_DESCRIPTIONS = {
    "schema_matches_declaration": "Every published partition has exactly the declared schema.",
    "unique_flight_ids": "flight_id identifies one row (predictions are joined on it).",
    "target_in_range": "arr_delay lies within [-120, 1500] minutes.",
    "weather_coverage": "At least 90% of flights found weather at their origin hour.",
}
KEY = dg.AssetKey(["features", "flight_features"])


def column_schema() -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                f.name, str(f.type), constraints=dg.TableColumnConstraints(nullable=f.nullable)
            )
            for f in FLIGHT_FEATURES_SCHEMA
        ]
    )


def flight_features_asset() -> dg.AssetsDefinition:
    @dg.asset(
        key=KEY,
        group_name="features",
        description=(
            "One row per scheduled flight: calendar, schedule, carrier, route, weather at the "
            "origin in the departure hour, aircraft; target arr_delay (minutes, null when "
            "cancelled). Daily partitions; typed schema checked on every run."
        ),
        partitions_def=daily_partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=[
            dg.AssetKey(["lake", "flights"]),
            dg.AssetKey(["lake", "weather"]),
            dg.AssetKey(["lake", "planes"]),
            dg.AssetKey(["lake", "airlines"]),
        ],
        code_version=FEATURES_CODE_VERSION,
        kinds={"parquet", "pandas"},
        owners=["team:data-science"],
        tags={"layer": "features"},
        metadata={"dagster/column_schema": column_schema(), "table": TABLE},
        check_specs=[
            dg.AssetCheckSpec(name, asset=KEY, blocking=name in BLOCKING, description=text)
            for name, text in CHECK_DESCRIPTIONS.items()
        ],
    )
    def _flight_features(
        context: dg.AssetExecutionContext, lake: LakeResource
    ) -> dg.MaterializeResult:  # type: ignore[type-arg]
        store = lake.store()
        window = context.partition_time_window
        days = [
            window.start.date() + dt.timedelta(days=i)
            for i in range((window.end - window.start).days)
        ]
        built = flight_features.build_for_days(store, days[0], days[-1])
        written = {
            day: store.write(
                TABLE, date_partition(day), FLIGHT_FEATURES_SCHEMA, features.table.to_batches()
            )
            for day, features in built.items()
        }
        if len(written) > 1:  # each day's own facts; the run's metadata covers the range
            for day, partition in written.items():
                context.add_asset_metadata(
                    written_metadata(partition), partition_key=day.isoformat()
                )
        combined = FlightFeatures.from_arrow(
            datasets.concat_tables([f.table for f in built.values()], FLIGHT_FEATURES_SCHEMA)
        )
        schemas = [store.read_schema(store.partition_file(TABLE, date_partition(d))) for d in days]
        outcomes = checks.all_checks(combined, schemas)
        context.log.info(f"flight_features: {combined.num_rows} rows for {len(days)} day(s)")
        metadata: dict[str, Any] = {
            **written_metadata(written[days[0]]),
            "range_row_count": combined.num_rows,
            "partition_range": f"{days[0]}..{days[-1]}",
            "target_null_fraction": round(combined.null_fraction("arr_delay"), 4),
            **provenance_metadata(run_id=context.run_id, code_version=FEATURES_CODE_VERSION),
        }
        return dg.MaterializeResult(
            metadata=metadata,
            data_version=dg.DataVersion(digest(*(w.content_hash for w in written.values()))),
            check_results=[
                dg.AssetCheckResult(
                    check_name=o.name,
                    passed=o.passed,
                    severity=dg.AssetCheckSeverity.ERROR
                    if o.name in BLOCKING
                    else dg.AssetCheckSeverity.WARN,
                    description=o.description,
                    metadata=dict(o.metadata),
                )
                for o in outcomes
            ],
        )

    return _flight_features


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[flight_features_asset()])

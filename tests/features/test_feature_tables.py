"""Feature-table assets materialised for real (in-process) on a private lake."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
import pytest
import yaml

from assets.features.feature_tables import feature_asset
from clearlake.features import checks
from clearlake.lake.store import LakeStore
from clearlake.orchestration.resources import LakeResource
from clearlake.project.load import Project, load_project
from clearlake.settings import DEFAULT_PROJECT

RANGE = {
    "dagster/asset_partition_range_start": "2013-02-01",
    "dagster/asset_partition_range_end": "2013-02-03",
}
DAYS = ["2013-02-01", "2013-02-02", "2013-02-03"]


def materialise(
    asset: dg.AssetsDefinition, lake: LakeStore, instance: dg.DagsterInstance, **kw: Any
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [asset], resources={"lake": LakeResource(url=lake.url)}, instance=instance, tags=RANGE, **kw
    )


@pytest.fixture
def instance(tmp_path: Path) -> dg.DagsterInstance:
    (tmp_path / "dagster").mkdir()
    return dg.DagsterInstance.local_temp(str(tmp_path / "dagster"))


def project_with(tmp_path: Path, features: dict[str, Any], sql: str | None = None) -> Project:
    """The flights example's sources with other feature tables, in a temporary project."""
    folder = tmp_path / "project"
    shutil.copytree(DEFAULT_PROJECT, folder, ignore=shutil.ignore_patterns("notebooks"))
    raw = yaml.safe_load((folder / "clearlake.yaml").read_text())
    raw.update(features=features, tasks={}, repositories=[])
    if sql is not None:
        (folder / "features" / "custom.sql").write_text(sql)
    (folder / "clearlake.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return load_project(folder)


def test_function_feature_asset_days_checks_and_versions(
    private_lake: LakeStore, instance: dg.DagsterInstance
) -> None:
    project = load_project(DEFAULT_PROJECT)
    asset = feature_asset(project, "flight_features")
    key = dg.AssetKey(["features", "flight_features"])
    spec = asset.specs_by_key[key]
    assert {d.asset_key for d in spec.deps} == {
        dg.AssetKey(["lake", t]) for t in ("flights", "weather", "planes", "airlines")
    }
    assert isinstance(spec.partitions_def, dg.DailyPartitionsDefinition)
    keys = spec.partitions_def.get_partition_keys()
    assert (keys[0], keys[-1], len(keys)) == ("2013-01-01", "2013-12-31", 365)

    result = materialise(asset, private_lake, instance)
    assert result.success
    assert private_lake.list_partitions("features/flight_features") == DAYS
    events = result.get_asset_materialization_events()
    assert sorted(str(e.partition) for e in events) == DAYS
    day_rows = 0
    for event in events:  # each day's materialisation carries that day's own facts
        facts = event.step_materialization_data.materialization.metadata
        path = facts["path"].value
        assert isinstance(path, str)
        assert path.endswith(f"features/flight_features/date={event.partition}/data.parquet")
        assert facts["content_hash"].value == private_lake.file_hash(path)[:16]
        stored = private_lake.read_table(path)
        assert stored.schema.equals(project.feature_schema("flight_features"))
        rows = facts["dagster/row_count"].value
        assert isinstance(rows, int) and rows == stored.num_rows
        day_rows += rows
    metadata = events[0].step_materialization_data.materialization.metadata
    assert metadata["range_row_count"].value == day_rows > 2000
    assert metadata["provenance/code_version"].value == spec.code_version
    assert {e.check_name: e.passed for e in result.get_asset_check_evaluations()} == {
        "schema_matches_declaration": True,
        "unique_row_id": True,
        "target_in_range": True,
        "weather_coverage": True,
    }
    first = events[0].step_materialization_data.materialization.tags
    again = materialise(asset, private_lake, instance).get_asset_materialization_events()[0]
    second = again.step_materialization_data.materialization.tags
    assert first is not None and second is not None
    assert second["dagster/data_version"] == first["dagster/data_version"]  # same lake, same data


def test_sql_feature_asset_reads_exactly_its_tables(
    private_lake: LakeStore, instance: dg.DagsterInstance
) -> None:
    project = load_project(DEFAULT_PROJECT)
    asset = feature_asset(project, "departures")
    spec = asset.specs_by_key[dg.AssetKey(["features", "departures"])]
    assert {d.asset_key for d in spec.deps} == {
        dg.AssetKey(["lake", t]) for t in ("flights", "planes", "weather")
    }
    assert "duckdb" in spec.kinds
    result = materialise(asset, private_lake, instance)
    assert result.success
    stored = private_lake.read_table(
        private_lake.partition_file("features/departures", "date=2013-02-02")
    )
    assert stored.schema.equals(project.feature_schema("departures"))
    assert stored.num_rows > 500
    assert stored["flight_id"].to_pylist() == sorted(stored["flight_id"].to_pylist())
    assert 0.1 < pa.compute.mean(stored["late"].cast(pa.float64())).as_py() < 0.5


def test_code_version_is_the_sql_text(tmp_path: Path) -> None:
    declared = {
        "sql": "features/custom.sql",
        "row_id": "flight_id",
        "date_column": "flight_date",
        "columns": {"flight_id": "string not null", "flight_date": "date32 not null"},
    }
    query = "select carrier || flight::varchar as flight_id, flight_date from flights "
    one = project_with(tmp_path / "a", {"custom": declared}, query + "where flight_date = $day")
    two = project_with(tmp_path / "b", {"custom": declared}, query + "where $day = flight_date")
    versions = [
        feature_asset(p, "custom").specs_by_key[dg.AssetKey(["features", "custom"])].code_version
        for p in (one, two, one)
    ]
    assert versions[0] != versions[1] and versions[0] == versions[2]


def test_sql_result_of_another_type_names_feature_column_and_fix(
    tmp_path: Path, private_lake: LakeStore, instance: dg.DagsterInstance
) -> None:
    declared = {
        "sql": "features/custom.sql",
        "row_id": "flight_id",
        "date_column": "flight_date",
        "columns": {"flight_id": "int64 not null", "flight_date": "date32 not null"},
    }
    sql = "select tailnum as flight_id, flight_date from flights where flight_date = $day"
    project = project_with(tmp_path, {"custom": declared}, sql)
    result = materialise(
        feature_asset(project, "custom"), private_lake, instance, raise_on_error=False
    )
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data.error
    assert error is not None
    message = error.cause.message if error.cause else error.message
    assert "Feature table custom does not match its declared schema" in message
    assert "column flight_id is string, declared int64" in message
    assert "CAST in SQL" in message and "features.custom.columns" in message


def test_checks_fail_on_bad_data() -> None:
    project = load_project(DEFAULT_PROJECT)
    schema = project.feature_schema("flight_features")
    declared = {c.name: c for c in project.feature("flight_features").checks}
    table = pa.table(
        {"flight_id": ["a", "a", "b"], "arr_delay": [1.0, 5000.0, None], "temp": [None, None, 1.0]}
    )
    unique = checks.unique_row_id(table, "flight_id")
    assert not unique.passed and unique.metadata["duplicates"] == 1
    in_range = checks.declared_check(declared["target_in_range"], table)
    assert (
        not in_range.passed and "1 arr_delay value(s) outside [-120, 1500]" in in_range.description
    )
    coverage = checks.declared_check(declared["weather_coverage"], table)
    assert not coverage.passed and "33.3% of rows have temp" in coverage.description
    drifted = schema.set(schema.get_field_index("distance"), pa.field("distance", pa.int64()))
    outcome = checks.published_schema(schema, [schema, drifted])
    assert not outcome.passed and "distance is int64" in outcome.description


def test_function_reading_an_undeclared_table_is_an_error(
    tmp_path: Path, private_lake: LakeStore, instance: dg.DagsterInstance
) -> None:
    package = tmp_path / "project" / "flights_example"
    project = project_with(
        tmp_path,
        {
            "sneaky": {
                "function": "sneaky_features:sneaky",
                "inputs": ["flights"],
                "row_id": "flight",
                "date_column": "flight_date",
                "columns": {"flight": "int64 not null", "flight_date": "date32 not null"},
            }
        },
    )
    (package.parent / "sneaky_features.py").write_text(
        "def sneaky(inputs, day):\n    return inputs.read('weather')\n"
    )
    result = materialise(
        feature_asset(project, "sneaky"), private_lake, instance, raise_on_error=False
    )
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data.error
    assert error is not None
    message = error.cause.message if error.cause else error.message
    assert "Feature sneaky reads lake table 'weather', which it does not declare" in message

"""The flight_features asset, materialised for real (in-process) on a private lake."""

from pathlib import Path

import dagster as dg
import pytest

from assets.features.flight_features import FEATURES_CODE_VERSION, KEY, flight_features_asset
from clearlake.features.flight_features import TABLE
from clearlake.lake.store import LakeStore
from clearlake.resources import LakeResource

RANGE = {
    "dagster/asset_partition_range_start": "2013-02-01",
    "dagster/asset_partition_range_end": "2013-02-03",
}


def materialise(lake: LakeStore, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [flight_features_asset()],
        resources={"lake": LakeResource(url=lake.url)},
        instance=instance,
        tags=RANGE,
    )


@pytest.fixture
def instance(tmp_path: Path) -> dg.DagsterInstance:
    (tmp_path / "dagster").mkdir()
    return dg.DagsterInstance.local_temp(str(tmp_path / "dagster"))


def test_materialises_each_day_with_checks_and_versions(
    private_lake: LakeStore, instance: dg.DagsterInstance
) -> None:
    result = materialise(private_lake, instance)
    assert result.success
    assert private_lake.list_partitions(TABLE) == ["2013-02-01", "2013-02-02", "2013-02-03"]

    events = result.get_asset_materialization_events()
    partitions = sorted((e.partition for e in events), key=str)
    assert partitions == ["2013-02-01", "2013-02-02", "2013-02-03"]
    materialization = events[0].step_materialization_data.materialization
    metadata = materialization.metadata
    row_count = metadata["range_row_count"].value
    assert isinstance(row_count, int)
    assert row_count > 2000
    assert metadata["partition_range"].value == "2013-02-01..2013-02-03"
    day_rows = 0
    for event in events:  # each day's materialisation carries that day's own facts
        facts = event.step_materialization_data.materialization.metadata
        path = facts["path"].value
        assert isinstance(path, str) and path.endswith(f"date={event.partition}/data.parquet")
        assert facts["content_hash"].value == private_lake.file_hash(path)[:16]
        assert facts["dagster/row_count"].value == private_lake.read_table(path).num_rows
        rows = facts["dagster/row_count"].value
        assert isinstance(rows, int)
        day_rows += rows
    assert day_rows == row_count
    assert metadata["provenance/code_version"].value == FEATURES_CODE_VERSION
    assert materialization.tags is not None
    assert materialization.tags["dagster/code_version"] == FEATURES_CODE_VERSION

    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        "schema_matches_declaration": True,
        "unique_flight_ids": True,
        "target_in_range": True,
        "weather_coverage": True,
    }

    again = materialise(private_lake, instance)
    first = materialization.tags["dagster/data_version"]
    second = again.get_asset_materialization_events()[0].step_materialization_data.materialization
    assert second.tags is not None
    assert second.tags["dagster/data_version"] == first  # same lake data, same features


def test_definition_metadata() -> None:
    spec = flight_features_asset().specs_by_key[KEY]
    assert spec.group_name == "features"
    assert spec.owners == ["team:data-science"]
    assert spec.description and "weather" in spec.description
    assert {"parquet", "pandas"} <= set(spec.kinds)
    assert spec.code_version == FEATURES_CODE_VERSION

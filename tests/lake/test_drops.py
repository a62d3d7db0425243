"""Drop zone: sensor, ingestion, quarantine — real files, real sensor ticks, real runs."""

from __future__ import annotations

import os
import time
from pathlib import Path

import dagster as dg
import pytest

from assets.lake.drops import DROP_ASSETS, drop_zone_sensor
from clearlake.lake.reader import read
from clearlake.lake.store import LakeStore
from clearlake.resources import DropZoneResource, LakeResource

GOOD = (
    "flight_date,carrier,flight,cause,confidence\n"
    "2013-01-05,UA,1545,weather,0.9\n2013-01-05,AA,11,crew,0.5\n"
)
WRONG_COLUMNS = "flight_date,carrier,reason\n2013-01-05,UA,late\n"
NOT_JSON = '{"flight_date": "2013-01-05", "carrier": \n'


def drop(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    past = time.time() - 60  # settled: not being written any more
    os.utime(path, (past, past))
    return path


@pytest.fixture
def zone(tmp_path: Path) -> Path:
    folder = tmp_path / "drops" / "delay_annotations"
    folder.mkdir(parents=True)
    return tmp_path


def tick(instance: dg.DagsterInstance, root: Path, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"drop_zone": DropZoneResource(root=str(root / "drops"))},
    )
    result = drop_zone_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def execute(
    instance: dg.DagsterInstance, root: Path, request: dg.RunRequest
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [DROP_ASSETS["delay_annotations"]],
        instance=instance,
        partition_key=request.partition_key,
        run_config=request.run_config,
        resources={
            "lake": LakeResource(url=str(root / "lake")),
            "drop_zone": DropZoneResource(root=str(root / "drops")),
        },
        raise_on_error=False,
    )


def test_good_file_ingested_bad_files_quarantined_nothing_twice(zone: Path) -> None:
    folder = zone / "drops" / "delay_annotations"
    drop(folder, "labels.csv", GOOD)
    drop(folder, "wrong.csv", WRONG_COLUMNS)
    drop(folder, "broken.jsonl", NOT_JSON)
    instance = dg.DagsterInstance.ephemeral()

    first = tick(instance, zone, None)
    assert first.run_requests is not None and first.dynamic_partitions_requests is not None
    assert len(first.run_requests) == 3
    assert len({r.run_key for r in first.run_requests}) == 3
    (add,) = first.dynamic_partitions_requests
    instance.add_dynamic_partitions(add.partitions_def_name, list(add.partition_keys))

    outcomes = {
        r.tags["clearlake/drop_file"]: execute(instance, zone, r) for r in first.run_requests
    }
    assert outcomes["labels.csv"].success
    assert not outcomes["wrong.csv"].success and not outcomes["broken.jsonl"].success

    ingested = read("drops/delay_annotations", store=LakeStore(str(zone / "lake")))
    assert ingested["cause"].tolist() == ["weather", "crew"]
    assert [p.name.split("__")[1] for p in (folder / "_ingested").iterdir()] == ["labels.csv"]
    reasons = {p.name: p.read_text() for p in (folder / "_quarantine").glob("*.reason.txt")}
    assert "new column 'reason' (string) is not declared" in reasons["wrong.csv.reason.txt"]
    assert "column 'cause' (string) is missing" in reasons["wrong.csv.reason.txt"]
    assert "cannot be parsed as jsonl" in reasons["broken.jsonl.reason.txt"]
    assert (folder / "_quarantine" / "broken.jsonl").read_text() == NOT_JSON  # nothing lost

    # Nothing waits any more, and the cursor remembers what was requested.
    again = tick(instance, zone, first.cursor)
    assert again.run_requests == []


def test_same_file_requested_once_even_if_sensor_ticks_twice(zone: Path) -> None:
    folder = zone / "drops" / "delay_annotations"
    drop(folder, "labels.csv", GOOD)
    instance = dg.DagsterInstance.ephemeral()
    first = tick(instance, zone, None)
    second = tick(instance, zone, first.cursor)  # the run has not happened yet
    assert first.run_requests is not None
    assert len(first.run_requests) == 1 and second.run_requests == []


def test_missing_drop_folder_is_a_clear_skip(tmp_path: Path) -> None:
    context = dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(),
        resources={"drop_zone": DropZoneResource(root=str(tmp_path / "nowhere"))},
    )
    result = drop_zone_sensor(context)
    assert isinstance(result, dg.SkipReason)
    assert "does not exist: run `clearlake drops init`" in (result.skip_message or "")

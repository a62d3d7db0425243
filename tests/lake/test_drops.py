"""Drop zone: identity by content, settle window, `.part`, retries — real files, real sensor
evaluations on a real (temporary SQLite) instance, real in-process runs."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from assets.lake.drops import FILE_TAG, MAX_ATTEMPTS, ZONES, build_drop_zone, drop_zone_sensor
from clearlake.errors import DropZoneError
from clearlake.lake import drops
from clearlake.lake.reader import read
from clearlake.lake.store import LakeStore
from clearlake.orchestration.resources import DropZoneResource, LakeResource

GOOD = (
    "flight_date,carrier,flight,cause,confidence\n"
    "2013-01-05,UA,1545,weather,0.9\n2013-01-05,AA,11,crew,0.5\n"
)
WRONG_COLUMNS = "flight_date,carrier,reason\n2013-01-05,UA,late\n"
NOT_JSON = '{"flight_date": "2013-01-05", "carrier": \n'
DECLARED = ZONES["delay_annotations"]


def zone_with(settle_seconds: float, **rules: Any) -> drops.DropZone:
    return drops.DropZone(
        DECLARED.name, DECLARED.description, DECLARED.schema, settle_seconds, **rules
    )


class Zone:
    """A drop root, a lake and an instance, with the daemon's part played by hand."""

    def __init__(
        self, root: Path, instance: dg.DagsterInstance, settle_seconds: float, **rules: Any
    ) -> None:
        self.root, self.instance = root, instance
        self.folder = root / "drops" / "delay_annotations"
        self.folder.mkdir(parents=True)
        zone = zone_with(settle_seconds, **rules)
        self.assets, self.sensor = build_drop_zone({zone.name: zone})
        self.cursor: str | None = None
        self.lake_url = str(root / "lake")

    def drop(self, name: str, text: str, *, age: float = 60) -> Path:
        path = self.folder / name
        path.write_text(text)
        os.utime(path, (time.time() - age, time.time() - age))
        return path

    def tick(self) -> list[dg.RunRequest]:
        """One sensor evaluation; its partition requests applied as the daemon does."""
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            resources={"drop_zone": DropZoneResource(root=str(self.root / "drops"))},
        )
        result = self.sensor(context)
        assert isinstance(result, dg.SensorResult)
        self.cursor = result.cursor
        for add in result.dynamic_partitions_requests or []:
            assert isinstance(add, dg.AddDynamicPartitionsRequest)
            self.instance.add_dynamic_partitions(add.partitions_def_name, list(add.partition_keys))
        return list(result.run_requests or [])

    def run(self, request: dg.RunRequest, lake_url: str | None = None) -> bool:
        return dg.materialize(
            [self.assets["delay_annotations"]],
            instance=self.instance,
            partition_key=request.partition_key,
            run_config=request.run_config,
            tags=request.tags,
            resources={
                "lake": LakeResource(url=lake_url or self.lake_url),
                "drop_zone": DropZoneResource(root=str(self.root / "drops")),
            },
            raise_on_error=False,
        ).success

    def lake_rows(self) -> int:
        return len(read("drops/delay_annotations", store=LakeStore(self.lake_url)))

    def lake_rows_or_none(self) -> int | None:
        store = LakeStore(self.lake_url)
        return self.lake_rows() if store.list_partitions("drops/delay_annotations") else None

    def listing(self, sub: str) -> list[str]:
        return sorted(p.name for p in (self.folder / sub).glob("*") if p.suffix != ".txt")

    def reason(self, sub: str, name: str) -> str:
        return (self.folder / sub / f"{name}.reason.txt").read_text()


@dg.op
def nothing() -> None:
    """Stands for a run whose process was killed: only its record matters."""


@dg.job(name="drop_ingestion")
def ghost_job() -> None:
    nothing()


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture
def zone(tmp_path: Path, instance: dg.DagsterInstance) -> Zone:
    return Zone(tmp_path, instance, settle_seconds=0)


def test_good_file_ingested_bad_files_quarantined(zone: Zone) -> None:
    zone.drop("labels.csv", GOOD)
    zone.drop("wrong.csv", WRONG_COLUMNS)
    zone.drop("broken.jsonl", NOT_JSON)
    requests = zone.tick()
    assert len({r.partition_key for r in requests}) == 3
    outcomes = {r.tags["clearlake/drop_file"]: zone.run(r) for r in requests}
    assert outcomes == {"labels.csv": True, "wrong.csv": False, "broken.jsonl": False}

    ingested = read("drops/delay_annotations", store=LakeStore(zone.lake_url))
    assert ingested["cause"].tolist() == ["weather", "crew"]
    assert [n.split("__")[1] for n in zone.listing("_ingested")] == ["labels.csv"]
    assert "new column 'reason' (string) is not declared" in zone.reason("_quarantine", "wrong.csv")
    assert "cannot be parsed as jsonl" in zone.reason("_quarantine", "broken.jsonl")
    assert (zone.folder / "_quarantine" / "broken.jsonl").read_text() == NOT_JSON  # nothing lost
    assert zone.tick() == []


def test_same_bytes_under_other_names_and_times_are_one_ingestion(zone: Zone) -> None:
    zone.drop("labels.csv", GOOD, age=600)
    (request,) = zone.tick()
    assert zone.run(request)
    zone.drop("labels-again.csv", GOOD, age=5)  # another name, another time
    zone.drop("labels.csv", GOOD, age=1)  # the same name dropped again
    assert zone.tick() == []  # recorded as duplicates, not ingested, not an error
    assert zone.listing("_duplicates") == ["labels-again.csv", "labels.csv"]
    reason = zone.reason("_duplicates", "labels-again.csv")
    assert "'labels.csv', ingested by run" in reason and "not ingested again" in reason
    assert zone.lake_rows() == 2
    assert zone.tick() == [] and list(zone.folder.glob("*.csv")) == []


def test_cp_p_pair_is_one_request_and_never_a_partition_conflict(zone: Zone) -> None:
    first = zone.drop("a.csv", GOOD)
    shutil.copy2(first, zone.folder / "b.csv")  # cp -p: same bytes, same mtime
    (request,) = zone.tick()  # one request for the pair, one partition key
    assert zone.run(request)
    assert zone.tick() == []
    assert zone.listing("_duplicates") == ["b.csv"]
    assert zone.instance.get_dynamic_partitions("drops_delay_annotations") == [
        request.partition_key
    ]
    assert zone.lake_rows() == 2


def test_a_failed_run_makes_its_file_pending_again_until_quarantined(zone: Zone) -> None:
    zone.drop("labels.csv", GOOD)
    (request,) = zone.tick()
    blocked = zone.root / "not-a-folder"
    blocked.write_text("the lake cannot be written below a file")
    assert not zone.run(request, lake_url=str(blocked))
    assert (zone.folder / "labels.csv").exists()  # not quarantined: not the file's fault
    (retry,) = zone.tick()
    assert retry.partition_key == request.partition_key and retry.run_key != request.run_key
    assert zone.run(retry)
    assert zone.lake_rows() == 2 and zone.tick() == []


def test_a_run_left_started_holds_the_file_and_a_failed_mark_releases_it(zone: Zone) -> None:
    zone.drop("labels.csv", GOOD)
    (request,) = zone.tick()
    assert zone.tick() != []  # no run exists (the daemon died before creating it): asked again
    ghost = zone.instance.create_run_for_job(
        ghost_job, tags=request.tags, status=dg.DagsterRunStatus.STARTED
    )
    assert zone.tick() == []  # in flight: waits, never skipped
    zone.instance.report_run_failed(ghost)
    (again,) = zone.tick()
    assert zone.run(again) and zone.lake_rows() == 2


def test_repeated_failures_end_in_quarantine_with_the_last_run(zone: Zone) -> None:
    zone.drop("labels.csv", GOOD)
    blocked = zone.root / "not-a-folder"
    blocked.write_text("x")
    for _ in range(MAX_ATTEMPTS):
        (request,) = zone.tick()
        assert not zone.run(request, lake_url=str(blocked))
    assert zone.tick() == []
    assert zone.listing("_quarantine") == ["labels.csv"]
    assert f"{MAX_ATTEMPTS} ingestion runs of this content failed" in zone.reason(
        "_quarantine", "labels.csv"
    )


def test_slow_writer_is_taken_only_after_size_and_mtime_settle(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    zone = Zone(tmp_path, instance, settle_seconds=1.0)
    header, *rows = GOOD.splitlines(keepends=True)
    path = zone.folder / "slow.csv"
    path.write_text(header + rows[0] + "2013-01-05,AA,11,crew,0.")  # paused mid-value
    assert zone.tick() == []  # first sighting
    time.sleep(1.1)
    with path.open("a") as handle:
        handle.write("5\n")  # second part: size and mtime change
    assert zone.tick() == []  # changed since the last sighting: the window restarts
    time.sleep(1.1)
    (request,) = zone.tick()
    assert zone.run(request)
    ingested = read("drops/delay_annotations", store=LakeStore(zone.lake_url))
    assert ingested["confidence"].tolist() == [0.9, 0.5]


def test_part_files_wait_until_renamed(zone: Zone) -> None:
    part = zone.folder / "labels.csv.part"
    part.write_text(GOOD[:40])
    assert zone.tick() == []
    with part.open("a") as handle:
        handle.write(GOOD[40:])
    assert zone.tick() == []
    part.rename(zone.folder / "labels.csv")
    (request,) = zone.tick()
    assert zone.run(request) and zone.lake_rows() == 2


def test_a_file_changed_after_the_tick_is_not_ingested_under_the_old_content(zone: Zone) -> None:
    path = zone.drop("labels.csv", GOOD)
    (request,) = zone.tick()
    path.write_text(GOOD + "2013-01-06,DL,7,crew,0.1\n")
    assert not zone.run(request)
    assert path.exists()  # still waiting, with its new content
    (again,) = zone.tick()
    assert again.partition_key != request.partition_key
    assert zone.run(again) and zone.lake_rows() == 3


def test_a_marker_zone_waits_for_the_marker_even_for_a_settled_file(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    zone = Zone(tmp_path, instance, settle_seconds=0, completion="marker")
    zone.drop("labels.csv", GOOD[:-1], age=600)  # old, settled, no final newline: a marker says
    assert zone.tick() == [] and zone.tick() == []
    (zone.folder / "labels.csv.done").write_text("")
    (request,) = zone.tick()
    assert request.tags[FILE_TAG] == "labels.csv"
    assert zone.run(request) and zone.lake_rows() == 2
    assert sorted(p.name.split("__")[1] for p in (zone.folder / "_ingested").iterdir()) == [
        "labels.csv",
        "labels.csv.done",
    ]
    assert zone.tick() == [] and list(zone.folder.iterdir()) == [zone.folder / "_ingested"]


def test_a_csv_cut_mid_row_waits_then_is_quarantined_with_the_reason(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    zone = Zone(tmp_path, instance, settle_seconds=0, unfinished_seconds=1.0)
    cut = GOOD + "2013-01-06,DL,7,cre"  # an upload interrupted mid-row
    path = zone.drop("labels.csv", cut)
    assert zone.tick() == []  # possibly still being written: waits
    assert path.exists()
    time.sleep(1.1)
    assert zone.tick() == []  # never completed: set aside, not ingested as 2 of 3 rows
    assert not path.exists() and zone.lake_rows_or_none() is None
    assert (zone.folder / "_quarantine" / "labels.csv").read_text() == cut  # nothing lost
    reason = zone.reason("_quarantine", "labels.csv")
    assert "ends without a final newline" in reason and "completion: marker" in reason
    zone.drop("labels.csv", cut + "w,0.2\n")  # the whole file dropped again
    (request,) = zone.tick()
    assert zone.run(request) and zone.lake_rows() == 3


def test_declared_zone_settles_for_two_minutes_by_default() -> None:
    assert DECLARED.settle_seconds == drops.SETTLE_SECONDS == 120


def test_bad_settle_declaration_names_the_dataset(tmp_path: Path) -> None:
    path = tmp_path / "drops.yaml"
    path.write_text("datasets:\n  d:\n    settle_seconds: -1\n    columns: {a: string}\n")
    with pytest.raises(DropZoneError, match="dataset 'd' settle_seconds must be"):
        drops.load_drop_zones(path)


def test_missing_drop_folder_is_a_clear_skip(tmp_path: Path) -> None:
    context = dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(),
        resources={"drop_zone": DropZoneResource(root=str(tmp_path / "nowhere"))},
    )
    result = drop_zone_sensor(context)
    assert isinstance(result, dg.SkipReason)
    assert "does not exist: run `clearlake drops init`" in (result.skip_message or "")

"""The lake on a real S3 API (moto's server on loopback): publication, readers, DuckDB,
replication, the drop zone, the Data API, and the errors a person sees when S3 is wrong."""

from __future__ import annotations

import datetime as dt
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest
from processes import http_ok, servers, wait_until
from s3_server import S3Server, free_port, running_s3

from assets.lake.drops import FILE_TAG, ZONES, build_drop_zone
from clearlake.api.tokens import issue_token
from clearlake.errors import ClearlakeError, LakeRecordError, LakeUnavailableError
from clearlake.lake import drops
from clearlake.lake.json_records import json_path, read_json, write_json
from clearlake.lake.reader import read, scan, sql
from clearlake.lake.replicate import replicate
from clearlake.lake.source import SourceDatabase
from clearlake.lake.store import TMP_DIR, LakeStore, s3_error
from clearlake.lake.tables import LAKE_TABLES
from clearlake.orchestration.resources import DropZoneResource, LakeResource
from clearlake.settings import DEFAULT_PROJECT

SCHEMA = pa.schema([("n", pa.int64())])
DAY = "date=2013-01-01"


def numbers(start: int, stop: int, step: int = 1000) -> Iterator[pa.RecordBatch]:
    for low in range(start, stop, step):
        yield pa.record_batch([pa.array(range(low, min(low + step, stop)))], names=["n"])


def bucket_of(url: str) -> str:
    return url.removeprefix("s3://").split("/", 1)[0]


def test_write_read_scan_and_sql_on_s3(s3: S3Server, s3_lake_url: str) -> None:
    store = LakeStore(s3_lake_url)
    written = store.write("numbers", DAY, SCHEMA, numbers(0, 5000))
    store.write("numbers", "date=2013-01-02", SCHEMA, numbers(0, 10))

    assert written.uri == f"{s3_lake_url}/numbers/{DAY}/data.parquet"
    assert store.file_hash(written.path) == written.content_hash
    assert store.list_partitions("numbers") == ["2013-01-01", "2013-01-02"]
    assert list(store.list_files(f"numbers/{DAY}", ".parquet")) == ["data"]
    assert store.list_files("no-such-table", ".json") == {}
    assert len(read("numbers", "2013-01-01", "2013-01-01", store=store)) == 5000
    assert sum(b.num_rows for b in scan("numbers", store=store)) == 5010
    assert sql("SELECT count(*) AS rows FROM numbers", store=store)["rows"].tolist() == [5010]
    assert s3.keys(bucket_of(s3_lake_url)) == [
        "lake/numbers/_manifest.json",  # the table's recent days (lake/store.py)
        "lake/numbers/date=2013-01-01/data.parquet",
        "lake/numbers/date=2013-01-02/data.parquet",
    ]


def test_failure_mid_write_keeps_previous_version_and_publishes_nothing(
    s3: S3Server, s3_lake_url: str
) -> None:
    store = LakeStore(s3_lake_url)
    before = store.write("numbers", DAY, SCHEMA, numbers(0, 5000))

    def broken() -> Iterator[pa.RecordBatch]:
        yield from numbers(0, 2000)
        raise RuntimeError("source connection lost")

    with pytest.raises(RuntimeError, match="source connection lost"):
        store.write("numbers", DAY, SCHEMA, broken())

    assert store.file_hash(before.path) == before.content_hash
    assert len(read("numbers", store=store)) == 5000
    bucket = bucket_of(s3_lake_url)
    assert s3.keys(bucket) == [  # no temporary either
        "lake/numbers/_manifest.json",
        f"lake/numbers/{DAY}/data.parquet",
    ]
    assert s3.pending_uploads(bucket) == []


def test_replication_into_s3_matches_the_local_lake(
    s3_lake_url: str, sample_db: str, tmp_path: Path
) -> None:
    days = [dt.date(2013, 1, 1), dt.date(2013, 1, 2)]
    daily = next(t for t in LAKE_TABLES.values() if t.partitioned)
    snapshot = next(t for t in LAKE_TABLES.values() if not t.partitioned)
    source = SourceDatabase(sample_db)
    on_s3, local = LakeStore(s3_lake_url), LakeStore(str(tmp_path / "lake"))
    for store in (on_s3, local):
        replicate(source, store, daily, days)
        replicate(source, store, snapshot, None)
    assert on_s3.list_partitions(daily.name) == ["2013-01-01", "2013-01-02"]
    for table in (daily.name, snapshot.name):
        assert read(table, store=on_s3).equals(read(table, store=local))


def test_data_api_serves_the_s3_lake(
    s3: S3Server, s3_lake_url: str, sample_db: str, tmp_path: Path
) -> None:
    snapshot = next(t for t in LAKE_TABLES.values() if not t.partitioned)
    replicate(SourceDatabase(sample_db), LakeStore(s3_lake_url), snapshot, None)
    token = issue_token(tmp_path / "tokens.yaml", principal="stew", roles=["steward"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARLAKE_")}
    env.update(
        s3.env(),
        CLEARLAKE_HOME=str(tmp_path / "home"),
        CLEARLAKE_LAKE_URL=s3_lake_url,
        CLEARLAKE_API_POLICY=str(DEFAULT_PROJECT / "api_policy.yaml"),
        CLEARLAKE_API_TOKENS_FILE=str(tmp_path / "tokens.yaml"),
        CLEARLAKE_API_MASK_KEY="test-mask-key-0123456789abcdef",
    )
    port = str(free_port())
    cli = str(Path(sys.executable).parent / "clearlake")
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    with servers(tmp_path / "logs") as start:
        api = start("data-api", [cli, "api", "serve", "--port", port], env, tmp_path)
        wait_until("the Data API", http_ok(f"{url}/health"), timeout=60, alive=[api])
        body = httpx.get(f"{url}/v1/datasets/{snapshot.name}/data", headers=headers, timeout=60)
        assert body.status_code == 200, body.text
        served = ipc.open_stream(body.content).read_all()
    assert served.num_rows == len(read(snapshot.name, store=LakeStore(s3_lake_url)))


def test_missing_bucket_is_one_line_naming_the_lake_and_the_fix(s3_lake_url: str) -> None:
    store = LakeStore("s3://no-such-bucket/lake")
    with pytest.raises(LakeUnavailableError, match=r"s3://no-such-bucket/lake.*create it") as err:
        store.write("numbers", DAY, SCHEMA, numbers(0, 10))
    assert "\n" not in str(err.value)
    record_path = json_path(store, "evaluation/shop/gate", "repo@1a2b3c4")
    with pytest.raises(LakeUnavailableError, match=r"s3://no-such-bucket/lake.*create it"):
        write_json(store, record_path, {"passed": True})


def test_unreachable_endpoint_is_one_line_naming_the_endpoint_setting(
    s3_lake_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")
    store = LakeStore(s3_lake_url)
    with pytest.raises(LakeUnavailableError, match="AWS_ENDPOINT_URL_S3") as err:
        store.list_partitions("numbers")
    assert str(err.value).startswith(f"Cannot use the lake at {s3_lake_url} on S3")
    assert "\n" not in str(err.value) and "source database" not in str(err.value)


@pytest.mark.parametrize(
    "sdk_error",
    [
        "AWS Error ACCESS_DENIED during HeadObject operation: Access Denied",
        "AWS Error UNKNOWN (HTTP status 403) during HeadObject operation: No response body.",
        "AWS Error INVALID_ACCESS_KEY_ID during PutObject: The key id does not exist",
    ],
)
def test_refused_credentials_name_the_credentials(sdk_error: str) -> None:
    error = s3_error("s3://lake/x", "read", OSError(sdk_error))
    assert "credentials were refused" in str(error) and "roleArn" in str(error)


def test_temporaries_stay_out_of_partition_folders(s3: S3Server, s3_lake_url: str) -> None:
    store = LakeStore(s3_lake_url)
    store.write("numbers", DAY, SCHEMA, numbers(0, 10))
    assert store.tmp_dir("numbers").endswith(f"/numbers/{TMP_DIR}")


def record(n: int) -> dict[str, Any]:
    """A record of 100-200 kB that says how long it is (a cut one does not match)."""
    body = f"{n}:" * (50_000 + 5_000 * (n % 11))
    return {"n": n, "body": body, "length": len(body)}


def test_json_records_on_s3_are_read_whole_while_rewritten(s3: S3Server, s3_lake_url: str) -> None:
    """One PUT per record: a reader racing the writer gets a whole version, never a cut one
    (tests/lake/test_json_records.py races the local rename the same way)."""
    store = LakeStore(s3_lake_url)
    path = json_path(store, "evaluation/shop/gate", "repo@1a2b3c4")
    assert read_json(store, path) is None
    write_json(store, path, record(0))
    done = threading.Event()
    seen: list[int] = []
    broken: list[str] = []

    def read_until_done() -> None:
        while not done.is_set():
            try:
                found = read_json(store, path)
            except LakeRecordError as exc:  # cut on every attempt
                broken.append(str(exc))
                continue
            assert found is not None
            if len(found["body"]) != found["length"]:
                broken.append(f"version {found['n']} is cut")
            seen.append(found["n"])

    reader = threading.Thread(target=read_until_done)
    reader.start()
    for n in range(1, 25):
        write_json(store, path, record(n))
    done.set()
    reader.join()

    assert broken == [] and len(set(seen)) > 1  # read whole, and read while rewritten
    assert read_json(store, path) == record(24)
    bucket = bucket_of(s3_lake_url)
    assert s3.keys(bucket) == ["lake/evaluation/shop/gate/repo@1a2b3c4.json"]
    assert s3.pending_uploads(bucket) == []


def test_drop_zone_ingests_into_the_s3_lake_and_a_failed_write_leaves_the_file_waiting(
    s3: S3Server, s3_lake_url: str, tmp_path: Path
) -> None:
    """The daemon's part played by hand (sensor tick, run), the lake on S3: a write that S3
    refuses fails the run with the lake's error, publishes nothing and leaves the file where
    it was; the next tick asks again and the file lands as one partition on S3."""
    declared = ZONES["delay_annotations"]
    zone = drops.DropZone(declared.name, declared.description, declared.schema, 0)
    assets, sensor = build_drop_zone({zone.name: zone})
    root = tmp_path / "drops"
    folder = root / zone.name
    folder.mkdir(parents=True)
    dropped = folder / "labels.csv"
    dropped.write_text(
        "flight_date,carrier,flight,cause,confidence\n2013-01-05,UA,1545,weather,0.9\n"
    )
    drop_zone = DropZoneResource(root=str(root))
    with dg.instance_for_test() as instance:
        cursor: str | None = None

        def tick() -> list[dg.RunRequest]:
            nonlocal cursor
            context = dg.build_sensor_context(
                instance=instance, cursor=cursor, resources={"drop_zone": drop_zone}
            )
            result = sensor(context)
            assert isinstance(result, dg.SensorResult)
            cursor = result.cursor
            for add in result.dynamic_partitions_requests or []:
                assert isinstance(add, dg.AddDynamicPartitionsRequest)
                instance.add_dynamic_partitions(add.partitions_def_name, list(add.partition_keys))
            return list(result.run_requests or [])

        def run(request: dg.RunRequest, lake_url: str) -> dg.ExecuteInProcessResult:
            return dg.materialize(
                [assets[zone.name]],
                instance=instance,
                partition_key=request.partition_key,
                run_config=request.run_config,
                tags=request.tags,
                resources={"lake": LakeResource(url=lake_url), "drop_zone": drop_zone},
                raise_on_error=False,
            )

        (request,) = tick()
        assert request.tags[FILE_TAG] == "labels.csv"
        failed = run(request, "s3://no-such-bucket/lake")
        assert not failed.success
        (failure,) = [e for e in failed.all_events if e.is_step_failure]
        error = failure.step_failure_data.error
        assert error is not None
        assert "lake at s3://no-such-bucket/lake on S3" in error.to_string()
        assert "The bucket does not exist: create it" in error.to_string()
        assert dropped.exists()  # not quarantined: the lake's fault, not the file's

        (retry,) = tick()
        assert retry.partition_key == request.partition_key
        assert run(retry, s3_lake_url).success
    table = f"drops/{zone.name}"
    store = LakeStore(s3_lake_url)
    assert store.list_partitions(table, prefix="dropped=") == [request.partition_key]
    assert read(table, store=store)["cause"].tolist() == ["weather"]
    assert s3.keys(bucket_of(s3_lake_url), "lake/drops/") == [
        f"lake/{table}/dropped={request.partition_key}/data.parquet"
    ]
    assert not dropped.exists() and len(list((folder / drops.INGESTED).iterdir())) == 1


def test_s3_outage_mid_replication_names_the_lake_not_the_source(
    sample_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The object store stops after the first day is written: an error about the lake."""
    daily = next(t for t in LAKE_TABLES.values() if t.partitioned)
    days = [dt.date(2013, 1, 1) + dt.timedelta(days=n) for n in range(5)]
    with running_s3() as own:  # its own server: stopping it must not break other tests
        for name, value in own.env().items():
            monkeypatch.setenv(name, value)
        own.create_bucket("outage")
        store = LakeStore("s3://outage/lake")

        def stop_after_first(done: int, _total: int) -> None:
            if done == 1:
                own.stop()

        with pytest.raises(ClearlakeError) as err:
            replicate(SourceDatabase(sample_db), store, daily, days, stop_after_first)
    message = str(err.value)
    assert isinstance(err.value, LakeUnavailableError), message
    assert message.startswith("Cannot use the lake at s3://outage/lake on S3: write failed")
    assert "AWS_ENDPOINT_URL_S3" in message and "\n" not in message
    assert "source database" not in message and "CLEARLAKE_SOURCE_URL" not in message


def test_drops_landing_in_s3_are_ingested_once_duplicates_and_cut_files_set_aside(
    s3: S3Server, s3_lake_url: str
) -> None:
    """The drop zone on the lake's object store (s3://…/drops/<dataset>/), as partners
    upload over SFTP (Transfer Family writes S3 objects): same identity, once-only and
    quarantine rules as a local folder, every file kept with a reason."""
    declared = ZONES["delay_annotations"]
    zone = drops.DropZone(
        declared.name, declared.description, declared.schema, 0, unfinished_seconds=0
    )
    assets, sensor = build_drop_zone({zone.name: zone})
    bucket = bucket_of(s3_lake_url)
    drop_zone = DropZoneResource(root=f"s3://{bucket}/drops")
    prefix = f"drops/{zone.name}/"
    good = "flight_date,carrier,flight,cause,confidence\n2013-01-05,UA,1545,weather,0.9\n"

    def put(name: str, text: str) -> None:
        s3.client().put_object(Bucket=bucket, Key=prefix + name, Body=text.encode())

    def text(key: str) -> str:
        return str(s3.client().get_object(Bucket=bucket, Key=key)["Body"].read().decode())

    with dg.instance_for_test() as instance:

        def tick() -> list[dg.RunRequest]:
            context = dg.build_sensor_context(instance=instance, resources={"drop_zone": drop_zone})
            result = sensor(context)
            assert isinstance(result, dg.SensorResult), result
            for add in result.dynamic_partitions_requests or []:
                assert isinstance(add, dg.AddDynamicPartitionsRequest)
                instance.add_dynamic_partitions(add.partitions_def_name, list(add.partition_keys))
            return list(result.run_requests or [])

        put("labels.csv", good)
        put("cut.csv", good + "2013-01-06,DL,7,cr")
        (request,) = tick()
        assert request.tags[FILE_TAG] == "labels.csv"
        assert dg.materialize(
            [assets[zone.name]],
            instance=instance,
            partition_key=request.partition_key,
            run_config=request.run_config,
            tags=request.tags,
            resources={"lake": LakeResource(url=s3_lake_url), "drop_zone": drop_zone},
        ).success
        put("labels-again.csv", good)  # the same bytes under another name
        assert tick() == []
        assert tick() == []  # once only
    store = LakeStore(s3_lake_url)
    assert read(zone.table, store=store)["cause"].tolist() == ["weather"]
    key = request.partition_key
    assert s3.keys(bucket, prefix) == [
        f"{prefix}_duplicates/labels-again.csv",
        f"{prefix}_duplicates/labels-again.csv.reason.txt",
        f"{prefix}_ingested/{key}__labels.csv",
        f"{prefix}_quarantine/cut.csv",
        f"{prefix}_quarantine/cut.csv.reason.txt",
    ]
    assert "ends without a final newline" in text(f"{prefix}_quarantine/cut.csv.reason.txt")
    assert "not ingested again" in text(f"{prefix}_duplicates/labels-again.csv.reason.txt")
    assert text(f"{prefix}_ingested/{key}__labels.csv") == good

"""Live data through a real `dagster-daemon`: days arrive in PostgreSQL and flow into the
lake and the feature table by themselves, across a kill -9 of the daemon.

The daemon loads the deployment's own code location (``-m assets.definitions``, as
workspace.yaml and the Helm chart do) with the project chosen by CLEARLAKE_CONFIG; its
sensors launch runs through the instance's DefaultRunLauncher (a subprocess each). The
test only inserts rows and watches the instance: no sensor is ticked, no run launched here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest
from live_project import LAST_DAY, add_day, create_source, day, write_project

from assets.definitions import defs
from clearlake.lake.store import LakeStore
from clearlake.names import LAKE_DAYS_SENSOR, NEW_DAYS_SENSOR, feature_key, lake_key
from clearlake.settings import LOCAL_INSTANCE_YAML

REPO = Path(__file__).resolve().parents[2]
DAEMON = str(Path(sys.executable).parent / "dagster-daemon")
ORDERS, ZONES, FEATURES = lake_key("orders"), lake_key("zones"), feature_key("order_features")
LIVE = "live: {new_days: running, poll_seconds: 2, flow_seconds: 2, backlog_days: 40}\n"
QUEUE = "run_queue:\n  dequeue_interval_seconds: 1\n"
IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
Counts = dict[str, int]


class Deployment:
    """The environment a deployment gives its daemon, and what its instance recorded."""

    def __init__(self, root: Path, source_url: str) -> None:
        self.root, self.home = root, root / "dagster"
        self.home.mkdir()
        # The local instance's own settings; its run queue looks every second, not five.
        (self.home / "dagster.yaml").write_text(LOCAL_INSTANCE_YAML + QUEUE)
        self.env = {
            "DAGSTER_HOME": str(self.home),
            "CLEARLAKE_HOME": str(root / "home"),
            "CLEARLAKE_CONFIG": str(root / "project" / "clearlake.yaml"),
            "CLEARLAKE_LAKE_URL": str(root / "lake"),
            "CLEARLAKE_SOURCE_URL": source_url,
        }
        self.lake = LakeStore(str(root / "lake"))

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.home))

    def start(self) -> subprocess.Popen[bytes]:
        """``dagster-daemon run`` in its own process group (its code server and runs too)."""
        return subprocess.Popen(
            [DAEMON, "run", "-m", "assets.definitions", "-d", str(REPO)],
            cwd=REPO,
            env={**os.environ, **self.env},
            start_new_session=True,
            stdout=(self.root / "daemon.log").open("ab"),
            stderr=subprocess.STDOUT,
        )

    def materialisations(self, key: dg.AssetKey) -> Counts:
        with self.instance() as instance:
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=key), limit=1000
            ).records
        counts: Counts = {}
        for record in records:
            event = record.event_log_entry.asset_materialization
            assert event is not None and event.partition is not None
            counts[event.partition] = counts.get(event.partition, 0) + 1
        return dict(sorted(counts.items()))

    def content_hash(self, n: int) -> str:
        with self.instance() as instance:
            (record,) = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=ORDERS, asset_partitions=[str(day(n))]), limit=1
            ).records
        event = record.event_log_entry.asset_materialization
        assert event is not None
        return str(event.metadata["content_hash"].value)

    def statuses(self) -> list[str]:
        with self.instance() as instance:
            return sorted(r.dagster_run.status.value for r in instance.get_run_records())

    def settled(self) -> bool:
        """No run in flight, and both sensors have ticked since the last run ended
        without requesting anything: what the daemon does by itself is done."""
        with self.instance() as instance:
            if instance.get_run_records(dg.RunsFilter(statuses=IN_FLIGHT), limit=1):
                return False
            ended = max((r.end_time or 0.0 for r in instance.get_run_records()), default=0.0)
            quiet = 0
            for state in instance.all_instigator_state():
                if state.name not in (LAKE_DAYS_SENSOR, NEW_DAYS_SENSOR):
                    continue
                ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
                if ticks and ticks[0].timestamp > ended and not ticks[0].run_ids:
                    quiet += ticks[0].status.value == "SKIPPED"
            return quiet == 2


def wait_for(what: str, condition: Callable[[], bool], log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            pytest.fail(f"timed out waiting for {what}; daemon log ends with:\n{tail}")
        time.sleep(0.5)


def stop(daemon: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(daemon.pid, signal.SIGKILL)
    daemon.wait()


def days(*counts: int) -> Counts:
    """Materialisations of days 0, 1, ... as ``{partition: count}``."""
    return {str(day(n)): count for n, count in enumerate(counts)}


def test_days_flow_by_themselves_through_the_daemon_across_a_kill_9(
    tmp_path: Path, postgres_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = time.monotonic()
    create_source(postgres_db)
    project = write_project(tmp_path / "project")
    config = project.path
    text = config.read_text().replace(
        f"last_day: {LAST_DAY}}}", f"last_day: {LAST_DAY}, refresh_days: 2}}"
    )
    config.write_text(text + LIVE)
    live = Deployment(tmp_path, postgres_db)
    for name, value in live.env.items():
        monkeypatch.setenv(name, value)
    for n in range(3):
        add_day(postgres_db, day(n))

    # The deployment's definitions: both sensors running by default at the project's pace.
    loaded = defs()
    assert isinstance(loaded, dg.Definitions)
    for name in (LAKE_DAYS_SENSOR, NEW_DAYS_SENSOR):
        sensor = loaded.resolve_sensor_def(name)
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
        assert sensor.minimum_interval_seconds == 2
    # The snapshot the feature SQL joins is replicated once by hand (no sensor owns it).
    with live.instance() as instance:
        assert (
            loaded.resolve_implicit_global_asset_job_def()
            .execute_in_process(instance=instance, asset_selection=[ZONES])
            .success
        )

    daemon = live.start()
    log = tmp_path / "daemon.log"
    try:
        # 1) The source has days 0..2: replicated, and the feature table follows each day.
        wait_for(
            "days 0..2 in the lake", lambda: live.materialisations(ORDERS) == days(1, 1, 1), log
        )
        wait_for("features 0..2", lambda: live.materialisations(FEATURES) == days(1, 1, 1), log)

        # 2) Day 3 is inserted: it reaches the lake and the features by itself.
        add_day(postgres_db, day(3))
        wait_for("lake day 3", lambda: live.materialisations(ORDERS) == days(1, 1, 1, 1), log)
        wait_for("feature day 3", lambda: live.materialisations(FEATURES) == days(1, 1, 1, 1), log)
        wait_for("the daemon idle", live.settled, log)
    finally:
        stop(daemon)  # kill -9 of the daemon, its code server and any run it launched

    # 3) Day 4 arrives while the daemon is down; restarted, it picks it up.
    assert not any(s in live.statuses() for s in ("STARTED", "NOT_STARTED", "STARTING"))
    add_day(postgres_db, day(4))
    assert live.materialisations(ORDERS) == days(1, 1, 1, 1)
    hash_before = live.content_hash(3)
    daemon = live.start()
    try:
        wait_for("lake day 4", lambda: live.materialisations(ORDERS) == days(1, 1, 1, 1, 1), log)
        wait_for(
            "feature day 4", lambda: live.materialisations(FEATURES) == days(1, 1, 1, 1, 1), log
        )

        # 4) Late rows for day 3 (within refresh_days): day 3 again, once, and nothing else.
        add_day(postgres_db, day(3), orders=1, amount=99.0, first=5)
        wait_for(
            "lake day 3 again", lambda: live.materialisations(ORDERS) == days(1, 1, 1, 2, 1), log
        )
        wait_for(
            "feature day 3 again",
            lambda: live.materialisations(FEATURES) == days(1, 1, 1, 2, 1),
            log,
        )
        wait_for("the daemon idle", live.settled, log)
    finally:
        stop(daemon)

    assert live.content_hash(3) != hash_before
    assert live.materialisations(ORDERS) == days(1, 1, 1, 2, 1)
    assert live.materialisations(FEATURES) == days(1, 1, 1, 2, 1)
    final = live.statuses()
    assert set(final) == {"SUCCESS"}, final
    newest = str(day(4))
    assert max(live.lake.list_partitions("orders")) == newest
    assert max(live.lake.list_partitions("features/order_features")) == newest
    late = pq.read_table(live.lake.partition_file("orders", f"date={day(3)}"))
    assert late.num_rows == 6  # its five orders and the late one
    print(f"daemon flow took {time.monotonic() - started:.1f} s")

"""The drop zone through a real `dagster-daemon`: kill -9 mid-run, restart, nothing lost,
nothing twice, no run left STARTED."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest

from clearlake.lake.reader import read
from clearlake.lake.store import LakeStore

HERE = Path(__file__).resolve().parent
DAEMON = str(Path(sys.executable).parent / "dagster-daemon")
GOOD = "flight_date,carrier,flight,cause,confidence\n2013-01-05,UA,1545,weather,0.9\n"
OTHER = "flight_date,carrier,flight,cause,confidence\n2013-01-06,AA,11,crew,0.5\n"
LATE = "flight_date,carrier,flight,cause,confidence\n2013-01-07,DL,7,security,0.25\n"


def statuses(home: Path) -> list[str]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return sorted(r.dagster_run.status.value for r in instance.get_run_records())


def wait_for(what: str, condition: Callable[[], bool], seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.5)


def start_daemon(root: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [DAEMON, "run", "-f", str(HERE / "drops_location.py")],
        cwd=HERE.parent.parent,
        env=env,
        start_new_session=True,
        stdout=(root / "daemon.log").open("ab"),
        stderr=subprocess.STDOUT,
    )


def stop(daemon: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(daemon.pid, signal.SIGKILL)
    daemon.wait()


def test_kill_9_of_the_daemon_mid_run_then_restart(tmp_path: Path) -> None:
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    assert statuses(home) == []  # storage created here, not concurrently with the daemon
    folder = tmp_path / "drops" / "delay_annotations"
    folder.mkdir(parents=True)
    env = {**os.environ, "DAGSTER_HOME": str(home), "DROPS_TEST_ROOT": str(tmp_path)}
    (folder / "a.csv").write_text(GOOD)
    shutil.copy2(folder / "a.csv", folder / "b.csv")  # cp -p
    (folder / "c.csv").write_text(OTHER)
    (folder / "late.csv.part").write_text(LATE[:30])  # still being written
    (tmp_path / "pause").touch()  # every ingestion run pauses before it writes

    daemon = start_daemon(tmp_path, env)
    try:
        wait_for("two runs paused mid-run", lambda: statuses(home).count("STARTED") == 2)
    finally:
        stop(daemon)  # kill -9 of the daemon, its code server and the runs it launched
    assert statuses(home).count("STARTED") == 2  # ghosts, until someone notices
    assert sorted(p.name for p in folder.iterdir()) == ["a.csv", "b.csv", "c.csv", "late.csv.part"]

    (tmp_path / "pause").unlink()
    daemon = start_daemon(tmp_path, env)
    try:
        lake = LakeStore(str(tmp_path / "lake"))
        wait_for("a and c ingested", lambda: len(list((folder / "_ingested").glob("*"))) == 2)
        with (folder / "late.csv.part").open("a") as handle:
            handle.write(LATE[30:])
        (folder / "late.csv.part").rename(folder / "late.csv")
        wait_for("late.csv ingested", lambda: len(list((folder / "_ingested").glob("*"))) == 3)
        wait_for("b recorded as a duplicate", lambda: (folder / "_duplicates" / "b.csv").exists())
        wait_for("three runs succeeded", lambda: statuses(home).count("SUCCESS") == 3)
    finally:
        stop(daemon)
    causes = sorted(read("drops/delay_annotations", store=lake)["cause"])
    assert causes == ["crew", "security", "weather"]  # nothing lost, nothing twice
    assert [p.name for p in folder.iterdir() if p.is_file()] == []
    final = statuses(home)
    assert "STARTED" not in final and final.count("SUCCESS") == 3, final
    assert final.count("FAILURE") == 2, final  # the two killed runs, marked failed

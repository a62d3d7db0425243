"""Stopping the loop at any moment loses no queued commit and evaluates none twice.

A real process runs the loop (as ``clearlake demo`` does) over three new commits of a real
repository; it gets SIGTERM while the second one is being evaluated, must exit promptly,
and a restart must evaluate exactly the two it had not finished.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from evaluation_env import SHOP_BASE_RATE, SHOP_REPO, shop_environment
from flights_example.demo_repos import SampleCommit, add_commit

from clearlake.demo import loop
from clearlake.names import COMMIT_SENSOR

pytestmark = pytest.mark.slow
HERE = Path(__file__).parent

SLOW_RATE = """import time
import numpy as np

class Model:
    def fit(self, train):
        time.sleep({sleep})
        self.rate = float(train['returned'].mean()) + {shift}
    def predict(self, frame):
        return np.full(len(frame), self.rate)
"""


def slow(message: str, shift: float) -> SampleCommit:
    return SampleCommit(message, {"model.py": SLOW_RATE.format(sleep=3, shift=shift)})


def finished_runs(instance: dg.DagsterInstance, key: str) -> list[dg.DagsterRun]:
    runs = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": key}))
    return [r for r in runs if r.status != dg.DagsterRunStatus.CANCELED]


def test_sigterm_mid_batch_then_restart(tmp_path: Path) -> None:
    with shop_environment(tmp_path, [SHOP_BASE_RATE]) as shop:
        repo = shop.home / SHOP_REPO
        shas = [
            add_commit(repo, slow(f"Shift {i}", 0.001 * i), timestamp=1_714_600_000 + 60 * i)
            for i in range(1, 4)
        ]
        keys = [f"{SHOP_REPO}@{sha[:7]}" for sha in shas]
        cursor_file = Path(shop.instance.root_directory) / "clearlake-in-process"
        cursor_before = (cursor_file / f"{COMMIT_SENSOR}.cursor").read_text()
        process = subprocess.Popen(
            [sys.executable, str(HERE / "loop_process.py")],
            env={**os.environ, "PYTHONPATH": str(HERE)},
            stdout=subprocess.PIPE,
            stderr=(tmp_path / "loop.log").open("w"),
            text=True,
            start_new_session=True,
        )
        assert process.stdout is not None
        seen = []
        for line in process.stdout:
            seen.append(line.strip())
            if line.startswith(f"evaluating {keys[1]}"):
                time.sleep(1.5)  # inside the run: the candidate is fitting
                sent = time.monotonic()
                process.send_signal(signal.SIGTERM)
                break
        else:
            pytest.fail(f"the loop never reached {keys[1]}: {seen}")
        rest, _ = process.communicate(timeout=30)
        assert time.monotonic() - sent < 10  # promptly, not after the batch
        assert process.returncode == 130, seen + rest.splitlines()
        assert f"stopped while evaluating {keys[1]}: it runs again on the next start" in rest
        assert "stopped" in rest.splitlines()
        # Nothing was lost: the cursor did not move past the unfinished batch.
        assert (cursor_file / f"{COMMIT_SENSOR}.cursor").read_text() == cursor_before
        assert len(finished_runs(shop.instance, keys[0])) == 1
        runs_of_second = shop.instance.get_runs(dg.RunsFilter(tags={"dagster/partition": keys[1]}))
        assert [r.status for r in runs_of_second] == [dg.DagsterRunStatus.CANCELED]
        assert finished_runs(shop.instance, keys[2]) == []

        resumed = loop.run_until_quiet(shop.definitions, shop.instance, lambda _: None)
        assert [e.key for e in resumed] == keys[1:]
        for key in [shop.keys[0], *keys]:
            assert len(finished_runs(shop.instance, key)) == 1, key  # none evaluated twice
        assert loop.run_until_quiet(shop.definitions, shop.instance, lambda _: None) == []

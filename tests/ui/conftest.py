"""Fixture of the UI test: reports materialised, the UI and a reports server running."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import httpx
import pytest
from ui_harness import (
    ARTIFACTS,
    CANDIDATE,
    CHROMIUM,
    DAY,
    REPORT_TESTS,
    TASK,
    UiEnv,
    free_port,
    materialize,
    start,
    stop,
    wait_for,
)

from clearlake.lake.store import LakeStore
from clearlake.settings import PROJECT_ROOT


def leaderboard(path: Path) -> None:
    """What the task's leaderboard asset writes (the evaluation is not part of this test)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot([1, 2, 3], [12.0, 11.2, 10.4], marker="o")
    ax.set_title("mae over commits")
    fig.savefig(path)
    plt.close(fig)


@pytest.fixture(scope="module")
def ui_env(
    tmp_path_factory: pytest.TempPathFactory, sample_lake: LakeStore, sample_db: str
) -> Iterator[UiEnv]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium: run `make browser`.")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    home = tmp_path_factory.mktemp("ui-home")
    shutil.copytree(sample_lake.root, home / "lake")
    (home / "dagster").mkdir()
    (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    reports_port, ui_port = free_port(), free_port()
    reports_url = f"http://127.0.0.1:{reports_port}/reports"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLEARLAKE_HOME", str(home))
        patch.setenv("CLEARLAKE_LAKE_URL", (home / "lake").as_uri())
        patch.setenv("CLEARLAKE_SOURCE_URL", sample_db)
        patch.setenv("CLEARLAKE_PUBLIC_URL", reports_url.removesuffix("/reports"))
        patch.setenv("DAGSTER_HOME", str(home / "dagster"))
        sys.path.insert(0, str(REPORT_TESTS))
        from report_harness import definitions

        from clearlake.names import candidate_partitions_name

        defs = definitions()
        with dg.DagsterInstance.get() as instance:
            instance.add_dynamic_partitions(candidate_partitions_name(TASK), [CANDIDATE])
            materialize(defs, instance, "reports/lake_health", partition=DAY)
            materialize(
                defs,
                instance,
                f"evaluation/{TASK}/candidate_predictions",
                f"evaluation/{TASK}/candidate_comparison",
                f"reports/{TASK}/candidate_report",
                partition=CANDIDATE,
            )
            leaderboard(home / "reports" / "leaderboards" / f"{TASK}.png")
            materialize(defs, instance, "reports/report_gallery", partition=None)
        reports_log, ui_log = home / "reports-server.log", home / "webserver.log"
        server = start(
            [
                sys.executable,
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                "--directory",
                str(home),
                str(reports_port),
            ],
            reports_log,
        )
        webserver = start(
            [
                str(Path(sys.executable).with_name("dagster-webserver")),
                "-h",
                "127.0.0.1",
                "-p",
                str(ui_port),
                "-w",
                str(PROJECT_ROOT / "workspace.yaml"),
            ],
            ui_log,
        )
        try:
            ui_url = f"http://127.0.0.1:{ui_port}"
            wait_for(f"{reports_url}/index.html", server, reports_log, timeout=30)
            wait_for(f"{ui_url}/server_info", webserver, ui_log, timeout=120)
            nux = httpx.post(f"{ui_url}/graphql", json={"query": "mutation { setNuxSeen }"})
            assert nux.json() == {"data": {"setNuxSeen": True}}
            yield UiEnv(ui_url=ui_url, reports_url=reports_url, home=home)
        finally:
            stop(webserver)
            stop(server)

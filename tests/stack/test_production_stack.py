"""The continuous-evaluation loop on the production-shaped stack, through the daemon.

PostgreSQL storage as the chart renders the instance, the lake on a real S3 server, and the
code-location server, Data API, webserver and daemon as separate processes started from the
rendered chart (tests/stack/stack.py). A commit pushed to a repository served by
``git daemon`` must reach the gallery through the Data API: commit sensor (daemon tick on the
code-location server) → queued run → evaluation (steps as processes) → comparison, whose gate
headline the commit's page shows at once ("report pending") → report page. And a file
uploaded to the S3 drop zone (``s3://<bucket>/drops/<dataset>/``, the chart's default
``CLEARLAKE_DROPS_URL``) must become a lake partition whose rows the Data API serves: drop
sensor (daemon tick) → ingestion run → ``lake/drops/<dataset>`` on S3 → ``/v1/datasets``.
In CI the file lands with the push (the loops run side by side: one stack, little time);
measured, it lands once the evaluation run is over (each loop uncontended).

Set ``CLEARLAKE_STACK_TIMINGS=<file>`` to have both loops' splits written there as JSON
(benchmarks/stack_loop.py does); the test itself asserts no timings.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest
import yaml
from flights_example.demo_repos import (
    SAMPLE_COMMITS,
    SampleCommit,
    add_commit,
    create_sample_repository,
)
from processes import wait_until
from s3_server import S3Server
from stack import REPO, Stack, git, git_daemon, production_stack

from clearlake import names
from clearlake.api.tokens import issue_token
from clearlake.orchestration.lineage import latest
from clearlake.project.load import anchored
from clearlake.reports.gallery import commit_page

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

# --- The example project, its keys and pages: adapt these when the project layout moves. -------
PROJECT_DIR = REPO / "examples" / "flights"
IMAGE_PROJECT_DIR = "/opt/clearlake/examples/flights"  # where the image ships it
TASK = "arrival_delay"
REPOSITORY = "flight-delays"
DROP_DATASET = "delay_annotations"
DROPPED_NAME = "annotations.csv"
DROPPED_TEXT = (
    "flight_date,carrier,flight,cause,confidence\n"
    "2013-01-09,UA,1545,stack-test-weather,0.9\n"
    "2013-01-09,AA,1141,stack-test-crew,0.6\n"
)


def project_config(git_url: str) -> dict[str, Any]:
    """The example project with one task, its repository served by git daemon and its suites
    shortened to two weeks (the stack test is about the path, not the statistics). Paths are
    the image's (the chart mounts the file under /etc/clearlake, away from the project)."""
    raw = yaml.safe_load((PROJECT_DIR / "clearlake.yaml").read_text())
    config = anchored(raw, IMAGE_PROJECT_DIR)
    day = dt.date(2013, 1, 1)
    task = config["tasks"][TASK]
    task["suites"] = {
        "train": {"start": day, "end": day + dt.timedelta(days=6), "role": "train"},
        "holdout": {
            "start": day + dt.timedelta(days=7),
            "end": day + dt.timedelta(days=13),
            "role": "test",
        },
    }
    config["tasks"] = {TASK: task}
    (repository,) = [r for r in config["repositories"] if r["name"] == REPOSITORY]
    repository["location"] = f"{git_url}/{REPOSITORY}.git"
    repository["initial_history"] = 1
    config["repositories"] = [repository]
    config["live"] = {"new_days": "stopped"}  # the test replicates what it needs itself
    # One drop dataset. On S3 an object appears whole once its upload completes: no settle
    # window (the default 120 s would only delay the sensor by four ticks).
    config["drops"] = {DROP_DATASET: {**config["drops"][DROP_DATASET], "settle_seconds": 0}}
    return json.loads(json.dumps(config, default=str))  # dates as text, as in a values file


def comparison_key() -> dg.AssetKey:
    return names.comparison_key(TASK)


def candidate_partition(sha: str) -> str:
    return f"{REPOSITORY}@{sha[:7]}"


def report_path(sha: str) -> str:
    """The candidate's report page under the Data API's /reports (the gallery links to it).

    Not the gallery index: before issue 12 nothing ran reports/report_gallery's automation
    on the cluster, and on the stack its eager condition requested no run (daemon: "0 runs")."""
    return f"/reports/candidate_report/{candidate_partition(sha)}/report.html"


# ------------------------------------------------------------------------------------------------


def prepare(env: dict[str, str]) -> None:
    """Lake, features, suites and the baseline commit, in the pods' environment."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("prepare_stack.py"))],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"preparing the stack failed:\n{done.stdout}\n{done.stderr}"
    print(done.stdout)  # the preparation's timings (pytest -s shows them)


STEP_EVENTS = {
    dg.DagsterEventType.STEP_WORKER_STARTING: "starting",
    dg.DagsterEventType.STEP_WORKER_STARTED: "started",
    dg.DagsterEventType.STEP_START: "start",
    dg.DagsterEventType.STEP_SUCCESS: "success",
}


def step_timings(instance: dg.DagsterInstance, run_id: str) -> dict[str, dict[str, float]]:
    """Per step, from the run's event log: ``process`` (worker launched → started: process
    start and imports), ``setup`` (→ step start: definitions, resources, log capture) and
    ``compute`` (→ step success)."""
    seen: dict[str, dict[str, float]] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or entry.step_key is None or event.event_type not in STEP_EVENTS:
            continue
        seen.setdefault(entry.step_key, {}).setdefault(
            STEP_EVENTS[event.event_type], entry.timestamp
        )
    spans = {
        "process": ("starting", "started"),
        "setup": ("started", "start"),
        "compute": ("start", "success"),
    }
    return {
        step.split("__")[-1]: {
            name: round(times[end] - times[begin], 2)
            for name, (begin, end) in spans.items()
            if begin in times and end in times
        }
        for step, times in sorted(seen.items(), key=lambda item: min(item[1].values()))
    }


def loop_timings(
    stack: Stack,
    instance: dg.DagsterInstance,
    sha: str,
    pushed: float,
) -> dict[str, Any]:
    """Wait for the pushed commit's run, its verdict on its commit page and its report page,
    all read through the Data API; return the split."""
    key = candidate_partition(sha)
    headers = {"Authorization": f"Bearer {stack.api_token}"}
    runs: list[dg.RunRecord] = []

    def run_created() -> bool:
        runs[:] = instance.get_run_records(dg.RunsFilter(tags={"dagster/partition": key}))
        return bool(runs)

    wait_until(f"a run for {key}", run_created, timeout=120, alive=stack.processes)
    verdicts: list[Any] = []

    def verdict_visible() -> bool:
        """The comparison is materialised and its gate headline is on the commit page (the
        page CI links to): "report pending" until the report replaces it."""
        failed = instance.get_run_records(
            dg.RunsFilter(tags={"dagster/partition": key}, statuses=[dg.DagsterRunStatus.FAILURE])
        )
        assert not failed, f"run {failed[0].dagster_run.run_id} for {key} failed"
        record = latest(instance, comparison_key(), key)
        if record is None:
            return False
        url = f"{stack.api_url}/reports/{commit_page(key)}"
        response = httpx.get(url, headers=headers, timeout=10)
        headline = html.escape(str(record.metadata["gate_summary"]))
        if response.status_code == 200 and headline in response.text:
            verdicts[:] = [record, time.time()]
        return bool(verdicts)

    wait_until(f"the verdict of {key}", verdict_visible, timeout=240, alive=stack.processes)
    pages: list[httpx.Response] = []

    def page() -> bool:
        response = httpx.get(f"{stack.api_url}{report_path(sha)}", headers=headers, timeout=10)
        pages[:] = [response]
        return response.status_code == 200

    wait_until(f"the report page of {key}", page, timeout=180, alive=stack.processes)
    report_visible = time.time()

    def run_finished() -> bool:  # the report step's own events come after its page
        runs[:] = instance.get_run_records(dg.RunsFilter(tags={"dagster/partition": key}))
        return all(r.dagster_run.is_finished for r in runs)

    wait_until(f"the run of {key} to finish", run_finished, timeout=60, alive=stack.processes)
    (run,) = runs
    comparison, verdict_visible_at = verdicts
    created = run.create_timestamp.timestamp()
    started = run.start_time or created
    return {
        "commit": key,
        "run_id": run.dagster_run.run_id,
        "run_tags": dict(run.dagster_run.tags),
        "verdict": comparison.metadata.get("overall_verdict"),
        "gate": comparison.metadata.get("gate_summary"),
        "page": pages[0].text,
        "seconds": {
            "tick_wait": round(created - pushed, 3),
            "run_start": round(started - created, 3),
            "steps_to_verdict": round(comparison.timestamp - started, 3),
            "verdict_to_api": round(verdict_visible_at - comparison.timestamp, 3),
            "verdict_total": round(verdict_visible_at - pushed, 3),
            "report_to_gallery": round(report_visible - comparison.timestamp, 3),
            "report_total": round(report_visible - pushed, 3),
        },
        "steps": step_timings(instance, run.dagster_run.run_id),
    }


def drop_file(s3: S3Server, bucket: str) -> float:
    """A partner's upload to the S3 drop zone; when it landed."""
    key = f"drops/{DROP_DATASET}/{DROPPED_NAME}"
    s3.client().put_object(Bucket=bucket, Key=key, Body=DROPPED_TEXT.encode())
    return time.time()


def drop_timings(stack: Stack, instance: dg.DagsterInstance, dropped: float) -> dict[str, Any]:
    """Wait for the dropped file's ingestion run and for its rows through the Data API;
    return the split."""
    key = f"drops/{DROP_DATASET}/{DROPPED_NAME}"
    runs: list[dg.RunRecord] = []

    def run_created() -> bool:
        runs[:] = instance.get_run_records(dg.RunsFilter(job_name=names.DROP_JOB))
        return bool(runs)

    wait_until(f"a run ingesting {key}", run_created, timeout=120, alive=stack.processes)
    (run,) = runs
    partition = run.dagster_run.tags["dagster/partition"]
    ingested: list[Any] = []

    def materialised() -> bool:
        (record,) = instance.get_run_records(dg.RunsFilter(run_ids=[run.dagster_run.run_id]))
        assert record.dagster_run.status != dg.DagsterRunStatus.FAILURE, (
            f"ingestion run {record.dagster_run.run_id} of {key} failed"
        )
        found = latest(instance, names.drop_key(DROP_DATASET), partition)
        ingested[:] = [found, record] if found is not None else []
        return bool(ingested)

    wait_until(f"the ingestion of {key}", materialised, timeout=180, alive=stack.processes)
    url = f"{stack.api_url}/v1/datasets/drops.{DROP_DATASET}/data"
    headers = {"Authorization": f"Bearer {stack.api_token}"}
    served: list[str] = []

    def visible() -> bool:
        response = httpx.get(url, params={"format": "csv"}, headers=headers, timeout=10)
        served[:] = [response.text]
        return response.status_code == 200 and "stack-test-crew" in response.text

    wait_until(f"the rows of {key} through the Data API", visible, timeout=60, alive=[])
    visible_at = time.time()
    materialisation, record = ingested
    created = record.create_timestamp.timestamp()
    started = record.start_time or created
    return {
        "file": key,
        "partition": partition,
        "run_id": record.dagster_run.run_id,
        "run_tags": dict(record.dagster_run.tags),
        "served": served[0],
        "seconds": {
            "tick_wait": round(created - dropped, 3),
            "run_start": round(started - created, 3),
            "steps_to_lake": round(materialisation.timestamp - started, 3),
            "lake_to_api": round(visible_at - materialisation.timestamp, 3),
            "lake_total": round(visible_at - dropped, 3),
        },
        "steps": step_timings(instance, record.dagster_run.run_id),
    }


def test_pushed_commit_reaches_the_gallery_through_the_daemon(
    tmp_path: Path,
    s3: S3Server,
    postgres_db: str,
    sample_db: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bucket = f"stack-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(bucket)
    served = tmp_path / "git"
    served.mkdir()
    work = tmp_path / "work"
    tokens_file = tmp_path / "tokens.yaml"
    token = issue_token(tokens_file, principal="stew", roles=["steward"])

    with git_daemon(served) as git_url:
        # The team's repository: the baseline commit is there before Clearlake is installed.
        create_sample_repository(work, SAMPLE_COMMITS[:1])
        bare = served / f"{REPOSITORY}.git"
        subprocess.run(["git", "clone", "--bare", "-q", str(work), str(bare)], check=True)
        git(work, "remote", "add", "origin", str(bare))
        with production_stack(
            tmp_path / "stack",
            s3=s3,
            bucket=bucket,
            postgres_url=postgres_db,
            source_url=sample_db,
            config=project_config(git_url),
            api_token_file_text=tokens_file.read_text(),
            api_token=token,
            before_servers=prepare,
        ) as stack:
            monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "stack" / "dagster_home"))
            monkeypatch.setenv("DAGSTER_PG_PASSWORD", "")
            instance = dg.DagsterInstance.get()
            text = SAMPLE_COMMITS[1].files["delay_model.py"]
            sha = add_commit(work, SampleCommit("Stack test revision", {"delay_model.py": text}))
            git(work, "push", "-q", "origin", "HEAD:main")
            pushed = time.time()
            # A partner's file lands in the S3 drop zone: in CI at the push, both loops side by
            # side (time); when the loops are measured, once the evaluation run is over.
            measured = bool(os.environ.get("CLEARLAKE_STACK_TIMINGS"))
            landed = [] if measured else [drop_file(s3, bucket)]
            timings = loop_timings(stack, instance, sha, pushed)
            if measured:
                landed.append(drop_file(s3, bucket))
            drop = drop_timings(stack, instance, landed[0])
            stack.check_alive()
    assert stack.env["CLEARLAKE_DROPS_URL"] == f"s3://{bucket}/drops"  # the chart's default

    # Launched by the daemon from the commit sensor, not by anything in this process.
    assert timings["run_tags"]["dagster/sensor_name"] == names.COMMIT_SENSOR
    assert timings["run_tags"]["clearlake/commit"] == sha
    assert timings["verdict"] is not None and timings["gate"]
    assert sha[:7] in timings["page"]
    # Everything the run wrote went to the S3 lake.
    keys = s3.keys(bucket, "lake/evaluation/")
    assert any(candidate_partition(sha) in k for k in keys), keys
    # The file was ingested by the daemon's drop sensor, its rows written to the S3 lake and
    # served by the Data API, the file itself kept under _ingested/.
    assert drop["run_tags"]["dagster/sensor_name"] == names.DROP_SENSOR
    assert drop["served"].count("stack-test-") == 2, drop["served"]
    assert s3.keys(bucket, f"lake/drops/{DROP_DATASET}/") == [
        f"lake/drops/{DROP_DATASET}/dropped={drop['partition']}/data.parquet"
    ]
    assert s3.keys(bucket, f"drops/{DROP_DATASET}/") == [
        f"drops/{DROP_DATASET}/_ingested/{drop['partition']}__{DROPPED_NAME}"
    ]
    if os.environ.get("CLEARLAKE_STACK_TIMINGS"):
        record = {k: v for k, v in timings.items() if k not in ("page", "run_tags")}
        record["drop"] = {k: v for k, v in drop.items() if k not in ("served", "run_tags")}
        Path(os.environ["CLEARLAKE_STACK_TIMINGS"]).write_text(json.dumps(record, indent=2))

"""``clearlake submit`` against a real dagster-webserver: GraphQL adds the partition and
launches the run, which evaluates the commit in its own process."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import httpx
import pytest
from evaluation_env import SUBMITTED, Environment, stochastic
from flights_example.demo_repos import SAMPLE_COMMITS, add_commit
from typer.testing import CliRunner

from clearlake.cli.main import app
from clearlake.demo import loop
from clearlake.errors import ClearlakeError
from clearlake.evaluation.candidates import candidate_parameters
from clearlake.evaluation.submit import SubmitError, Submitted, registered_with, wait_for_outcome
from clearlake.evaluation.submit import submit as submit_commit
from clearlake.names import (
    COMMIT_SENSOR,
    candidate_partitions_name,
    comparison_key,
    evaluation_job,
    scores_key,
)
from clearlake.orchestration import runs

TASK = "arrival_delay"

pytestmark = pytest.mark.slow
HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def webserver(environment: Environment) -> Iterator[str]:
    (environment.home / "dagster" / "dagster.yaml").write_text(
        "run_coordinator:\n  module: dagster._core.run_coordinator\n"
        "  class: DefaultRunCoordinator\n"
    )
    port = free_port()
    log = (environment.home / "webserver.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagster_webserver",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-f",
            str(HERE / "server_definitions.py"),
            "-d",
            str(HERE),
        ],
        env={**os.environ, **environment.variables},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            output = (environment.home / "webserver.log").read_text()[-2000:]
            pytest.fail(f"dagster-webserver did not start: {output}")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def submit(url: str, **fields: str) -> Submitted:
    """Submit on the regression task's job and partitions (what the CLI derives)."""
    return submit_commit(
        url,
        job=evaluation_job(TASK),
        partitions=candidate_partitions_name(TASK),
        sensor=COMMIT_SENSOR,
        **fields,  # type: ignore[arg-type]
    )


def wait_for(instance: dg.DagsterInstance, run_id: str, timeout: float = 180) -> dg.DagsterRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = instance.get_run_by_id(run_id)
        if run is not None and run.is_finished:
            return run
        time.sleep(1)
    pytest.fail(f"run {run_id} did not finish in {timeout} s")


def test_submit_evaluates_a_commit_through_graphql(
    environment: Environment, webserver: str
) -> None:
    sha = add_commit(environment.repos[SUBMITTED], SAMPLE_COMMITS[0])
    result = CliRunner().invoke(
        app, ["submit", "--repo", SUBMITTED, "--commit", sha, "--url", webserver]
    )
    assert result.exit_code == 0, result.output
    key = f"{SUBMITTED}@{sha[:7]}"
    assert f"{key} (task {TASK}): launched (run " in result.output
    run_id = result.output.split("(run ")[1].split(")")[0]
    run = wait_for(environment.instance, run_id)
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert run.tags["dagster/partition"] == key
    assert environment.instance.has_dynamic_partition(candidate_partitions_name(TASK), key)
    scores = environment.store.partition_file("/".join(scores_key(TASK).path), f"key={key}")
    assert environment.store.exists(scores)

    again = submit(webserver, repo=SUBMITTED, commit=sha)
    assert (again.key, again.run_id, again.new) == (key, run_id, False)
    # The sensor sees the commit later and does not evaluate it a second time.
    requests = [
        r
        for r in loop.tick(environment.definitions, environment.instance)
        if r.partition_key == key
    ]
    assert (
        loop.evaluate(environment.definitions, environment.instance, requests, lambda _: None) == []
    )


def test_registered_combinations_holding_a_stage_commit(
    environment: Environment, webserver: str
) -> None:
    """What ``submit --wait`` of a stage commit waits for: the combinations the sensor
    registered with it, as the webserver lists the task's partitions."""
    keys = [f"late-features@{sha}+{SUBMITTED}@5d6e7f8" for sha in ("1a2b3c4", "9f8e7d6")]
    partitions = candidate_partitions_name(TASK)
    environment.instance.add_dynamic_partitions(partitions, keys)
    comparison = list(comparison_key(TASK).path)
    try:
        found = registered_with(
            webserver, comparison=comparison, repo="late-features", sha="1a2b3c4" + "0" * 33
        )
        assert found == keys[:1]
        assert (
            registered_with(webserver, comparison=comparison, repo=SUBMITTED, sha="5d6e7f8")[-2:]
            == keys
        )
        assert registered_with(webserver, comparison=comparison, repo="other", sha="1a2b3c4") == []
        with pytest.raises(SubmitError, match="no asset nowhere/candidate_comparison"):
            registered_with(
                webserver, comparison=["nowhere", "candidate_comparison"], repo="r", sha="1a2b3c4"
            )
    finally:
        for key in keys:
            environment.instance.delete_dynamic_partition(partitions, key)


def test_submit_errors_are_clear(webserver: str) -> None:
    with pytest.raises(ClearlakeError, match="is not a commit sha"):
        submit(webserver, repo=SUBMITTED, commit="xyz")
    with pytest.raises(SubmitError, match="is the Dagster webserver running"):
        submit(f"http://127.0.0.1:{free_port()}", repo=SUBMITTED, commit="a" * 40)


def test_experiment_grid_launches_and_completes_through_graphql(
    environment: Environment, webserver: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`clearlake experiment run` against the live webserver: one run per combination."""
    sha = add_commit(environment.repos[SUBMITTED], SAMPLE_COMMITS[1])
    monkeypatch.setenv("CLEARLAKE_DAGSTER_URL", webserver)
    too_big = CliRunner().invoke(
        app, ["experiment", "run", "--repo", SUBMITTED, "--ref", "main", "--profile", "small",
              "--cpu", "3"],
    )  # fmt: skip
    assert too_big.exit_code != 0
    assert "Profile 'small' does not allow cpu 3 > 1" in str(too_big.exception)
    result = CliRunner().invoke(
        app, ["experiment", "run", "--repo", SUBMITTED, "--ref", "main",
              "--param", "max_iter=20,30", "--profile", "small"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 run(s) launched" in result.output
    launched = environment.instance.get_runs(
        filters=dg.RunsFilter(tags={"clearlake/kind": "experiment"})
    )
    run_ids = [run.run_id for run in launched]
    assert len(run_ids) == 2
    keys = set()
    for run_id in run_ids:
        run = wait_for(environment.instance, run_id)
        assert run.status == dg.DagsterRunStatus.SUCCESS
        key = run.tags["dagster/partition"]
        keys.add(key)
        assert key.startswith(f"{SUBMITTED}@{sha[:7]}~")
        assert run.tags["clearlake/kind"] == "experiment"
        # The profile sizes step pods on the cluster only (tests/experiments/test_k8s_jobs.py);
        # the run pod only orchestrates: small and fixed whatever the profile.
        assert run.tags["clearlake/profile"] == "small"
        assert '"memory": "2Gi"' not in run.tags["dagster-k8s/config"]
        scores = environment.store.partition_file("/".join(scores_key(TASK).path), f"key={key}")
        assert environment.store.exists(scores)
    parameters = {str(candidate_parameters(k, store=environment.store)["max_iter"]) for k in keys}
    assert parameters == {"20", "30"}


def test_submit_wait_exit_codes(environment: Environment, webserver: str) -> None:
    """--wait: 0 passed (here: an allowed 'no baseline'), 1 blocked, 2 error or timeout."""
    repo = environment.repos[SUBMITTED]
    if not (repo / "delay_model.py").exists():
        add_commit(repo, SAMPLE_COMMITS[0])
    roots = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--max-parents=0", "HEAD"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    first = roots.stdout.split()[0]
    runner = CliRunner()
    base = ["submit", "--repo", SUBMITTED, "--url", webserver, "--wait", "--timeout", "300"]
    passed = runner.invoke(app, [*base, "--commit", first])
    assert passed.exit_code == 0, passed.output
    assert "gate " in passed.output and "report: " in passed.output

    worse = add_commit(
        environment.repos[SUBMITTED],
        stochastic("An hour late", offset=60.0, module="delay_model", cls="DelayModel"),
    )
    blocked = runner.invoke(app, [*base, "--commit", worse])
    assert blocked.exit_code == 1, blocked.output
    assert "gate blocked vs submitted-model@" in blocked.output
    assert re.search(r"mae (overall|for \S+) \+", blocked.output), blocked.output  # the worst

    # A later run of the same candidate that stores no gate outcome (as the follow-up
    # report run of a blocked commit does) must not change the answer.
    key = f"{SUBMITTED}@{worse[:7]}"
    later_run = runs.materialize(
        environment.definitions, environment.instance, [scores_key(TASK)], partition_key=key
    )
    assert later_run.success
    again = runner.invoke(app, [*base, "--commit", worse])
    assert again.exit_code == 1, again.output
    assert "already evaluated or running" in again.output
    assert "gate blocked vs submitted-model@" in again.output
    answered = wait_for_outcome(
        webserver,
        run_id=later_run.run_id,
        key=key,
        comparison=list(comparison_key(TASK).path),
        timeout_seconds=60,
    )
    assert answered.status == "blocked" and answered.candidate == key

    # A commit the repository does not have: refused before anything is registered.
    unknown = runner.invoke(app, [*base, "--commit", "0123456789abcdef"])
    assert unknown.exit_code != 0
    message = str(unknown.exception)
    assert message.startswith(f"Repository {SUBMITTED!r} has no commit '0123456789abcdef'")
    assert "\n" not in message
    assert "launched" not in unknown.output
    partitions = environment.instance.get_dynamic_partitions(candidate_partitions_name(TASK))
    assert f"{SUBMITTED}@0123456" not in partitions
    listed = runner.invoke(app, ["candidates", "--repo", SUBMITTED])
    assert listed.exit_code == 0, listed.output
    assert f"{SUBMITTED}@{worse[:7]}" in listed.output and "0123456" not in listed.output

    later = add_commit(
        environment.repos[SUBMITTED],
        stochastic("Again", offset=1.0, module="delay_model", cls="DelayModel"),
    )
    timed_out = runner.invoke(app, [*base[:-1], "0.5", "--commit", later])
    assert timed_out.exit_code == 2, timed_out.output
    assert "no gate outcome for submitted-model@" in timed_out.output
    assert "raise --timeout" in timed_out.output

"""Baseline policies on a real repository, and the comparison's wait for its baseline."""

import uuid
from pathlib import Path
from typing import TypedDict

import dagster as dg
import pytest
from flights_example.demo_repos import SampleCommit, add_commit, create_sample_repository

from clearlake.evaluation import gate
from clearlake.evaluation.baseline import (
    await_baseline,
    baseline_commit,
    baseline_status,
    resolve_baseline,
)
from clearlake.evaluation.candidates import CandidateKey, ResolvedCandidate
from clearlake.evaluation.git import GitRepository
from clearlake.names import comparison_key, evaluation_job
from clearlake.project.config import BaselineConfig, RepositoryConfig
from clearlake.settings import load_settings

KEY = "flight-delays@3baebfc"


class Policy(TypedDict):
    """The keyword arguments of ``baseline_commit`` that name the policy."""

    policy: str
    branch: str | None
    champion: str | None


@pytest.fixture
def git(tmp_path: Path) -> tuple[GitRepository, list[str]]:
    path = tmp_path / "repo"
    shas = create_sample_repository(path)
    config = RepositoryConfig(name="flight-delays", location=str(path), entrypoint="m:C")
    return GitRepository(
        config, load_settings({"CLEARLAKE_HOME": str(tmp_path)}), location=str(path)
    ), shas


COMPARISON = comparison_key("arrival_delay")


def test_parent_policy(git: tuple[GitRepository, list[str]]) -> None:
    repo, shas = git
    kwargs: Policy = {"policy": "parent", "branch": None, "champion": None}
    assert baseline_commit(repo, shas[0], **kwargs) is None  # first commit
    assert baseline_commit(repo, shas[2], **kwargs) == shas[1]


def test_branch_policy(git: tuple[GitRepository, list[str]]) -> None:
    repo, shas = git
    feature = add_commit(Path(repo.location), SampleCommit("Try", {"t.txt": "1"}), branch="feature")
    kwargs: Policy = {"policy": "branch", "branch": "main", "champion": None}
    assert baseline_commit(repo, feature, **kwargs) == shas[2]  # head of main
    assert baseline_commit(repo, shas[2], **kwargs) == shas[1]  # the head itself: its parent


def test_champion_policy(git: tuple[GitRepository, list[str]]) -> None:
    repo, shas = git
    kwargs: Policy = {"policy": "champion", "branch": None, "champion": shas[1][:7]}
    assert baseline_commit(repo, shas[2], **kwargs) == shas[1]
    assert baseline_commit(repo, shas[1], **kwargs) is None  # the champion itself


def add_run(instance: dg.DagsterInstance, status: dg.DagsterRunStatus) -> None:
    instance.add_run(
        dg.DagsterRun(
            job_name=evaluation_job("arrival_delay"),
            run_id=str(uuid.uuid4()),
            tags={"dagster/partition": KEY},
            status=status,
        )
    )


def test_baseline_status_and_wait() -> None:
    instance = dg.DagsterInstance.ephemeral()
    never = baseline_status(instance, KEY, comparison=COMPARISON)
    assert never is not None and not never.ready
    assert never.short == "was never evaluated"
    assert "clearlake submit --repo flight-delays --commit 3baebfc" in never.reason
    add_run(instance, dg.DagsterRunStatus.STARTED)
    assert baseline_status(instance, KEY, comparison=COMPARISON) is None  # still running: wait
    waited = await_baseline(
        instance, KEY, comparison=COMPARISON, timeout_seconds=0.3, poll_seconds=0.1
    )
    assert not waited.ready and "still being evaluated after 0.3 s" in waited.reason
    record(instance, gate.PASSED)
    assert await_baseline(instance, KEY, comparison=COMPARISON, timeout_seconds=5).ready


def record(
    instance: dg.DagsterInstance,
    status: str,
    baseline: str | None = "r@1234567",
    *,
    key: str = KEY,
) -> None:
    """A comparison of ``key`` whose stored gate outcome is ``status``."""
    outcome = gate.GateOutcome(
        status=status, candidate=key, task="arrival_delay", baseline=baseline, baseline_note=""
    )
    metadata = {"gate_record": dg.MetadataValue.json(outcome.to_json())}
    instance.report_runless_asset_event(
        dg.AssetMaterialization(COMPARISON, partition=key, metadata=metadata)
    )


@pytest.mark.parametrize(
    ("policy", "role"),
    [
        ({"policy": "champion", "commit": "CHAMPION"}, "champion"),
        ({"policy": "branch", "branch": "main"}, "parent"),  # main's head is its parent
    ],
)
def test_no_policy_takes_a_blocked_baseline(
    git: tuple[GitRepository, list[str]], policy: dict[str, str], role: str
) -> None:
    """Champion and branch head blocked: the nearest ancestor whose gate passed is used."""
    repo, shas = git
    feature = add_commit(Path(repo.location), SampleCommit("Try", {"t.txt": "1"}), branch="feature")
    policy = {k: shas[2] if v == "CHAMPION" else v for k, v in policy.items()}
    config = RepositoryConfig(
        name="flight-delays",
        location=repo.location,
        entrypoint="m:C",
        baseline=BaselineConfig.model_validate(policy),
    )
    candidate = ResolvedCandidate(
        CandidateKey.of("flight-delays", feature), config, repo, feature, {}
    )
    keys = [str(CandidateKey.of("flight-delays", sha)) for sha in shas]
    instance = dg.DagsterInstance.ephemeral()
    record(instance, gate.PASSED, key=keys[0])
    record(instance, gate.BLOCKED, key=keys[1])  # blocked: skipped as well
    record(instance, gate.BLOCKED, key=keys[2])
    found = resolve_baseline(instance, candidate, comparison=COMPARISON, timeout_seconds=1)
    assert found.key == keys[0]
    assert found.via == f"nearest passing ancestor; {role} {shas[2][:7]} was blocked"
    record(instance, gate.PASSED, key=keys[2])  # its latest outcome passed: usable again
    again = resolve_baseline(instance, candidate, comparison=COMPARISON, timeout_seconds=1)
    assert (again.key, again.via) == (keys[2], "")


def test_a_blocked_commit_is_never_a_baseline() -> None:
    instance = dg.DagsterInstance.ephemeral()
    add_run(instance, dg.DagsterRunStatus.FAILURE)  # the blocking check fails its run
    record(instance, gate.BLOCKED)
    status = baseline_status(instance, KEY, comparison=COMPARISON)
    assert status is not None and not status.ready and status.short == "was blocked"
    assert status.reason.startswith(f"{KEY} was blocked (blocked")
    record(instance, gate.BLOCKED, baseline=None)  # blocked only for lacking a baseline
    status = baseline_status(instance, KEY, comparison=COMPARISON)
    assert status is not None and status.ready


def test_failed_baseline_is_reported() -> None:
    instance = dg.DagsterInstance.ephemeral()
    add_run(instance, dg.DagsterRunStatus.FAILURE)
    status = baseline_status(instance, KEY, comparison=COMPARISON)
    assert status is not None and not status.ready
    assert status.reason == f"the evaluation of {KEY} failed" and status.short == "failed"

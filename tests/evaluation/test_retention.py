"""``evaluation.retention``: old candidates leave Dagster's partition list, the newest, the
referenced and the best stay, and every result stays readable (index, ``candidates``)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from typer.testing import CliRunner

from assets.evaluation.retention import retention_job
from clearlake.cli.candidates import listed_candidates
from clearlake.cli.main import app
from clearlake.errors import ClearlakeError
from clearlake.evaluation import candidate_index, gate, retention
from clearlake.lake.store import LakeStore
from clearlake.names import candidate_partitions_name
from clearlake.orchestration.resources import LakeResource
from clearlake.project.config import RetentionConfig
from clearlake.project.load import current_project
from clearlake.settings import load_settings
from clearlake.testing import history

TASK, REPO, COUNT = "arrival_delay", "flight-delays", 30


def test_old_candidates_leave_the_partition_list_not_the_views(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLEARLAKE_HOME", str(tmp_path / "home"))
    settings = load_settings()
    project = current_project(settings)
    store = LakeStore(settings.lake_url)
    (tmp_path / "dagster").mkdir()
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "dagster"))
    metric = project.task(TASK).primary
    made = history.synthesise_candidates(
        instance, store, task=TASK, repo=REPO, count=COUNT, metric=metric, records=False
    )
    name = candidate_partitions_name(TASK)
    policy = RetentionConfig(keep_last=10)
    plan = retention.prune_task(
        project,
        store,
        TASK,
        registered=lambda: instance.get_dynamic_partitions(name),
        delete=lambda key: pytest.fail(f"a dry run deleted {key}"),
        policy=policy,
        dry_run=True,
    )
    assert plan is not None
    newest = made.keys[-10:]  # one commit an hour: the last ten are the newest
    assert not set(plan.prune) & set(newest)
    oldest_kept = gate.load_outcome(store, TASK, newest[0])
    assert oldest_kept is not None and oldest_kept.baseline in plan.protected  # its baseline
    index = candidate_index.read_index(store, TASK)
    assert index is not None
    best = retention.best_candidate(index, metric=metric, lower_is_better=True)
    assert best is not None and best not in plan.prune
    assert len(plan.prune) + plan.kept == COUNT and len(plan.prune) >= COUNT - 10 - 2
    assert len(instance.get_dynamic_partitions(name)) == COUNT  # the dry run changed nothing

    for run in range(2):  # the scheduled job, twice: the second has nothing left to prune
        result = retention_job(project, policy).execute_in_process(
            instance=instance, resources={"lake": LakeResource(url=settings.lake_url)}
        )
        assert result.success
        registered = set(instance.get_dynamic_partitions(name))
        assert registered == set(made.keys) - set(plan.prune), run
    total, page = listed_candidates(  # the views still show every candidate
        store=store,
        instance=instance,
        project=project,
        tasks=[TASK],
        repo=None,
        limit=COUNT,
        offset=0,
        settings=settings,
    )
    assert total == COUNT and {r["candidate"] for r in page} == set(made.keys)
    pruned = next(r for r in page if r["candidate"] == plan.prune[0])
    assert pruned["gate"] == gate.PASSED and pruned["committed"]


def test_prune_needs_a_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARLAKE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home" / "dagster"))
    outcome = CliRunner().invoke(app, ["candidates", "prune", "--dry-run"])
    assert isinstance(outcome.exception, ClearlakeError)  # shown as one line by main()
    assert "No retention policy: add `evaluation: {retention:" in str(outcome.exception)


def test_a_policy_needs_a_bound() -> None:
    with pytest.raises(ValueError, match="needs `keep_last`, `keep_days` or both"):
        RetentionConfig()
    keep = RetentionConfig(keep_days=30)
    assert keep.keep_last is None

"""The views of a pipeline through real runs (pipe's two-stage environment: the transform
served over ``git daemon``, real sensor ticks, real Dagster runs): an upstream commit that
degrades the model is blocked, and ``why``, the gate record, the compare view, the
leaderboard, ``candidates`` and ``submit``'s planning all name the stage that changed."""

from __future__ import annotations

import json
from pathlib import Path

from evaluation_env import SHOP_TASK
from pipeline_env import DEGRADED_FEATURES, FEATURES_REPO, MODEL_REPO, pipeline_environment
from typer.testing import CliRunner

from clearlake import names
from clearlake.cli.main import app
from clearlake.evaluation import gate
from clearlake.evaluation.compare import ResultPaths, StageDiff, compare_candidates
from clearlake.evaluation.submit import reference_combination, with_stage
from clearlake.orchestration import lineage, runs
from clearlake.settings import load_settings


def test_an_upstream_regression_is_blamed_on_its_stage_in_every_view(tmp_path: Path) -> None:
    with pipeline_environment(tmp_path) as env:
        f1, m1 = env.shas[FEATURES_REPO][0], env.shas[MODEL_REPO][0]
        first = env.key(f1, m1)
        env.tick()
        assert env.run_ticked()[first].success
        f2 = env.commit(FEATURES_REPO, DEGRADED_FEATURES)
        degraded = env.key(f2, m1)
        # submit plans what the sensor makes: the features commit with the model's head.
        settings = load_settings()
        planned = reference_combination(
            env.project, settings, task=SHOP_TASK, repo=FEATURES_REPO, sha=f2
        )
        assert planned == {FEATURES_REPO: f2, MODEL_REPO: m1}
        assert [r.partition_key for r in env.tick()] == [degraded]
        assert not env.run_ticked()[degraded].success  # blocked by the gate

        # The gate record names the stage; the headline leads with it.
        outcome = gate.load_outcome(env.store, SHOP_TASK, degraded)
        assert outcome is not None and outcome.status == gate.BLOCKED
        assert outcome.stage_change == f"stage {FEATURES_REPO} {f1[:7]}→{f2[:7]}"
        assert outcome.headline().startswith(
            f"blocked vs {first}: stage {FEATURES_REPO} {f1[:7]}→{f2[:7]}: "
        )

        # why: the gate's details and each stage's full commit from the event log.
        runner = CliRunner()
        why = runner.invoke(app, ["why", degraded, "--depth", "1"])
        assert why.exit_code == 0, why.output
        assert f"changed: stage {FEATURES_REPO} {f1[:7]}→{f2[:7]}" in why.output
        assert f"stage 1 of 2: {FEATURES_REPO} {f2}" in why.output
        assert f"stage 2 of 2: {MODEL_REPO} {m1}" in why.output

        # compare: the changed stage with full shas, its own diff stat (read over git://).
        paths = ResultPaths(
            names.predictions_key(SHOP_TASK).path, names.comparison_key(SHOP_TASK).path
        )
        result = compare_candidates(
            project=env.project,
            settings=settings,
            store=env.store,
            task_name=SHOP_TASK,
            a=first,
            b=degraded,
            paths=paths,
            event_log=lineage.candidate_differences(env.instance),
            flip_rows=0,
        )
        assert result.changed_stages == [StageDiff(FEATURES_REPO, f1, f2)]
        assert [f.path for f in result.files or []] == [f"{FEATURES_REPO}/features.py"]
        assert result.deltas_source == f"the gate's stored comparison of {degraded} with {first}"

        # The leaderboard and the listing: one row per combination, in the order they came
        # to be (the features commit is newer than the model's), the stage that moved.
        made = runs.materialize(env.definitions, env.instance, [names.leaderboard_key(SHOP_TASK)])
        assert made.success, runs.failure_message(made)
        svgs = (settings.reports_root / "trends" / SHOP_TASK).glob("*.svg")
        ticks = "".join(path.read_text() for path in svgs)  # trend ticks: the stage shas
        assert f"{f2[:7]}+{m1[:7]}" in ticks and degraded not in ticks
        board = runner.invoke(app, ["leaderboard", "--task", SHOP_TASK, "--json"])
        assert board.exit_code == 0, board.output
        rows = [(r["candidate"], r["changed"]) for r in json.loads(board.output)]
        assert rows == [(first, "—"), (degraded, f"stage {FEATURES_REPO} {f1[:7]}→{f2[:7]}")]
        listed = runner.invoke(app, ["candidates", "--repo", FEATURES_REPO, "--json"])
        assert listed.exit_code == 0, listed.output
        assert [r["candidate"] for r in json.loads(listed.output)] == [degraded, first]
        keys = env.instance.get_dynamic_partitions(names.candidate_partitions_name(SHOP_TASK))
        assert with_stage(keys, FEATURES_REPO, f2) == [degraded]  # what --wait waits for

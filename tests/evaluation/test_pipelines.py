"""Pipelines of repositories, end to end: two real git repositories as stages (the transform
served over ``git daemon``), real commit-sensor ticks and real Dagster runs.

One sequence, as the days of a team would bring it: a first combination; two model commits
that reuse the transform's output (counted); an upstream commit that silently degrades the
model, blamed on that stage; commits landing in both stages in one tick; a transform that
breaks its declared schema; then what a stale configuration invalidates."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._utils.test.data_versions import get_stale_status_resolver
from evaluation_env import SHOP_TASK
from pipeline_env import (
    DEGRADED_FEATURES,
    FEATURES_REPO,
    FIXED_FEATURES,
    MODEL_REPO,
    SCHEMA_BREAKING,
    Pipeline,
    model,
    pipeline_config,
    pipeline_environment,
)

from clearlake.evaluation import gate
from clearlake.evaluation.candidate_run import StageCommitError, resolve_run
from clearlake.evaluation.git import AmbiguousCommitError, GitRepository
from clearlake.evaluation.watch import plan_tick
from clearlake.names import comparison_key, predictions_key, scores_key, stage_output_key
from clearlake.project.config import RepositoryConfig
from clearlake.project.load import parse_project
from clearlake.settings import load_settings

STAGE = stage_output_key(SHOP_TASK, FEATURES_REPO)
COMPARISON = comparison_key(SHOP_TASK)


def keys(requests: list[dg.RunRequest]) -> list[str | None]:
    return [r.partition_key for r in requests]


def stage_runs(env: Pipeline, *partitions: str) -> list[dict[str, Any]]:
    """The stage asset's materialisations of ``partitions``: reused, computed_by, runs."""
    found = []
    for key in partitions:
        metadata = env.materialization(STAGE, key).metadata
        found.append(
            {
                "reused": metadata["reused"].value,
                "computed_by": metadata["computed_by"].value,
                "transform_runs": metadata["transform_runs"].value,
                "address": metadata["address"].value,
            }
        )
    return found


def comparison(env: Pipeline, key: str) -> dict[str, Any]:
    metadata = env.materialization(COMPARISON, key).metadata
    return {
        "baseline": metadata["baseline"].value,
        "changed": metadata["changed_stages"].value,
        "gate": metadata["gate"].value,
        "record": metadata["gate_record"].value,
    }


def change(repo: str, old: str, new: str) -> dict[str, str]:
    return {"repo": repo, "old": old[:7], "new": new[:7]}


def test_a_pipeline_evaluated_commit_by_commit(tmp_path: Path) -> None:
    with pipeline_environment(tmp_path) as env:
        f1, m1 = env.shas[FEATURES_REPO][0], env.shas[MODEL_REPO][0]

        # 1. First look: one combination, every stage's full sha on the run's tags.
        first = env.key(f1, m1)
        assert keys(env.tick()) == [first]
        assert json.loads(env.requests[0].tags["clearlake/stages"]) == {
            FEATURES_REPO: f1,
            MODEL_REPO: m1,
        }
        done = env.run_ticked()
        assert done[first].success, done[first].error
        predictions = env.materialization(predictions_key(SHOP_TASK), first).metadata
        assert predictions["stages"].value == {FEATURES_REPO: f1, MODEL_REPO: m1}
        assert predictions["provenance/candidate_commit"].value == m1  # 40 characters
        assert json.loads(str(predictions["provenance/stages"].value))[FEATURES_REPO] == f1

        # 2. Two model commits: the transform ran once for three combinations.
        m2 = env.commit(MODEL_REPO, model("More Newton steps", 9))
        m3 = env.commit(MODEL_REPO, model("Even more steps", 10))
        assert keys(env.tick()) == [env.key(f1, m2), env.key(f1, m3)]
        done = env.run_ticked()
        assert all(e.success for e in done.values()), [e.error for e in done.values()]
        counted = stage_runs(env, first, env.key(f1, m2), env.key(f1, m3))
        assert [c["transform_runs"] for c in counted] == [1, 0, 0]
        assert [c["reused"] for c in counted] == [False, True, True]
        assert {c["computed_by"] for c in counted} == {first}
        assert len({c["address"] for c in counted}) == 1  # one data version
        assert comparison(env, env.key(f1, m3)) | {"record": None} == {
            "baseline": env.key(f1, m2),
            "changed": [change(MODEL_REPO, m2, m3)],
            "gate": gate.PASSED,
            "record": None,
        }

        # 3. An upstream commit degrades the model downstream: the stage is blamed.
        f2 = env.commit(FEATURES_REPO, DEGRADED_FEATURES)
        degraded = env.key(f2, m3)
        assert keys(env.tick()) == [degraded]
        done = env.run_ticked()
        assert not done[degraded].success  # the gate blocked it
        blamed = comparison(env, degraded)
        assert blamed["baseline"] == env.key(f1, m3)
        assert blamed["changed"] == [change(FEATURES_REPO, f1, f2)]
        assert blamed["gate"] == gate.BLOCKED
        assert blamed["record"]["baseline"] == env.key(f1, m3)
        assert blamed["record"]["status"] == gate.BLOCKED
        assert stage_runs(env, degraded)[0]["transform_runs"] == 1

        # 4. Commits in both stages in one tick: each alone, then both; none twice.
        f3 = env.commit(FEATURES_REPO, FIXED_FEATURES)
        m4 = env.commit(MODEL_REPO, model("Eleven steps", 11))
        both = env.key(f3, m4)
        assert keys(env.tick()) == [env.key(f3, m3), env.key(f2, m4), both]
        done = env.run_ticked()
        assert done[both].success, done[both].error
        # f3 alone falls back past the blocked f2 to the last passing combination
        assert comparison(env, env.key(f3, m3))["baseline"] == env.key(f1, m3)
        assert comparison(env, env.key(f3, m3))["changed"] == [change(FEATURES_REPO, f1, f3)]
        assert comparison(env, both)["baseline"] == env.key(f3, m3)  # the last stage moved
        assert comparison(env, both)["changed"] == [change(MODEL_REPO, m3, m4)]
        runs = stage_runs(env, env.key(f3, m3), env.key(f2, m4), both)
        assert [r["transform_runs"] for r in runs] == [1, 0, 0]
        assert keys(env.tick()) == []  # nothing is evaluated twice

        # 5. A transform that breaks its declared schema fails that candidate only.
        f4 = env.commit(FEATURES_REPO, SCHEMA_BREAKING)
        broken = env.key(f4, m4)
        assert keys(env.tick()) == [broken]
        done = env.run_ticked()
        assert not done[broken].success
        assert re.search(  # pandas may hand text over as large_string
            rf"stage {FEATURES_REPO}@{f4[:7]}: output column west is (large_)?string, declared "
            r"double \(fix the stage",
            done[broken].error or "",
        )

        # 6. A stage commit that no longer exists: one line, naming the stage.
        with pytest.raises(StageCommitError, match=rf"stage {FEATURES_REPO}: .*no commit"):
            resolve_run(
                f"{FEATURES_REPO}@0000000+{MODEL_REPO}@{m4[:7]}",
                project=env.project,
                settings=load_settings(),
                store=env.store,
            )

        # 7. A champion reference that is gone skips the pipeline's tick, naming the stage.
        raw = pipeline_config(
            {r.name: r.location for r in env.project.config.repositories},
            reference={"policy": "champion", "commit": "deadbee"},
        )
        pinned = parse_project(raw, path=env.project.path)
        plan = plan_tick(pinned, load_settings(), {}, is_known=lambda *_: False)
        assert plan.requests == []
        assert plan.skipped and plan.skipped[0].startswith(
            f"task {SHOP_TASK}: stage {FEATURES_REPO}: "
        )

        # 8. Code versions: a stage's declaration invalidates the stage and predictions, a
        # metric setting only the scores (Dagster's own stale-status resolver).
        assert_stale_exactly(env, both)


def assert_stale_exactly(env: Pipeline, key: str) -> None:
    def statuses(project: Any) -> dict[str, str]:
        from evaluation_env import evaluation_definitions

        definitions = evaluation_definitions(project, load_settings())
        graph = [a for a in definitions.assets or [] if isinstance(a, dg.AssetsDefinition)]
        resolver = get_stale_status_resolver(env.instance, graph)
        return {
            "stage": resolver.get_status(STAGE, key).value,
            "predictions": resolver.get_status(predictions_key(SHOP_TASK), key).value,
            "scores": resolver.get_status(scores_key(SHOP_TASK), key).value,
        }

    locations = {r.name: r.location for r in env.project.config.repositories}
    assert statuses(env.project) == dict.fromkeys(["stage", "predictions", "scores"], "FRESH")
    requires = pipeline_config(locations, requires=["amount", "region", "order_date"])
    assert statuses(parse_project(requires, path=env.project.path)) == {
        "stage": "STALE",
        "predictions": "STALE",
        "scores": "FRESH",  # until the predictions are re-made with another data version
    }
    stricter = pipeline_config(locations)
    stricter["tasks"][SHOP_TASK]["min_subgroup_rows"] = 300
    assert statuses(parse_project(stricter, path=env.project.path)) == {
        "stage": "FRESH",
        "predictions": "FRESH",
        "scores": "STALE",
    }


def test_an_ambiguous_short_sha_names_both_commits(tmp_path: Path) -> None:
    """400 commits made at once (git fast-import): two of them share a 4-digit prefix."""
    path = tmp_path / "many"
    subprocess.run(["git", "init", "--quiet", str(path)], check=True)
    stream = "".join(
        f"commit refs/heads/main\ncommitter T <t@e> {1_700_000_000 + i} +0000\n"
        f"data {len(str(i))}\n{i}\n\n"
        for i in range(400)
    )
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input=stream.encode(),
                   check=True)  # fmt: skip
    shas = subprocess.run(["git", "-C", str(path), "rev-list", "main"], capture_output=True,
                          text=True, check=True).stdout.split()  # fmt: skip
    prefixes: dict[str, list[str]] = {}
    for sha in shas:
        prefixes.setdefault(sha[:4], []).append(sha)
    prefix, twins = next((p, s) for p, s in sorted(prefixes.items()) if len(s) > 1)
    config = RepositoryConfig(name="many", location=str(path), entrypoint="m:M")
    repo = GitRepository(config, load_settings(), location=str(path))
    with pytest.raises(AmbiguousCommitError, match="ambiguous") as raised:
        repo.resolve(prefix)
    assert sorted(raised.value.matches) == sorted(twins)
    assert all(sha in str(raised.value) for sha in twins)
    assert repo.resolve(twins[0][:12]) == twins[0]

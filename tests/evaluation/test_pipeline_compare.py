"""The compare view of two pipeline combinations that differ in one stage: the library, the
CLI's text, the gallery's page header and ``GET /v1/compare`` say which stage changed, with
each stage's full commit and the changed stage's own diff stat.

The combinations are built from the evaluated history (real predictions of flight-delays'
commits 1 and 3, real git repository) in a lake of their own, their stage commits recorded
as the pipeline's runs record them: metadata ``stages`` on the predictions in a real Dagster
instance (the Data API, without one, has the keys' short shas)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import httpx
import pytest
from evaluation_env import Evaluated, link_lake

from clearlake import names
from clearlake.cli.compare import text_lines
from clearlake.evaluation.candidates import COMMITS_TABLE
from clearlake.evaluation.compare import (
    AmbiguousCandidateError,
    CandidateComparison,
    ResultPaths,
    StageDiff,
    compare_candidates,
    resolve_pair,
)
from clearlake.lake.json_records import json_path, write_json
from clearlake.lake.store import LakeStore
from clearlake.orchestration import lineage
from clearlake.reports import compare_page

TASK = "arrival_delay"
REPO = "flight-delays"
MODEL = "5d6e7f8" + "a" * 33  # the model stage: the same commit on both sides


@dataclass
class Pair:
    store: LakeStore
    a: str
    b: str
    shas: tuple[str, str]
    """flight-delays' full commits of A and B."""
    result: CandidateComparison


def paths() -> ResultPaths:
    return ResultPaths(names.predictions_key(TASK).path, names.comparison_key(TASK).path)


@pytest.fixture(scope="module")
def pair(evaluated: Evaluated, tmp_path_factory: pytest.TempPathFactory) -> Pair:
    env = evaluated.env
    store = link_lake(env.store, tmp_path_factory.mktemp("pipeline-compare") / "lake")
    shas = (env.shas[REPO][1], env.shas[REPO][3])
    keys = [f"{REPO}@{sha[:7]}+late-arrivals@{MODEL[:7]}" for sha in shas]
    instance = dg.DagsterInstance.ephemeral()
    for index, sha, key in zip((1, 3), shas, keys, strict=True):
        source = env.store.partition_file(
            "/".join(paths().predictions), f"key={evaluated.key(REPO, index)}"
        )
        target = store.partition_file("/".join(paths().predictions), f"key={key}")
        store.fs.create_dir(target.rsplit("/", 1)[0], recursive=True)
        store.fs.copy_file(source, target)
        stages = {REPO: sha, "late-arrivals": MODEL}
        record = {
            "sha": MODEL,
            "message": f"{REPO}: commit {index}",
            "author": "ann <a@b>",
            "committed_at": f"2024-05-0{index}T10:00:00+00:00",
            "parents": [],
        }
        write_json(store, json_path(store, COMMITS_TABLE, key), record)
        instance.add_dynamic_partitions(names.candidate_partitions_name(TASK), [key])
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                names.predictions_key(TASK),
                partition=key,
                metadata={"stages": dg.MetadataValue.json(stages)},
            )
        )
    result = compare_candidates(
        project=env.project,
        settings=env.settings,
        store=store,
        task_name=TASK,
        a=keys[0],
        b=keys[1],
        paths=paths(),
        event_log=lineage.candidate_differences(instance),
    )
    return Pair(store, keys[0], keys[1], shas, result)


def test_the_comparison_says_which_stage_changed(pair: Pair) -> None:
    old, new = pair.shas
    result = pair.result
    assert result.changed_stages == [StageDiff(REPO, old, new)]
    # The changed stage's full sha from the event log; the others' from the keys.
    assert result.a.stages == {REPO: old, "late-arrivals": MODEL[:7]}
    assert list(result.b.stages) == [REPO, "late-arrivals"]
    assert result.stages_note == (
        f"stage {REPO} {old[:7]}→{new[:7]} changed; late-arrivals {MODEL[:7]} the same"
    )
    # The diff stat is the changed stage's, in its own repository.
    assert result.files and all(f.path.startswith(f"{REPO}/") for f in result.files)
    assert f"{REPO}/delay_model.py" in {f.path for f in result.files}
    assert result.files_note.startswith(f"{REPO}: ") and "file(s) changed" in result.files_note
    stage = [c for c in result.provenance if c.field == f"stage {REPO}"]
    assert [(c.kind, c.a, c.b) for c in stage] == [("code", old, new)]
    body = result.to_json()
    assert body["changed_stages"] == [{"repo": REPO, "a": old, "b": new}]
    lines = text_lines(result)
    assert lines[3] == f"changed: {result.stages_note}"
    assert lines[4] == f"A stages: {REPO}@{old[:12]} + late-arrivals@{MODEL[:7]}"
    page = compare_page.render_page(result).decode()
    assert f"Changed: <strong>stage {REPO} {old[:7]}→{new[:7]} changed;" in page
    assert f"{REPO} {new[:12]}<br/>late-arrivals {MODEL[:7]}" in page
    # Named by a sha prefix of any stage's commit: the combination holding it.
    tasks = {TASK: paths()}
    assert resolve_pair(pair.store, (old[:7], new[:5]), tasks) == (TASK, pair.a, pair.b)
    with pytest.raises(AmbiguousCandidateError, match=f"'{MODEL[:7]}' is ambiguous") as raised:
        resolve_pair(pair.store, (MODEL[:7], pair.b), tasks)  # the shared model stage
    assert {pair.a, pair.b} <= set(str(raised.value).replace(" (task", " ").split())


def test_the_endpoint_compares_combinations(
    pair: Pair, evaluated: Evaluated, tmp_path: Path
) -> None:
    sys.path.insert(0, str(Path(__file__).parents[1] / "api"))
    from live_api import EXAMPLE_POLICY, MASK_KEY, app_in_thread

    from clearlake.api.app import create_app
    from clearlake.api.config import load_api_config
    from clearlake.api.tokens import issue_token
    from clearlake.settings import load_settings

    tokens = tmp_path / "tokens.yaml"
    token = issue_token(tokens, principal="stew", roles=["steward"])
    settings = load_settings(
        {
            **evaluated.env.variables,
            "CLEARLAKE_LAKE_URL": pair.store.url,
            "CLEARLAKE_API_POLICY": str(EXAMPLE_POLICY),
            "CLEARLAKE_API_TOKENS_FILE": str(tokens),
            "CLEARLAKE_API_MASK_KEY": MASK_KEY,
        }
    )
    old, new = pair.shas
    with app_in_thread(create_app(load_api_config(settings))) as url:
        response = httpx.get(
            f"{url}/v1/compare",
            params={"a": pair.a, "b": pair.b, "flip_rows": "0"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
    assert response.status_code == 200, response.text
    body = response.json()
    # No event log here: the stages' short shas from the keys.
    assert body["changed_stages"] == [{"repo": REPO, "a": old[:7], "b": new[:7]}]
    assert body["b"]["stages"] == {REPO: new[:7], "late-arrivals": MODEL[:7]}
    assert body["stages_note"] == (
        f"stage {REPO} {old[:7]}→{new[:7]} changed; late-arrivals {MODEL[:7]} the same"
    )
    stage = [c for c in body["provenance"] if c["where"] == "stage"]
    assert stage == [{"kind": "code", "where": "stage", "field": REPO, "a": old[:7], "b": new[:7]}]
    assert f"{REPO}/delay_model.py" in {f["path"] for f in body["files"]}

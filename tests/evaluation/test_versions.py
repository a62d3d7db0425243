"""Incremental by construction: code versions are computed from each task's own definition,
data versions are content hashes, and a change unsyncs exactly what it reaches (Dagster's
own stale-status resolver)."""

import dagster as dg
from dagster._utils.test.data_versions import get_stale_status_resolver
from evaluation_env import TASK, Evaluated, example_config

from assets.evaluation.candidates import candidate_assets
from assets.evaluation.suites import suite_assets
from clearlake.names import predictions_key, scores_key, suite_key
from clearlake.project.load import Project, parse_project


def versions(project: Project) -> dict[dg.AssetKey, str | None]:
    return {
        spec.key: spec.code_version
        for asset in [*suite_assets(project), *candidate_assets(project)]
        for spec in asset.specs
    }


def edited(project: Project, task: str, **update: object) -> Project:
    raw = example_config()
    raw["tasks"] = {
        n: t.model_dump(mode="json", exclude_defaults=True) for n, t in project.config.tasks.items()
    }
    raw["repositories"] = [r.model_dump(mode="json") for r in project.config.repositories]
    raw["tasks"][task].update(update)
    return parse_project(raw, path=project.path)


def test_nothing_is_unsynced_after_the_loop(evaluated: Evaluated) -> None:
    graph = [
        a for a in evaluated.env.definitions.assets or [] if isinstance(a, dg.AssetsDefinition)
    ]
    resolver = get_stale_status_resolver(evaluated.env.instance, graph)
    key = evaluated.key("flight-delays", 1)
    statuses = {
        "train": resolver.get_status(suite_key(TASK, "train")),
        "holdout": resolver.get_status(suite_key(TASK, "holdout")),
        "predictions": resolver.get_status(predictions_key(TASK), key),
        "scores": resolver.get_status(scores_key(TASK), key),
    }
    assert {k: s.value for k, s in statuses.items()} == dict.fromkeys(statuses, "FRESH")


def test_code_versions_are_computed_per_task(evaluated: Evaluated) -> None:
    project = parse_project(example_config(), path=evaluated.env.project.path)
    before = versions(project)
    assert all(v and len(v) == 16 for v in before.values())
    assert len(set(before.values())) == len(before)  # each from its own definition

    stricter = versions(edited(project, "late_arrival", min_subgroup_rows=300))
    changed = {k.to_user_string() for k in before if stricter[k] != before[k]}
    assert changed == {
        "evaluation/late_arrival/candidate_scores",
        "evaluation/late_arrival/candidate_comparison",
    }  # a scoring setting: the suites' rows and the models' predictions do not depend on it

    hidden = versions(edited(project, TASK, exclude_columns=["carrier"]))
    changed = {k.to_user_string() for k in before if hidden[k] != before[k]}
    assert changed == {  # the columns a candidate sees: its predictions (and what compares
        f"evaluation/{TASK}/candidate_predictions",  # them); the suites keep their rows
        f"evaluation/{TASK}/candidate_comparison",
    }

    target = versions(edited(project, TASK, target="dep_delay"))
    changed = {k.to_user_string() for k in before if target[k] != before[k]}
    assert f"evaluation/{TASK}/suites/train" in changed  # the target selects the rows
    assert f"evaluation/{TASK}/candidate_predictions" in changed
    assert not any(k.startswith("evaluation/late_arrival/") for k in changed)

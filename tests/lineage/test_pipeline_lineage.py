"""``why`` and ``diff`` of a pipeline's combinations: each stage's full commit, and the stage
that changed, read from materialisations recorded in a real Dagster instance."""

from __future__ import annotations

import json

import dagster as dg

from clearlake.orchestration import lineage

PREDICTIONS = dg.AssetKey(["evaluation", "late_arrival", "candidate_predictions"])
COMPARISON = dg.AssetKey(["evaluation", "late_arrival", "candidate_comparison"])
FEATURES = {"old": "1a2b3c4" + "0" * 33, "new": "9f8e7d6" + "1" * 33}
MODEL = "5d6e7f8" + "2" * 33


def key(features: str) -> str:
    return f"late-features@{FEATURES[features][:7]}+late-arrivals@{MODEL[:7]}"


def record(instance: dg.DagsterInstance, features: str, *, as_text: bool) -> None:
    """A combination's predictions, then its comparison with the other combination."""
    stages = {"late-features": FEATURES[features], "late-arrivals": MODEL}
    value = json.dumps(stages) if as_text else dg.MetadataValue.json(stages)
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            PREDICTIONS,
            partition=key(features),
            metadata={"stages": value, "provenance/candidate_commit": MODEL},
        )
    )
    other = "old" if features == "new" else "new"
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            COMPARISON,
            partition=key(features),
            metadata={"stages": value, "baseline": key(other)},
        )
    )


def test_why_names_every_stage_commit_and_diff_the_stage_that_changed() -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("late_arrival", [key("old"), key("new")])
        record(instance, "old", as_text=False)  # JSON metadata, as the assets write it
        record(instance, "new", as_text=True)  # or its text: read the same
        text = lineage.render(lineage.why(instance, PREDICTIONS, key("new")))
        assert f"stage 1 of 2: late-features {FEATURES['new']}" in text
        assert f"stage 2 of 2: late-arrivals {MODEL}" in text
        old = lineage.select(instance, PREDICTIONS, key("old"))
        assert old.stages == {"late-features": FEATURES["old"], "late-arrivals": MODEL}
        assert list(old.stages) == ["late-features", "late-arrivals"]  # pipeline order
        new = lineage.select(instance, PREDICTIONS, key("new"))
        differences = lineage.compare(instance, old, new)
        stages = [d for d in differences if d.field.startswith("stage ")]
        assert [(d.kind, d.field, d.a, d.b) for d in stages] == [
            ("code", "stage late-features", FEATURES["old"], FEATURES["new"])
        ]
        shown = lineage.render_diff(old, new, differences)
        assert f"stage late-features\n{'':14}A {FEATURES['old']}" in shown
        # A single repository's record has no stages and says nothing of them.
        instance.report_runless_asset_event(
            dg.AssetMaterialization(PREDICTIONS, partition="late-arrivals@5d6e7f8")
        )
        single = lineage.select(instance, PREDICTIONS, "late-arrivals@5d6e7f8")
        assert single.stages == {} and "stage " not in "\n".join(lineage.describe(single))

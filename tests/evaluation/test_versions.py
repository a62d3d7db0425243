"""Incremental by construction: code versions are computed, data versions are content
hashes, and a change unsyncs exactly what it reaches (Dagster's own stale-status resolver).

Dagster marks an asset unsynced when its own code version changed, or when an input's
data version differs from the one it was made from. So an edited feature definition
unsyncs the features; once they are re-materialised, only the suites whose rows actually
changed are unsynced, and so on downstream. Identical output unsyncs nothing.
"""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._utils.test.data_versions import get_stale_status_resolver
from evaluation_env import (
    BROKEN,
    HANGING,
    SUBMITTED,
    Evaluated,
    domain_definitions,
    link_lake,
    write_config,
)

import assets.features.flight_features as features_module
from assets.evaluation.candidates import candidate_assets
from assets.evaluation.suites import suite_assets
from clearlake import lineage
from clearlake.demo import loop
from clearlake.evaluation.config import ClearlakeConfig, load_config
from clearlake.features import toolbox
from clearlake.lake.store import LakeStore
from clearlake.settings import load_settings

DAY = "2013-01-05"
FEATURES = dg.AssetKey(["features", "flight_features"])
TRAIN = dg.AssetKey(["evaluation", "suites", "train"])
HOLDOUT = dg.AssetKey(["evaluation", "suites", "holdout"])
SLICE = dg.AssetKey(["evaluation", "suites", "holdout_2013_02"])
PREDICTIONS = dg.AssetKey(["evaluation", "candidate_predictions"])
SCORES = dg.AssetKey(["evaluation", "candidate_scores"])


def statuses(
    evaluated: Evaluated, config: ClearlakeConfig, features: dg.AssetsDefinition
) -> dict[str, str]:
    resolver = get_stale_status_resolver(
        evaluated.env.instance, [features, *suite_assets(config), *candidate_assets(config)]
    )
    key = evaluated.key("flight-delays", 1)
    return {
        "features": resolver.get_status(FEATURES, DAY).value,
        "train": resolver.get_status(TRAIN).value,
        "holdout": resolver.get_status(HOLDOUT).value,
        "slice": resolver.get_status(SLICE).value,
        "predictions": resolver.get_status(PREDICTIONS, key).value,
        "scores": resolver.get_status(SCORES, key).value,
    }


def test_nothing_is_unsynced_after_the_loop(evaluated: Evaluated) -> None:
    current = statuses(evaluated, evaluated.env.config, features_module.flight_features_asset())
    assert set(current.values()) == {"FRESH"}


def test_feature_code_change_unsyncs_the_features_first(
    evaluated: Evaluated, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(features_module, "FEATURES_CODE_VERSION", "an-edited-toolbox")
    changed = statuses(evaluated, evaluated.env.config, features_module.flight_features_asset())
    assert changed.pop("features") == "STALE"
    assert set(changed.values()) == {"FRESH"}  # nothing new downstream until they are redone


@pytest.fixture
def small_lake(
    tmp_path: Path, sample_lake: LakeStore
) -> Iterator[tuple[dg.Definitions, dg.DagsterInstance, LakeStore]]:
    """Features and suites only, on their own lake and instance (this test rewrites data)."""
    home = tmp_path / "home"
    (home / "dagster").mkdir(parents=True)
    store = link_lake(sample_lake, home / "lake")
    config_path = write_config(
        home / "clearlake.yaml",
        {n: home / n for n in ("flight-delays", BROKEN, HANGING, SUBMITTED)},
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLEARLAKE_HOME", str(home))
        patch.setenv("CLEARLAKE_LAKE_URL", store.url)
        patch.setenv("CLEARLAKE_CONFIG", str(config_path))
        config = load_config(config_path)
        instance = dg.DagsterInstance.local_temp(str(home / "dagster"))
        definitions = domain_definitions(config, load_settings())
        loop.ensure_features_and_suites(definitions, instance, store, config, lambda _: None)
        yield definitions, instance, store


def test_changed_rows_unsync_exactly_the_suites_that_hold_them(
    small_lake: tuple[dg.Definitions, dg.DagsterInstance, LakeStore],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Re-materialised features: suites holding the day are unsynced; once rebuilt, only
    a suite whose rows really changed gets a new data version (what candidates see)."""
    definitions, instance, _ = small_lake
    graph = [a for a in definitions.assets or [] if isinstance(a, dg.AssetsDefinition)]
    day = (dt.date(2013, 1, 5), dt.date(2013, 1, 5))  # in the training window only
    suites = [TRAIN, HOLDOUT, SLICE]

    def status(key: dg.AssetKey) -> str:
        return get_stale_status_resolver(instance, graph).get_status(key).value

    def rebuild_suites() -> dict[dg.AssetKey, str | None]:
        assert loop.materialise(definitions, instance, suites).success
        return {k: lineage.select(instance, k, None).data_version for k in suites}

    before = rebuild_suites()
    assert {status(k) for k in suites} == {"FRESH"}

    assert loop.materialise(definitions, instance, [FEATURES], partition_range=day).success
    assert (status(TRAIN), status(HOLDOUT), status(SLICE)) == ("STALE", "FRESH", "FRESH")
    assert rebuild_suites() == before  # same code, same rows: same versions downstream

    original = toolbox.scheduled_clock
    monkeypatch.setattr(
        toolbox, "scheduled_clock", lambda f: original(f).assign(sched_dep_minute=0)
    )
    assert loop.materialise(definitions, instance, [FEATURES], partition_range=day).success
    assert (status(TRAIN), status(HOLDOUT), status(SLICE)) == ("STALE", "FRESH", "FRESH")
    after = rebuild_suites()
    assert after[TRAIN] != before[TRAIN]
    assert (after[HOLDOUT], after[SLICE]) == (before[HOLDOUT], before[SLICE])


def test_code_versions_are_computed_not_typed(evaluated: Evaluated) -> None:
    config = evaluated.env.config
    versions = {
        spec.key: spec.code_version
        for asset in [*suite_assets(config), *candidate_assets(config)]
        for spec in asset.specs
    }
    assert all(v and len(v) == 16 for v in versions.values())
    assert len(set(versions.values())) == len(versions)  # each from its own definition
    edited = config.model_copy(
        update={"evaluation": config.evaluation.model_copy(update={"min_relative_effect": 0.02})}
    )
    after = {spec.key: spec.code_version for a in candidate_assets(edited) for spec in a.specs}
    assert all(after[k] != versions[k] for k in after)  # the verdict rule is part of them

import datetime as dt
from pathlib import Path

import dagster as dg
from test_scoring import METRICS, TASK, predictions

from assets.evaluation.leaderboard import leaderboard_asset
from clearlake.evaluation.leaderboard import (
    LEADERBOARD_COLUMNS,
    Entry,
    build_leaderboard,
    markdown_table,
    plot_leaderboard,
    subgroup_regressions,
)
from clearlake.evaluation.scoring import compare_predictions, score_predictions
from clearlake.names import candidate_partitions_name, comparison_key, leaderboard_key, scores_key
from clearlake.orchestration.resources import LakeResource
from clearlake.project.load import parse_project

T0 = dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)


def entries() -> list[Entry]:
    base = predictions(11, rows=3_000)
    worse = base.assign(prediction=base["prediction"] + (base["carrier"] == "UA") * 9.0)
    return [
        Entry(
            "repo@bbbbbbb",
            T0 + dt.timedelta(hours=1),
            score_predictions(worse, TASK, METRICS),
            compare_predictions(worse, base, TASK, METRICS).frame,
        ),
        Entry("repo@aaaaaaa", T0, score_predictions(base, TASK, METRICS), None),
    ]


def test_leaderboard_frame_in_commit_order() -> None:
    frame = build_leaderboard(entries())
    assert list(frame.columns) == LEADERBOARD_COLUMNS
    assert frame["candidate"].tolist() == ["repo@aaaaaaa"] * 2 + ["repo@bbbbbbb"] * 2
    assert str(frame["committed_at"].dtype) == "datetime64[us, UTC]"
    first = frame[frame["candidate"] == "repo@aaaaaaa"]
    assert first["verdict"].isna().all()  # never compared
    assert set(frame[frame["candidate"] == "repo@bbbbbbb"]["verdict"]) <= {
        "regressed",
        "no significant change",
    }
    assert "| repo@bbbbbbb | 2024-05-01 11:00 |" in markdown_table(frame, metric="mae")


def test_plot_names_regressed_subgroups(tmp_path: Path) -> None:
    items = entries()
    flagged = {e.key: subgroup_regressions(e, "mae") for e in items}
    assert "carrier=UA" in flagged["repo@bbbbbbb"].split(", ")
    assert flagged["repo@aaaaaaa"] == ""
    path = plot_leaderboard(
        build_leaderboard(items),
        metric="mae",
        path=tmp_path / "p.png",
        flagged={k: v for k, v in flagged.items() if v},
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_leaderboard_refreshes_when_a_candidate_is_scored(tmp_path: Path) -> None:
    from evaluation_env import TASK as NAME
    from evaluation_env import example_config

    project = parse_project(example_config(), path=tmp_path / "clearlake.yaml")
    partitions = dg.DynamicPartitionsDefinition(name=candidate_partitions_name(NAME))
    SCORES, LEADERBOARD = scores_key(NAME), leaderboard_key(NAME)
    scores = dg.AssetSpec(SCORES, partitions_def=partitions)
    comparison = dg.AssetSpec(comparison_key(NAME), partitions_def=partitions)
    defs = dg.Definitions(
        assets=[scores, comparison, leaderboard_asset(project, NAME)],
        resources={"lake": LakeResource(url=str(tmp_path / "lake"))},
    )
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(candidate_partitions_name(NAME), ["repo@aaaaaaa"])
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert first.total_requested == 0
    instance.report_runless_asset_event(dg.AssetMaterialization(SCORES, partition="repo@aaaaaaa"))
    second = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    assert second.get_requested_partitions(LEADERBOARD) == {None}

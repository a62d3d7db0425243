"""The whole loop on real components: commits → sensor → runs → verdicts → leaderboard."""

from __future__ import annotations

from urllib.parse import quote

import dagster as dg
import pandas as pd
import psutil
from evaluation_env import BROKEN, HANG_TIMEOUT, HANGING, TASK, Evaluated

from clearlake.evaluation.candidates import register_candidate
from clearlake.evaluation.leaderboard import plot_path
from clearlake.evaluation.results import stored_frame
from clearlake.names import (
    REGRESSION_CHECK,
    candidate_partitions_name,
    comparison_key,
    evaluation_job,
    leaderboard_key,
    predictions_key,
)

PREDICTIONS = predictions_key(TASK)
COMPARISON = comparison_key(TASK)
LEADERBOARD = leaderboard_key(TASK)


def comparison(evaluated: Evaluated, key: str) -> pd.DataFrame:
    frame = stored_frame(evaluated.env.store, COMPARISON, key)
    assert frame is not None, key
    return frame


def metadata(evaluated: Evaluated, asset: dg.AssetKey, key: str | None) -> dict[str, object]:
    records = evaluated.env.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset, asset_partitions=[key] if key else None), limit=1
    ).records
    assert records, f"{asset.to_user_string()} [{key}] was never materialised"
    materialization = records[0].asset_materialization
    assert materialization is not None
    return {k: v.value for k, v in materialization.metadata.items()}


def asset_key(record: dg.EventLogRecord) -> dg.AssetKey:
    key = record.asset_key
    assert key is not None, record
    return key


def test_every_commit_was_evaluated_once_in_commit_order(evaluated: Evaluated) -> None:
    keys = list(evaluated.outcomes)
    expected = [evaluated.key("flight-delays", i) for i in range(4)]
    assert [k for k in keys if k.startswith("flight-delays@")] == expected
    assert len([k for k in keys if k.startswith(BROKEN)]) == 5
    assert evaluated.key(HANGING, 0) in keys
    partitions = evaluated.env.instance.get_dynamic_partitions(candidate_partitions_name(TASK))
    repos = {k.split("@")[0] for k in keys}  # other test modules add repositories of their own
    assert sorted(p for p in partitions if p.split("@")[0] in repos) == sorted(keys)


def test_first_commit_has_no_baseline(evaluated: Evaluated) -> None:
    key = evaluated.key("flight-delays", 0)
    assert evaluated.outcomes[key].success
    frame = comparison(evaluated, key)
    assert set(frame["verdict"]) == {"no baseline"}
    assert metadata(evaluated, COMPARISON, key)["overall_verdict"] == "no baseline"


def test_real_model_improves_on_the_naive_baseline(evaluated: Evaluated) -> None:
    key = evaluated.key("flight-delays", 1)
    assert evaluated.outcomes[key].success
    frame = comparison(evaluated, key)
    overall = frame[(frame["subgroup_kind"] == "overall")].set_index("metric")
    assert overall.loc["mae", "verdict"] == "improved"
    ci_high = overall.loc["mae", "ci_high"]
    assert isinstance(ci_high, float)  # a float64 column
    assert ci_high < 0
    meta = metadata(evaluated, COMPARISON, key)
    assert meta["baseline"] == evaluated.key("flight-delays", 0)
    assert meta["overall_verdict"] == "improved"


def test_identical_copy_is_never_a_change(evaluated: Evaluated) -> None:
    """A/A: a commit that only edits the README predicts exactly what its parent did. No
    row moves; the boosting's measured seed noise leaves rows that could not have seen
    the minimum effect inconclusive rather than 'no change'."""
    key = evaluated.key("flight-delays", 2)
    assert evaluated.outcomes[key].success
    frame = comparison(evaluated, key)
    assert set(frame["verdict"]) <= {"no significant change", "inconclusive"}
    assert (frame["delta"] == 0).all()
    assert len(frame) > 30  # overall + carriers + origins + months, three metrics
    assert set(frame["metric"]) == {"mae", "rmse", "within_15"}


def test_subgroup_regression_fails_the_blocking_check(evaluated: Evaluated) -> None:
    key = evaluated.key("flight-delays", 3)
    outcome = evaluated.outcomes[key]
    assert not outcome.success
    frame = comparison(evaluated, key)  # materialised before the check blocked the run
    regressed = frame[frame["verdict"] == "regressed"]
    assert ("mae", "carrier", "WN") in set(
        zip(regressed["metric"], regressed["subgroup_kind"], regressed["subgroup"], strict=True)
    )
    overall = frame[(frame["subgroup_kind"] == "overall") & (frame["metric"] == "mae")]
    assert overall["verdict"].item() != "improved"
    check = evaluated.env.instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(COMPARISON, REGRESSION_CHECK)]
    )
    records = evaluated.env.instance.get_records_for_run(
        outcome.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    evaluation = records[0].event_log_entry.get_dagster_event().asset_check_evaluation_data
    assert evaluation.passed is False
    assert evaluation.description is not None
    assert "mae for carrier=WN" in evaluation.description
    assert check  # the check is recorded in the instance


def test_broken_candidates_fail_their_own_partition_clearly(evaluated: Evaluated) -> None:
    expected = {
        evaluated.key(BROKEN, 0): "exited with code 1",
        evaluated.key(HANGING, 0): f"did not finish within {HANG_TIMEOUT:g} s",
        evaluated.key(BROKEN, 1): "NaN, missing or infinite",
        evaluated.key(BROKEN, 2): "2 prediction(s) for",
        evaluated.key(BROKEN, 3): "values of type string",
    }
    for key, message in expected.items():
        outcome = evaluated.outcomes[key]
        assert not outcome.success, key
        assert key in (outcome.error or "") and message in (outcome.error or ""), outcome.error


def test_hanging_candidate_leaves_no_process_behind(evaluated: Evaluated) -> None:
    tree = str(evaluated.env.home / "cache" / "candidates" / HANGING)
    leftovers = [p for p in psutil.process_iter(["cwd"]) if (p.info["cwd"] or "").startswith(tree)]
    assert leftovers == []


def test_crash_log_reaches_the_run_and_the_error(evaluated: Evaluated) -> None:
    outcome = evaluated.outcomes[evaluated.key(BROKEN, 0)]
    logs = evaluated.env.instance.all_logs(outcome.run_id)
    assert any("boom: no column named delay" in (entry.user_message or "") for entry in logs)


def test_other_candidates_are_unaffected(evaluated: Evaluated) -> None:
    key = evaluated.key(BROKEN, 4)
    assert evaluated.outcomes[key].success
    meta = metadata(evaluated, COMPARISON, key)
    assert meta["overall_verdict"] == "no baseline"
    assert "failed" in str(meta["baseline_status"])


def test_leaderboard_shows_every_scored_candidate(evaluated: Evaluated) -> None:
    board = stored_frame(evaluated.env.store, LEADERBOARD)
    assert board is not None
    scored = {evaluated.key("flight-delays", i) for i in range(4)} | {evaluated.key(BROKEN, 4)}
    assert set(board["candidate"]) == scored
    assert list(board.columns) == [
        "candidate",
        "repo",
        "commit",
        "committed_at",
        "metric",
        "value",
        "ci_low",
        "ci_high",
        "verdict",
        "gate",
        "gate_summary",
        "stages",
        "stage_change",
    ]
    assert board["committed_at"].is_monotonic_increasing
    # single-repository candidates: no stages listed, no stage changed
    assert not board["stages"].fillna("").astype(bool).any()
    mae = board[board["metric"] == "mae"].set_index("candidate")
    assert mae.loc[evaluated.key("flight-delays", 1), "verdict"] == "improved"
    # The leaderboard shows the gate the comparison stored: the subgroup regression blocks.
    blocked = evaluated.key("flight-delays", 3)
    assert mae.loc[blocked, "gate"] == "blocked"
    assert str(mae.loc[blocked, "gate_summary"]).startswith("blocked vs ")
    assert plot_path(evaluated.env.settings.reports_root, TASK).stat().st_size > 10_000
    meta = metadata(evaluated, LEADERBOARD, None)
    assert str(meta["plot"]).endswith(f"leaderboards/{TASK}.png")


def test_candidate_runs_recompute_nothing_upstream(evaluated: Evaluated) -> None:
    """Materialise-on-commit is incremental: no lake, feature or suite partition is redone."""
    instance = evaluated.env.instance
    for outcome in evaluated.outcomes.values():
        records = instance.get_records_for_run(
            outcome.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records
        keys = {asset_key(r).path[-1] for r in records}
        assert keys <= {"candidate_predictions", "candidate_scores", "candidate_comparison"}


def test_candidate_with_parameters_is_compared_with_its_commit(evaluated: Evaluated) -> None:
    """An experiment's partition ``repo@sha~hash``: parameters reach the constructor and
    the baseline is the same commit with its defaults."""
    env = evaluated.env
    sha = env.shas["flight-delays"][1]
    key = register_candidate(
        env.instance,
        "flight-delays",
        sha,
        {"max_iter": 3},
        partitions=candidate_partitions_name(TASK),
        store=env.store,
    )
    assert key.startswith(f"flight-delays@{sha[:7]}~")
    job = env.definitions.resolve_job_def(evaluation_job(TASK))
    result = job.execute_in_process(partition_key=key, instance=env.instance, raise_on_error=False)
    predictions = metadata(evaluated, PREDICTIONS, key)
    assert predictions["provenance/parameters"] == '{"max_iter": 3}'
    assert predictions["provenance/candidate_commit"] == sha
    compared = metadata(evaluated, COMPARISON, key)
    assert compared["baseline"] == evaluated.key("flight-delays", 1)
    assert compared["provenance/parameters_hash"] == predictions["provenance/parameters_hash"]
    assert compared["overall_verdict"] == "regressed"  # 3 boosting rounds are far too few
    assert not result.success


def check_evaluation(evaluated: Evaluated, key: str) -> dg.AssetCheckEvaluation:
    records = evaluated.env.instance.get_records_for_run(
        evaluated.outcomes[key].run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    (record,) = records
    data = record.event_log_entry.get_dagster_event().asset_check_evaluation_data
    assert isinstance(data, dg.AssetCheckEvaluation)
    return data


def test_blocked_looks_blocked_in_dagster(evaluated: Evaluated) -> None:
    """One check result per candidate partition (failed only where the gate blocked), the
    run's error leads with the gate headline, the comparison shows its table and plot and
    records its real code version."""
    passing, blocked = evaluated.key("flight-delays", 1), evaluated.key("flight-delays", 3)
    good, bad = check_evaluation(evaluated, passing), check_evaluation(evaluated, blocked)
    assert (good.partition, good.passed) == (passing, True)
    assert (bad.partition, bad.passed) == (blocked, False)
    assert not any(isinstance(v.value, int | float) for v in bad.metadata.values())  # no plot
    error = evaluated.outcomes[blocked].error or ""
    assert "blocked vs flight-delays@" in error.splitlines()[0], error
    meta = metadata(evaluated, COMPARISON, blocked)
    assert str(meta["gallery_page"]).endswith(f"candidates/{quote(blocked)}/index.html")
    assert "| mae | carrier=WN |" in str(meta["comparison"])
    assert str(meta["delta_plot"]).startswith("![mae delta per subgroup](data:image/png;base64,")
    spec = next(
        s for s in evaluated.env.definitions.resolve_all_asset_specs() if s.key == COMPARISON
    )
    assert meta["provenance/code_version"] == spec.code_version != "unknown"

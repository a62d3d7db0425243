"""``why`` and ``diff`` on real runs, through the library and the real CLI."""

import pytest
from lineage_history import History
from typer.testing import CliRunner

from clearlake import names
from clearlake.cli.main import app
from clearlake.orchestration import lineage

COMPARISON = names.comparison_key("arrival_delay")
SCORES = names.scores_key("arrival_delay")
FEATURES = names.feature_key("flight_features")
SUITES = "evaluation/arrival_delay/suites"


def test_why_walks_from_a_verdict_to_code_data_and_baseline(history: History) -> None:
    text = lineage.render(lineage.why(history.instance, COMPARISON, history.key(1)))
    assert text.startswith(f"evaluation/arrival_delay/candidate_comparison [{history.key(1)}]")
    assert f"evaluation/arrival_delay/candidate_predictions [{history.key(1)}]" in text
    assert f"(baseline) evaluation/arrival_delay/candidate_predictions [{history.key(0)}]" in text
    assert f"candidate_commit {history.shas[1]}" in text
    assert f"candidate_commit {history.shas[0]}" in text
    assert (
        "evaluation/arrival_delay/suites/train" in text
        and "evaluation/arrival_delay/suites/holdout" in text
    )
    assert "features/flight_features [2013-01-01..2013-01-08]" in text
    assert "environment_lock_hash" in text and "platform_commit" in text
    assert "code version" in text and "data version" in text


def test_why_reaches_the_lake_with_its_data_versions(history: History) -> None:
    tree = lineage.why(history.instance, FEATURES, "2013-01-05")
    inputs = {node.key.to_user_string(): node for node in tree.upstream}
    assert set(inputs) == {"lake/flights", "lake/weather", "lake/planes", "lake/airlines"}
    flights = inputs["lake/flights"]
    assert flights.record is not None and flights.record.partition == "2013-01-05"
    assert flights.record.data_version not in (None, "INITIAL")  # replicated through Dagster
    assert tree.record is not None and tree.record.inputs["lake/flights"] != "INITIAL"
    assert inputs["lake/planes"].record is not None  # snapshot: the one current at the time


def test_diff_of_two_candidates_names_the_commit(history: History) -> None:
    a = lineage.select(history.instance, SCORES, history.key(0))
    b = lineage.select(history.instance, SCORES, f"run:{history.runs[history.key(1)][0]}")
    differences = lineage.compare(history.instance, a, b)
    kinds = {(d.kind, d.field) for d in differences}
    assert ("result", "data_version") in kinds
    assert ("code", "candidate_commit") in kinds
    assert ("code", "code_version") not in kinds  # the platform's code is the same
    assert not any(d.kind == "environment" for d in differences)


def test_diff_explains_same_candidate_different_data(history: History) -> None:
    first, second = history.runs[history.key(1)]
    a = lineage.select(history.instance, SCORES, f"run:{first}")
    b = lineage.select(history.instance, SCORES, f"run:{second[:8]}")
    assert a.partition == b.partition == history.key(1)
    differences = lineage.compare(history.instance, a, b)
    causes = {(d.where, d.kind, d.field) for d in differences}
    assert (
        "evaluation/arrival_delay/candidate_predictions",
        "data",
        "input evaluation/arrival_delay/suites/holdout",
    ) in causes
    assert (
        "evaluation/arrival_delay/suites/holdout",
        "code",
        "code_version",
    ) in causes  # redefined window
    window = next(d for d in differences if d.field == "window of features/flight_features")
    assert {window.a, window.b} == {"2013-01-09..2013-01-16", "2013-01-09..2013-01-15"}
    assert not any(d.field == "candidate_commit" for d in differences)
    text = lineage.render_diff(a, b, differences)
    assert (
        "results differ" in text and "evaluation/arrival_delay/suites/holdout: code_version" in text
    )


def test_unknown_materialisation_is_a_clear_error(history: History) -> None:
    with pytest.raises(lineage.LineageError, match="never been materialised"):
        lineage.select(history.instance, COMPARISON, "flight-delays@0000000")
    with pytest.raises(lineage.LineageError, match="by run nope"):
        lineage.select(history.instance, SCORES, "run:nope")


def test_cli_why_and_diff(history: History) -> None:
    runner = CliRunner()
    why = runner.invoke(
        app, ["why", "evaluation/arrival_delay/candidate_comparison", "--partition", history.key(1)]
    )
    assert why.exit_code == 0, why.output
    assert "(baseline) evaluation/arrival_delay/candidate_predictions" in why.output
    # A candidate key stands for its task's comparison of it.
    short = runner.invoke(app, ["why", history.key(1)])
    assert short.exit_code == 0, short.output
    assert short.output == why.output
    both = runner.invoke(app, ["why", history.key(1), "--partition", history.key(0)])
    assert both.exit_code != 0 and "drop --partition" in str(both.exception)
    diff = runner.invoke(
        app, ["diff", "evaluation/arrival_delay/candidate_scores", history.key(0), history.key(1)]
    )
    assert diff.exit_code == 0, diff.output
    assert "candidate_commit" in diff.output and history.shas[1] in diff.output
    same = runner.invoke(app, ["diff", "evaluation/arrival_delay/suites/train", "run:", "run:"])
    assert same.exit_code == 0 and "made the same way" in same.output

"""``clearlake leaderboard`` and ``clearlake candidates`` on the evaluated history."""

from evaluation_env import BROKEN, HANGING, Evaluated
from typer.testing import CliRunner

from clearlake.cli.main import app


def test_leaderboard_command(evaluated: Evaluated) -> None:
    result = CliRunner().invoke(app, ["leaderboard"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Task arrival_delay — mae on holdout (lower is better)" in result.output
    assert evaluated.key("flight-delays", 1) in result.output
    naive = evaluated.key("flight-delays", 0)  # the boosting improved on it, and says so
    assert f"improved vs {naive}" in result.output or f"passed vs {naive}" in result.output
    assert "leaderboards/arrival_delay.png" in result.output
    higher = CliRunner().invoke(app, ["leaderboard", "--metric", "within_15"], terminal_width=200)
    assert "within_15 on holdout (higher is better)" in higher.output
    unknown = CliRunner().invoke(app, ["leaderboard", "--metric", "accuracy"])
    assert unknown.exit_code != 0 and "No 'accuracy' scores" in str(unknown.exception)
    other = CliRunner().invoke(app, ["leaderboard", "--task", "nope"])
    assert other.exit_code != 0 and "Unknown task 'nope'" in str(other.exception)


def test_candidates_command_shows_verdicts_and_failures(evaluated: Evaluated) -> None:
    result = CliRunner().invoke(app, ["candidates"], terminal_width=200)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.replace("│", " ").split())  # cells wrap over lines
    assert "Gradient boosting" in text
    assert "mae for carrier=WN" in text, result.output
    assert "did not finish within" in text
    only = CliRunner().invoke(app, ["candidates", "--repo", HANGING], terminal_width=200)
    assert evaluated.key(HANGING, 0) in only.output and BROKEN not in only.output

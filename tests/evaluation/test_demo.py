"""``run_demo`` end to end on a fresh home: the loop a new user sees first."""

from pathlib import Path

import dagster as dg
import pytest
from typer.testing import CliRunner

from clearlake.cli.main import app
from clearlake.demo import run_demo
from clearlake.settings import load_settings

pytestmark = pytest.mark.slow


def test_demo_runs_the_whole_loop_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    for name in ("CLEARLAKE_LAKE_URL", "CLEARLAKE_SOURCE_URL", "CLEARLAKE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLEARLAKE_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    steps: list[str] = []
    printed: list[str] = []

    summary = run_demo(load_settings(), steps.append, output=printed.append)

    keys = [f"flight-delays@{sha[:7]}" for sha in summary.commits]
    assert len(keys) == 3
    assert summary.verdicts == {
        keys[0]: "no baseline",
        keys[1]: "improved",
        keys[2]: "no significant change",
    }
    assert "mae for carrier=WN" in summary.regressions[keys[2]]
    assert any(s.startswith("building the sample production database") for s in steps)
    assert any(s.startswith("replicating flights 2013-01-01..2013-03-31") for s in steps)
    text = printed[0]
    assert "Leaderboard:" in text and all(k in text for k in keys)
    assert f"{keys[2]}    no significant change — regressed: mae for carrier=WN" in text
    assert home / "reports" / "leaderboard.png" in summary.reports
    assert all(p.exists() for p in summary.reports)
    assert (home / "repos" / "flight-delays" / ".git").is_dir()

    instance = dg.DagsterInstance.get()
    assert sorted(instance.get_dynamic_partitions("candidates")) == sorted(keys)
    failed = {e.key for e in summary.evaluated if not e.success}
    assert keys[2] in failed  # blocked by the regression check ...
    assert [(r.key, r.success) for r in summary.reported] == [(keys[2], True)]
    page = home / "reports" / "candidate_report" / f"{keys[2]}.html"
    assert page in summary.reports and "regressed" in page.read_text()  # ... yet reported

    why = CliRunner().invoke(
        app, ["why", "evaluation/candidate_comparison", "--partition", keys[1]]
    )
    assert (
        why.exit_code == 0
        and f"(baseline) evaluation/candidate_predictions [{keys[0]}]" in why.output
    )

    again = run_demo(load_settings(), steps.append, output=printed.append)
    assert again.commits == summary.commits and again.evaluated == [] and again.reported == []
    assert again.verdicts == summary.verdicts

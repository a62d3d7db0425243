"""The gate on real runs: seed-only commits of a stochastic model pass, a crashed parent
never lets a bad commit through, and every surface shows the one stored outcome."""

from __future__ import annotations

import dagster as dg
import pytest
from evaluation_env import BROKEN_COMMITS, GATED, Environment, commit_all, stochastic
from typer.testing import CliRunner

from clearlake.cli.main import app
from clearlake.demo import loop
from clearlake.evaluation import gate, seeds
from clearlake.evaluation.candidates import CandidateKey
from clearlake.lake.json_records import read_json
from clearlake.names import comparison_key

TASK = "arrival_delay"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gated(environment: Environment) -> list[str]:
    commits = [
        stochastic("Stochastic boosting"),
        stochastic("Refactor: draw three values first", draws=3),
        BROKEN_COMMITS[0],  # crashes in fit
        stochastic("Offset every prediction by an hour", draws=3, offset=60.0),
    ]
    shas = commit_all(environment, GATED, commits)
    loop.run_until_quiet(environment.definitions, environment.instance, lambda _: None)
    return [str(CandidateKey.of(GATED, sha)) for sha in shas]


def outcome(env: Environment, key: str) -> gate.GateOutcome:
    found = gate.load_outcome(env.store, TASK, key)
    assert found is not None, f"no gate outcome for {key}"
    return found


def test_first_commit_is_blocked_when_the_repository_says_so(
    environment: Environment, gated: list[str]
) -> None:
    first = outcome(environment, gated[0])
    assert first.status == gate.BLOCKED and first.baseline is None
    assert first.headline().startswith("blocked (blocked): first commit")


def test_seed_only_change_of_a_stochastic_model_passes(
    environment: Environment, gated: list[str]
) -> None:
    second = outcome(environment, gated[1])
    assert second.status in (gate.PASSED, gate.GATE_INCONCLUSIVE), second.details()
    assert second.baseline == gated[0]
    assert second.seed_note.startswith(f"measured on 3 runs of {gated[0]}")
    spread = read_json(environment.store, seeds.spread_path(environment.store, TASK, gated[0]))
    assert spread is not None and spread["kind"] == "measured"


def test_crashed_parent_then_much_worse_commit_is_blocked(
    environment: Environment, gated: list[str]
) -> None:
    worse = outcome(environment, gated[3])
    assert worse.status == gate.BLOCKED
    assert worse.baseline == gated[1]
    assert "failed; compared with the nearest ancestor whose gate passed" in worse.baseline_note
    crashed = gated[2].split("@")[1]
    assert worse.baseline_via == f"nearest passing ancestor; parent {crashed} failed"
    assert any(r.metric == "mae" and r.subgroup == "overall" for r in worse.reasons)
    records = environment.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=comparison_key(TASK), asset_partitions=[gated[3]]),
        limit=1,
    ).records
    metadata = records[0].asset_materialization.metadata  # type: ignore[union-attr]
    assert metadata["gate"].value == gate.BLOCKED
    assert metadata["gate_summary"].value == worse.headline()
    run = environment.instance.get_run_by_id(records[0].run_id)
    assert run is not None and run.status == dg.DagsterRunStatus.FAILURE  # blocking check


def test_cli_surfaces_print_the_stored_headline(environment: Environment, gated: list[str]) -> None:
    worse = outcome(environment, gated[3])
    assert worse.headline().startswith("blocked vs ")
    shown = CliRunner().invoke(app, ["candidates", "--repo", GATED])
    assert shown.exit_code == 0, shown.output
    assert "blocked" in shown.output
    why = CliRunner().invoke(
        app, ["why", comparison_key(TASK).to_user_string(), "--partition", gated[3]]
    )
    assert why.exit_code == 0, why.output
    assert "gate: blocked vs" in why.output
    assert "minimum effects: mae 0.01x the baseline" in why.output

"""The gate's A/A calibration on real components: the shop's binary task, a real git
repository whose best model follows the seed contract, real Dagster runs (the evaluation
loop, `clearlake gate calibrate`, the gallery); and the trial arithmetic on its own."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest
from evaluation_env import SHOP_BASE_RATE, SHOP_REPO, SHOP_TASK, Shop, shop_environment
from typer.testing import CliRunner, Result

from clearlake.cli.main import app
from clearlake.demo import loop
from clearlake.demo.repos import SampleCommit, add_commit
from clearlake.evaluation import calibration, gate, seeds
from clearlake.evaluation.metrics import BUILTIN
from clearlake.evaluation.results import stored_frame
from clearlake.lake.json_records import read_json
from clearlake.names import GALLERY, calibration_schedule, gate_calibration_key
from clearlake.orchestration import runs
from clearlake.orchestration.code_location import load_definitions
from clearlake.project.config import TaskConfig
from clearlake.reports.gallery import read_tasks

BOOSTING = SampleCommit(
    "Boosting on amount and region, subsampled (takes the seed)",
    {
        "model.py": "import numpy as np\n"
        "from sklearn.ensemble import GradientBoostingClassifier\n\n"
        "class Model:\n"
        "    def _x(self, frame):\n"
        "        west = (frame['region'] == 'west').to_numpy(float)\n"
        "        return np.column_stack([frame['amount'].to_numpy(float), west])\n"
        "    def fit(self, train, seed=None):\n"
        "        self.model = GradientBoostingClassifier(\n"
        "            n_estimators=20, max_depth=2, subsample=0.5, random_state=seed\n"
        "        ).fit(self._x(train), train['returned'])\n"
        "    def predict(self, frame):\n"
        "        return self.model.predict_proba(self._x(frame))[:, 1]\n"
    },
)
KEY = gate_calibration_key(SHOP_TASK)
TRIALS = 4
"""The task's declared calibration.trials (the CLI's default)."""


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    home = tmp_path_factory.mktemp("calibration-home")
    declared = {"trials": TRIALS, "schedule": "0 4 * * 1"}
    with shop_environment(home, [SHOP_BASE_RATE, BOOSTING], calibration=declared) as env:
        yield env


@pytest.fixture(scope="module")
def calibrated(shop: Shop) -> Result:
    return CliRunner().invoke(app, ["gate", "calibrate", SHOP_TASK], terminal_width=200)


def test_calibrate_records_false_alarms_and_mde_per_subgroup(
    shop: Shop, calibrated: Result
) -> None:
    assert calibrated.exit_code == 0, calibrated.output
    champion = shop.keys[1]  # boosting beats the base rate on log loss: the best candidate
    assert f"{TRIALS} A/A trials of {champion}" in calibrated.output
    found = calibration.load(shop.store, KEY)
    assert found is not None and found.champion == champion and found.kind == "measured"
    assert found.seeds == [3, 4, 5, 6]  # after seed 0 and the two baseline seed runs
    assert found.fits == TRIALS and found.declared_level == pytest.approx(0.05)
    assert found.blocked <= 1 and found.subgroup_false_alarm_rate <= found.declared_level
    rows = {r.subgroup: r for r in found.subgroups}
    assert set(rows) == {
        "overall", "region=north", "region=south", "region=west",
        "basket=<50", "basket=[50, 150)", "basket=>=150",
    }  # fmt: skip
    assert all(np.isfinite(r.mde) and r.mde > 0 for r in rows.values())
    assert all(r.detects == (r.mde <= r.min_effect) for r in rows.values())
    assert not rows["region=west"].detects  # ~1,000 rows and seed noise: inconclusive there
    assert found.headline() in calibrated.output and "region=west" in calibrated.output
    # The baseline's seed spread the trials used is the cached one every verdict reuses.
    spread = read_json(shop.store, seeds.spread_path(shop.store, SHOP_TASK, champion))
    assert spread is not None and spread["kind"] == "measured"

    table = stored_frame(shop.store, KEY)
    assert table is not None and list(table.columns) == calibration.CALIBRATION_SCHEMA.names
    assert set(table["metric"]) == {"roc_auc", "log_loss", "brier"}
    assert (table["trials"] == TRIALS).all() and len(table) == 3 * len(rows)
    record = shop.instance.fetch_materializations(KEY, limit=1).records[0]
    metadata = record.asset_materialization.metadata  # type: ignore[union-attr]
    assert metadata["champion"].value == champion
    assert metadata["false_alarm_rate"].value == found.false_alarm_rate
    assert "region=west" in str(metadata["mde_per_subgroup"].value)
    assert metadata["dagster/row_count"].value == len(table)


def test_the_next_verdict_carries_the_calibrated_rate(shop: Shop, calibrated: Result) -> None:
    assert calibrated.exit_code == 0, calibrated.output
    found = calibration.load(shop.store, KEY)
    assert found is not None
    refactor = SampleCommit("Refactor", {**BOOSTING.files, "NOTES.md": "A refactor.\n"})
    sha = add_commit(shop.home / SHOP_REPO, refactor, timestamp=1_714_600_000)
    loop.run_until_quiet(shop.definitions, shop.instance, lambda _: None)
    outcome = gate.load_outcome(shop.store, SHOP_TASK, f"{SHOP_REPO}@{sha[:7]}")
    assert outcome is not None and outcome.false_alarm_rate == found.false_alarm_rate
    source = f"{found.blocked}/{TRIALS} A/A trials of {found.champion} blocked"
    rate = f"false-alarm rate {found.false_alarm_rate:.0%} ({source}, {found.calibrated_at[:10]})"
    assert outcome.headline().endswith(rate)
    assert outcome.seed_warning == ""  # it takes the seed and its seed runs differ


def test_a_second_calibration_refits_nothing(shop: Shop, calibrated: Result) -> None:
    assert calibrated.exit_code == 0, calibrated.output
    again = CliRunner().invoke(app, ["gate", "calibrate", SHOP_TASK, "--trials", "3"])
    assert again.exit_code == 0, again.output
    found = calibration.load(shop.store, KEY)
    assert found is not None and found.trials == 3 and found.fits == 0  # cached refits


def test_gallery_shows_the_calibration_next_to_the_task(shop: Shop, calibrated: Result) -> None:
    assert calibrated.exit_code == 0, calibrated.output
    made = runs.materialize(load_definitions(), shop.instance, [GALLERY])
    assert made.success, runs.failure_message(made)
    found = calibration.load(shop.store, KEY)
    assert found is not None
    page = (shop.home / "reports" / "index.html").read_text()
    section = page[page.index(f"<h2>{SHOP_TASK}") :]
    assert f"Gate calibration: {html.escape(found.headline())}" in section
    assert "<th>false alarms</th>" in section and "<th>MDE</th>" in section
    west = next(r for r in found.subgroups if r.subgroup == "region=west")
    assert html.escape(west.cells(found.trials)["MDE"]) in section
    # The Data API renders the gallery from what the build recorded: the same rows.
    recorded = read_tasks(shop.home / "reports")[SHOP_TASK]
    assert recorded.calibration == found.headline()
    assert list(recorded.calibration_rows) == found.table_rows()


def test_a_champion_without_seed_noise_is_said_so(shop: Shop, calibrated: Result) -> None:
    """The base rate takes no seed: its cached seed runs reproduced it, so nothing is refit."""
    base = shop.keys[0]
    shown = CliRunner().invoke(app, ["gate", "calibrate", SHOP_TASK, "--champion", base])
    assert shown.exit_code == 0, shown.output
    found = calibration.load(shop.store, KEY)
    assert found is not None and found.champion == base and found.kind == "identical"
    assert found.fits == 0 and found.blocked == 0 and found.trials == TRIALS
    assert "no false alarm possible, MDE not measurable" in found.headline()
    assert all(r.detects is None and not np.isfinite(r.mde) for r in found.subgroups)
    assert "not measurable" in shown.output


def test_a_declared_schedule_runs_the_calibration_job(shop: Shop) -> None:
    schedule = load_definitions().resolve_schedule_def(calibration_schedule(SHOP_TASK))
    assert schedule.cron_schedule == "0 4 * * 1"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "gate_calibration__returns"


def test_errors_name_the_tasks_and_what_to_do_first(
    shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown = CliRunner().invoke(app, ["gate", "calibrate", "nope"])
    assert unknown.exit_code != 0
    assert "Unknown task 'nope'" in str(unknown.exception) and SHOP_TASK in str(unknown.exception)
    never = CliRunner().invoke(app, ["gate", "calibrate", SHOP_TASK, "--champion", "x@0000000"])
    assert "champion x@0000000 has no stored predictions: evaluate it first" in str(never.exception)
    monkeypatch.setenv("CLEARLAKE_LAKE_URL", str(tmp_path / "empty-lake"))
    empty = CliRunner().invoke(app, ["gate", "calibrate", SHOP_TASK])
    message = str(empty.exception)
    assert message == (
        f"Cannot calibrate the gate of task {SHOP_TASK}: no evaluated candidate yet: evaluate "
        "one first (a commit to returns-model, or clearlake submit --repo REPO --commit SHA), "
        "then calibrate."
    )


# -- the trial arithmetic, on synthetic predictions -------------------------------------

TASK = TaskConfig.model_validate(
    {
        "dataset": "orders",
        "target": "amount",
        "type": "regression",
        "suites": {"train": {"start": "2024-01-01", "end": "2024-01-02"}, "holdout": {
            "start": "2024-01-03", "end": "2024-01-04"}},
        "metrics": ["mae"],
        "subgroups": ["region"],
        "verdict": {"bootstrap": {"samples": 100}, "multiplicity": "holm"},
    }
)  # fmt: skip
METRICS = [BUILTIN["regression"]["mae"]]


def predictions(rng: np.random.Generator, *, rows: int = 3000) -> pd.DataFrame:
    actual = rng.normal(50, 20, rows)
    return pd.DataFrame(
        {
            "row_id": [str(i) for i in range(rows)],
            "region": rng.choice(["north", "south", "west"], rows),
            "actual": actual,
            "prediction": actual + rng.normal(0, 10, rows),
        }
    )


@pytest.mark.parametrize(("harm", "blocked"), [(0.0, 0), (8.0, 3)])
def test_trials_count_what_the_gate_blocks(harm: float, blocked: int) -> None:
    """Reseeded runs move each prediction a little; ``harm`` adds error to region 'west'."""
    rng = np.random.default_rng(7)
    champion = predictions(rng)
    runs = []
    for _ in range(3):
        run = champion.assign(prediction=champion["prediction"] + rng.normal(0, 1, len(champion)))
        west = run["region"] == "west"
        run.loc[west, "prediction"] += harm * np.sign(run.loc[west, "prediction"] - run["actual"])
        runs.append(run)
    table, count = calibration.compare_trials(
        champion, runs, task=TASK, task_name="t", key="m@1a2b3c4", metrics=METRICS, spread=None
    )
    assert count == blocked
    rows = table.set_index("subgroup")
    assert rows.loc["west", "false_alarms"] == blocked
    assert rows.loc["north", "false_alarms"] == 0 and (rows["trials"] == 3).all()
    assert (rows["mde"] > 0).all() and np.isfinite(rows["mde"]).all()
    assert (rows["detects_min_effect"] == (rows["mde"] <= rows["min_effect"])).all()


def test_trial_seeds_follow_the_baseline_seed_runs() -> None:
    assert calibration.trial_seeds(TASK, 3) == [3, 4, 5]  # seed 0, spread runs 1-2
    declared = TASK.verdict.bootstrap.seed
    reseeded = calibration.with_bootstrap_seed(TASK, declared + 99)
    assert reseeded.verdict.bootstrap.seed == declared + 99
    assert TASK.verdict.bootstrap.seed == declared  # the task itself is left as declared

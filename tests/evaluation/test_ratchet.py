"""Baselines never ratchet: a regression split over two pushes is blocked like one push.

A real project (the shop's binary task), a real git repository, real sensor ticks and
Dagster runs: A improves on the base rate and passes; B is ~6% worse than A in log loss and
is blocked; C, pushed afterwards, is another ~5% worse than B. Compared with its blocked
parent B, C's own step is "only" 5%; compared with A — the nearest ancestor whose gate
passed — it is ~11% worse and must be blocked, with the headline naming why A.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from evaluation_env import SHOP_BASE_RATE, SHOP_REPO, SHOP_TASK, Shop, shop_environment
from flights_example.demo_repos import SampleCommit, add_commit

from clearlake.demo import loop
from clearlake.evaluation import gate
from clearlake.evaluation.results import stored_frame
from clearlake.names import comparison_key, scores_key
from clearlake.reports import candidate as candidate_report

pytestmark = pytest.mark.slow

MODEL = """import pandas as pd
from sklearn.linear_model import LogisticRegression

BLEND = {blend}


class Model:
    def _x(self, frame):
        x = pd.get_dummies(frame[['region']]).astype(float)
        x['amount'] = frame['amount'] / 100
        return x.reindex(columns=getattr(self, 'columns', x.columns), fill_value=0.0)

    def fit(self, train):
        x = self._x(train)
        self.columns = x.columns
        self.model = LogisticRegression().fit(x, train['returned'])

    def predict(self, frame):
        p = self.model.predict_proba(self._x(frame))[:, 1]
        return (1 - BLEND) * p + BLEND * 0.5
"""


def blended(message: str, blend: float) -> SampleCommit:
    return SampleCommit(message, {"model.py": MODEL.format(blend=blend)})


A = blended("Logistic regression", 0.0)
B = blended("Calibrate towards one half", 0.37)
C = blended("Calibrate further towards one half", 0.555)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    with shop_environment(tmp_path_factory.mktemp("ratchet"), [SHOP_BASE_RATE, A, B]) as env:
        sha = add_commit(env.home / SHOP_REPO, C, timestamp=1_714_557_600 + 3600 * 10)
        done = loop.run_until_quiet(env.definitions, env.instance, lambda _: None)
        env.outcomes.update({e.key: e for e in done})
        env.keys.append(f"{SHOP_REPO}@{sha[:7]}")
        yield env


def log_loss(shop: Shop, key: str) -> float:
    scores = stored_frame(shop.store, scores_key(SHOP_TASK), key)
    assert scores is not None
    row = scores[(scores["metric"] == "log_loss") & (scores["subgroup_kind"] == "overall")]
    return float(row["value"].iloc[0])


def outcome(shop: Shop, key: str) -> gate.GateOutcome:
    found = gate.load_outcome(shop.store, SHOP_TASK, key)
    assert found is not None, f"no gate outcome for {key}"
    return found


def test_the_pushes_regress_as_declared(shop: Shop) -> None:
    _, a, b, c = shop.keys
    step_b = log_loss(shop, b) / log_loss(shop, a) - 1
    step_c = log_loss(shop, c) / log_loss(shop, b) - 1
    assert 0.05 < step_b < 0.07 and 0.04 < step_c < 0.06, (step_b, step_c)


def test_a_passes_and_b_is_blocked_against_a(shop: Shop) -> None:
    base, a, b, _ = shop.keys
    assert outcome(shop, a).status == gate.PASSED and outcome(shop, a).baseline == base
    blocked = outcome(shop, b)
    assert blocked.status == gate.BLOCKED and blocked.baseline == a
    assert blocked.baseline_via == ""  # its parent passed: no replacement


def test_second_push_is_compared_with_the_last_passing_commit(shop: Shop) -> None:
    _, a, b, c = shop.keys
    second = outcome(shop, c)
    assert second.status == gate.BLOCKED, second.details()
    assert second.baseline == a
    assert second.headline().startswith(
        f"blocked vs {a} (nearest passing ancestor; parent {b.split('@')[1]} was blocked): "
    )
    assert any(r.metric == "log_loss" and r.subgroup == "overall" for r in second.reasons)
    overall = next(r for r in second.reasons if r.metric == "log_loss" and r.subgroup == "overall")
    assert overall.delta / log_loss(shop, a) > 0.09  # both steps, not the last one
    assert f"parent {b} was blocked" in second.baseline_note
    assert not shop.outcomes[c].success  # the blocking check failed C's run


def test_the_ignored_seed_and_the_missing_calibration_are_in_the_headline(shop: Shop) -> None:
    """The logistic regression takes no seed and its seed run reproduced it exactly."""
    for key in shop.keys[2:]:
        headline = outcome(shop, key).headline()
        assert f"; seed ignored: {SHOP_REPO}'s fit takes no seed and reproduced exactly" in headline
        assert headline.endswith(
            f"; false-alarm rate not calibrated (clearlake gate calibrate {SHOP_TASK})"
        )


def test_the_interval_says_its_kind_and_the_percentile_one_sits_beside_it(shop: Shop) -> None:
    b = shop.keys[2]
    frame = stored_frame(shop.store, comparison_key(SHOP_TASK), b)
    assert frame is not None
    shown = list(candidate_report.overall(frame, ["log_loss"]).columns)
    assert shown[shown.index("ci_high") + 1 : shown.index("ci_high") + 3] == [
        "boot_low",
        "boot_high",
    ]
    family = len(frame)
    label = f"simultaneous 95% normal interval over the family's {family} rows (Bonferroni z = "
    blocked = outcome(shop, b)
    assert blocked.interval.startswith(label) and "seed-inflated" in blocked.interval
    assert f"intervals: {blocked.interval}" in blocked.details()
    assert "(simultaneous CI " in blocked.reasons[0].text()
    assert (frame["boot_low"] <= frame["delta"]).all() and (
        frame["delta"] <= frame["boot_high"]
    ).all()
    # Simultaneous over the family: wider than each row's own percentile interval.
    assert ((frame["ci_high"] - frame["ci_low"]) >= (frame["boot_high"] - frame["boot_low"])).all()

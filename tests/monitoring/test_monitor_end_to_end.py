"""A monitor on a seeded stochastic model over 75 days, driven by real Dagster runs: a
degradation in one subgroup is told once when it opens and once when it ends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from clearlake.api.app import create_app
from clearlake.api.config import load_api_config
from clearlake.api.tokens import issue_token
from clearlake.cli.main import app
from clearlake.monitoring import storage
from clearlake.names import (
    monitor_performance_key,
    monitor_predictions_key,
    monitor_status_key,
)
from clearlake.orchestration import runs
from clearlake.settings import load_settings
from tests.api.live_api import MASK_KEY, app_in_thread
from tests.monitoring.monitor_env import TASK, Monitored, monitored, receiver

PREDICTIONS, PERFORMANCE, STATUS = (
    monitor_predictions_key(TASK),
    monitor_performance_key(TASK),
    monitor_status_key(TASK),
)


def monitor(url: str, **fields: Any) -> dict[str, Any]:
    return {
        "watch": "returns-model:main",
        "label_delay_days": 1,
        "reference": {"suite": "holdout"},
        "min_relative_effect": 0.2,
        "drift": {"columns": ["amount", "region"]},
        "notifiers": [{"kind": "webhook", "url": url}],
        **fields,
    }


def step(env: Monitored, first: int, last: int) -> Any:
    """Days ``first..last`` predicted (one run), labelled up to ``last - 1``, status."""
    for key, a, b in ((PREDICTIONS, first, last), (PERFORMANCE, max(first - 1, 28), last - 1)):
        if b >= a:
            done = env.run(key, a, b)
            assert done.success, runs.failure_message(done)
    status = env.run(STATUS)
    assert status.success
    return storage.load_status(env.store, TASK)


def loss(frame: pd.DataFrame, metric: str) -> np.ndarray[Any, Any]:
    p = np.clip(frame["prediction"].to_numpy(dtype=float), 1e-15, 1 - 1e-15)
    y = frame["actual"].to_numpy(dtype=float)
    if metric == "brier":
        return (p - y) ** 2
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def test_one_alert_when_a_subgroup_degrades_and_one_when_it_recovers(tmp_path: Path) -> None:
    with (
        receiver() as hook,
        monitored(tmp_path, monitor(hook.url), flip_west=(40, 53), unlabelled=(66,)) as env,
    ):
        first = step(env, 28, 39)
        assert hook.received == [] and first["open"] == []
        assert first["watched"] == f"returns-model@{env.sha[:7]}"
        assert first["first_day"] == env.day(28).isoformat() and first["days"] == 11
        assert {d["column"] for d in first["drift"]} == {"prediction", "amount", "region"}

        degraded = step(env, 40, 55)
        assert len(hook.received) == 1, [m["text"] for m in hook.received]
        opened = hook.received[0]
        assert opened["clearlake"]["event"] == "opened"
        assert "degraded for region=west since" in opened["text"]
        assert "welch z on per-row losses" in opened["text"]
        assert "mix shift by region" in opened["text"]
        assert [e["where"] for e in degraded["open"]] == ["region=west"]
        episode = opened["clearlake"]["episode"]
        assert env.day(40).isoformat() <= episode["opened"] <= env.day(46).isoformat()

        # The decomposition, by hand, from the stored rows of the evidence's window.
        split = episode["decomposition"]
        days = pd.date_range(split["window_start"], split["window_end"]).strftime("%Y-%m-%d")
        window = storage.read_days(
            env.store, storage.monitor_table(TASK, "performance"), list(days)
        )
        reference = env.store.read_table(
            storage.reference_file(env.store, TASK, episode_model(env))
        ).to_pandas()
        metric = split["metric"]
        ref_loss = pd.Series(loss(reference, metric)).groupby(reference["region"]).mean()
        mix = window["region"].value_counts(normalize=True)
        assert split["reference"] == pytest.approx(loss(reference, metric).mean())
        assert split["reweighted_reference"] == pytest.approx(float((mix * ref_loss).sum()))
        assert split["new"] == pytest.approx(loss(window, metric).mean())
        assert split["within_subgroups"] > 5 * abs(split["mix_shift"])

        env.restart()  # a restarted daemon: the state is in the lake, nothing is re-sent
        assert env.run(STATUS).success
        assert len(hook.received) == 1

        recovered = step(env, 56, 74)
        assert [m["clearlake"]["event"] for m in hook.received] == ["opened", "resolved"]
        assert "resolved for region=west" in hook.received[1]["text"]
        assert recovered["open"] == []
        assert recovered["last_day"] == env.day(73).isoformat()

        # The unlabelled day: a warning, an empty day, no scores.
        assert not env.store.exists(
            storage.day_file(
                env.store,
                storage.monitor_table(TASK, "performance"),
                env.day(66).isoformat(),
                storage.DAY_FILE_SCORES,
            )
        )
        assert env.day(66).isoformat() not in {s["day"] for s in recovered["scores"]}

        views(env)


POLICY = """\
version: 1
classes: [public]
default_class: public
reports: authenticated
datasets:
  orders: {default_class: public}
  other: {default_class: public}
roles:
  analyst: {datasets: [orders], classes: {public: allow}}
  outsider: {datasets: [other], classes: {public: allow}}
"""


def views(env: Monitored) -> None:
    """The same status through the CLI, the gallery page and the Data API."""
    shown = CliRunner().invoke(app, ["monitor", TASK], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    assert f"watching returns-model@{env.sha[:7]}" in shown.output
    assert "open alerts: none" in shown.output and "drift of" in shown.output
    as_json = json.loads(CliRunner().invoke(app, ["monitor", TASK, "--json"]).output)
    assert [e["status"] for e in as_json["alerts"]["episodes"]] == ["resolved"]

    settings = load_settings()
    page = settings.reports_root / "monitoring" / TASK / "index.html"
    assert "Monitor of returns" in page.read_text()
    assert (page.parent / "log_loss.png").stat().st_size > 1000
    assert "region=west@" in page.read_text()
    assert "Latest decision (longest window)" in page.read_text()

    policy = env.home / "policy.yaml"
    policy.write_text(POLICY)
    tokens = env.home / "tokens.yaml"
    analyst = issue_token(tokens, principal="ada", roles=["analyst"])
    outsider = issue_token(tokens, principal="eve", roles=["outsider"])
    api_settings = load_settings(
        {
            "CLEARLAKE_HOME": str(env.home),
            "CLEARLAKE_LAKE_URL": env.store.url,
            "CLEARLAKE_CONFIG": str(env.project.path),
            "CLEARLAKE_API_POLICY": str(policy),
            "CLEARLAKE_API_TOKENS_FILE": str(tokens),
            "CLEARLAKE_API_MASK_KEY": MASK_KEY,
        }
    )
    with app_in_thread(create_app(load_api_config(api_settings))) as url:
        path = f"{url}/v1/monitors/{TASK}"
        assert httpx.get(path).status_code == 401
        refused = httpx.get(path, headers={"Authorization": f"Bearer {outsider}"})
        assert refused.status_code == 403 and "not granted to 'eve'" in refused.json()["detail"]
        got = httpx.get(path, headers={"Authorization": f"Bearer {analyst}"})
        assert got.status_code == 200
        episodes = got.json()["alerts"]["episodes"]
        assert [(e["subgroup"], e["delivered"]) for e in episodes] == [
            ("west", ["opened", "resolved"])
        ]
        unknown = httpx.get(
            f"{url}/v1/monitors/nope", headers={"Authorization": f"Bearer {analyst}"}
        )
        assert unknown.status_code == 404
        image = httpx.get(
            f"{url}/reports/monitoring/{TASK}/log_loss.png",
            headers={"Authorization": f"Bearer {outsider}"},
        )
        assert image.status_code == 403


def episode_model(env: Monitored) -> str:
    return f"returns-model@{env.sha[:7]}"


def test_a_watched_commit_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    gone = monitor("http://127.0.0.1:9/none", watch="returns-model@deadbee")
    with monitored(tmp_path, gone) as env:
        done = env.run(PREDICTIONS, 28, 28)
        assert not done.success
        text = runs.failure_message(done)
        assert (
            "Monitor of task returns: the watched model 'returns-model@deadbee' cannot be found "
            "(Repository 'returns-model' has no commit 'deadbee'"
        ) in text
        assert "\n" not in text and "Fix `monitor.watch`" in text


def test_sixty_two_stable_days_raise_no_alert(tmp_path: Path) -> None:
    with receiver() as hook, monitored(tmp_path, monitor(hook.url), days=91, rows=250) as env:
        for key, first, last in ((PREDICTIONS, 28, 90), (PERFORMANCE, 28, 89)):
            done = env.run(key, first, last)  # a backlog: one run, one runner call
            assert done.success, runs.failure_message(done)
        assert env.run(STATUS).success
        status = storage.load_status(env.store, TASK)
        assert status is not None and status["days"] == 62
        assert status["last_decision"] == env.day(89).isoformat()
        assert status["open"] == [] and hook.received == []
        assert storage.load_state(env.store, TASK).episodes == []


def test_labelling_a_day_without_predictions_is_one_line(tmp_path: Path) -> None:
    with monitored(tmp_path, monitor("http://127.0.0.1:9/none")) as env:
        done = env.run(PERFORMANCE, 30, 30)
        assert not done.success
        assert runs.failure_message(done).endswith(
            "Monitor of task returns: day 2024-03-31 has no predictions yet: materialise "
            "monitor/returns/predictions for it first (automation does, once the day's "
            "features exist)"
        )

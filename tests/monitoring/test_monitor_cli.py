"""``clearlake monitor TASK``: a clear line when there is nothing to show yet."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from clearlake.cli.main import app
from clearlake.cli.monitor import show
from clearlake.errors import ClearlakeError
from tests.evaluation.evaluation_env import SHOP_PROJECT, SHOP_REPO, SHOP_TASK


def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, monitored: bool) -> None:
    raw = copy.deepcopy(SHOP_PROJECT)
    raw["repositories"] = [
        {"name": SHOP_REPO, "task": SHOP_TASK, "location": "/nowhere", "entrypoint": "m:M"}
    ]
    if monitored:
        raw["tasks"][SHOP_TASK]["monitor"] = {"reference": {"suite": "holdout"}}
    path = tmp_path / "clearlake.yaml"
    path.write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("CLEARLAKE_CONFIG", str(path))
    monkeypatch.setenv("CLEARLAKE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CLEARLAKE_LAKE_URL", str(tmp_path / "lake"))


@pytest.mark.parametrize(
    ("monitored", "message"),
    [
        (False, r"^Task returns declares no `monitor:`: add one to .*clearlake\.yaml"),
        (
            True,
            r"^Task returns has no monitor status yet: declare `monitor:` for it and materialise "
            r"monitor/returns/status",
        ),
    ],
)
def test_nothing_to_show_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, monitored: bool, message: str
) -> None:
    project(tmp_path, monkeypatch, monitored=monitored)
    result = CliRunner().invoke(app, ["monitor", SHOP_TASK])
    assert isinstance(result.exception, ClearlakeError)
    with pytest.raises(ClearlakeError, match=message):
        raise result.exception


def test_the_summary_names_inconclusive_subgroups_with_their_mde(
    capsys: pytest.CaptureFixture[str],
) -> None:
    test = {
        "window_days": 28,
        "metric": "log_loss",
        "subgroup_kind": "region",
        "subgroup": "west",
        "state": "inconclusive",
        "mde": 0.081,
        "min_effect": 0.0052,
        "n_recent": 640,
    }
    found = {
        "task": "returns",
        "watched": "returns-model@1234567",
        "days": 30,
        "first_day": "2024-03-29",
        "last_day": "2024-04-27",
        "last_decision": "2024-04-27",
        "tests": [test, {**test, "subgroup": "north", "state": "stable"}],
        "alerts": {"episodes": [], "watched": "returns-model@1234567"},
        "method": "Trailing windows",
    }
    show(found)
    out = capsys.readouterr().out
    assert "monitor returns: watching returns-model@1234567; 30 day(s) labelled" in out
    assert (
        "inconclusive over 28 days: log_loss for region=west (minimum detectable effect "
        "0.081 > minimum effect 0.0052, n=640)"
    ) in out
    assert "north" not in out and "open alerts: none" in out

"""``monitor:`` of a task: validated with errors naming the key and the fix."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from clearlake.project.load import ProjectError, parse_project
from tests.evaluation.evaluation_env import SHOP_PROJECT, SHOP_REPO, SHOP_TASK


def project(monitor: dict[str, Any], **source: Any) -> dict[str, Any]:
    raw = copy.deepcopy(SHOP_PROJECT)
    raw["tasks"][SHOP_TASK]["monitor"] = monitor
    raw["sources"]["orders"]["partition"].update(source)
    raw["repositories"] = [
        {"name": SHOP_REPO, "task": SHOP_TASK, "location": "/nowhere", "entrypoint": "m:M"}
    ]
    return raw


def parse(raw: dict[str, Any]) -> Any:
    return parse_project(raw, path=Path("/p/clearlake.yaml"))


def test_a_valid_monitor_with_defaults() -> None:
    loaded = parse(project({"reference": {"suite": "holdout"}, "label_delay_days": 2}))
    monitor = loaded.task(SHOP_TASK).monitor
    assert monitor.watch == "champion" and monitor.cadence == "day"
    assert monitor.windows == [1, 2, 4, 8, 16, 28] and monitor.decisions == 90
    weekly = parse(project({"reference": {"suite": "holdout"}, "cadence": "week"}))
    assert weekly.task(SHOP_TASK).monitor.decisions == 13


@pytest.mark.parametrize(
    ("monitor", "source", "message"),
    [
        (
            {"reference": {"suite": "holdout"}, "watch": "other@1234567"},
            {},
            r"tasks\.returns\.monitor\.watch: repository 'other' is not evaluated on task returns",
        ),
        (
            {"reference": {"suite": "holdout"}, "watch": "not a model"},
            {},
            r"watch: Value error|watch 'not a model': use `champion`, `repo@sha`",
        ),
        (
            {"reference": {"suite": "nope"}},
            {},
            r"monitor\.reference\.suite: 'nope' is not a suite of task returns",
        ),
        (
            {"reference": {"start": "2024-02-01", "end": "2024-03-10"}},
            {},
            r"monitor\.reference: window 2024-02-01\.\.2024-03-10 lies outside feature table "
            r"returns \(2024-03-01\.\.open-ended\)",
        ),
        (
            {"reference": {"suite": "holdout"}, "label_delay_days": 60},
            {"last_day": "2024-04-20"},
            r"monitor\.label_delay_days: 60 days is longer than feature table returns's 51 days",
        ),
        (
            {"reference": {"suite": "holdout"}, "subgroups": ["country"]},
            {},
            r"monitor\.subgroups\[0\]: 'country' is not a subgroup of task returns "
            r"\(subgroups: region, basket\)",
        ),
        (
            {"reference": {"suite": "holdout"}, "metrics": ["mae"]},
            {},
            r"monitor\.metrics\[0\]: 'mae' is not a metric of task returns",
        ),
        (
            {"reference": {"suite": "holdout"}, "drift": {"columns": ["colour"]}},
            {},
            r"monitor\.drift\.columns\[0\]: 'colour' is not a column of feature table returns",
        ),
        (
            {
                "reference": {"suite": "holdout"},
                "notifiers": [{"kind": "github", "repository": "a/b"}],
            },
            {},
            r"a github notifier posts commit statuses; a monitor alert is about a model in "
            r"production, not a commit: use `kind: webhook`",
        ),
        (
            {"reference": {"suite": "holdout", "start": "2024-03-01"}},
            {},
            r"declare the reference as `\{start, end\}` or as `\{suite: name\}`",
        ),
        (
            {"reference": {"suite": "holdout"}, "windows": [4, 2]},
            {},
            r"windows \[4, 2\] must be increasing whole days",
        ),
        (
            {"reference": {"suite": "holdout"}, "cadense": "day"},
            {},
            r"monitor\.cadense: unknown key",
        ),
    ],
)
def test_monitor_errors_name_the_key(
    monitor: dict[str, Any], source: dict[str, Any], message: str
) -> None:
    with pytest.raises(ProjectError, match=message):
        parse(project(monitor, **source))

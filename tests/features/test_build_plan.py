"""``clearlake build``'s plan on a real (empty) lake and instance, without running it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest
from live_project import LAST_DAY, day, write_project

from clearlake.lake.store import LakeStore
from clearlake.lake.tables import LakeTable
from clearlake.orchestration.build import plan, ranges


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ([], []),
        ([1], [(1, 1)]),
        ([3, 1, 2], [(1, 3)]),
        ([1, 2, 4, 6, 7], [(1, 2), (4, 4), (6, 7)]),
    ],
)
def test_ranges_are_the_consecutive_runs(days: list[int], expected: list[tuple[int, int]]) -> None:
    assert ranges([day(n) for n in days]) == [(day(a), day(b)) for a, b in expected]


def test_the_plan_never_goes_past_the_sources_newest_day(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", with_task=True, rolling=True)
    lake = LakeStore(str(tmp_path / "lake"))
    (tmp_path / "dagster").mkdir()
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "dagster"))
    newest: dict[str, dt.date | None] = {"orders": day(2)}

    def newest_day(table: LakeTable) -> dt.date | None:
        return newest[table.name]

    found = plan(project, lake, instance, newest_day)
    assert [s.what for s in found.steps] == [
        "lake/orders 2024-03-01..2024-03-03",
        "lake/zones (snapshot)",
        "features/order_features 2024-03-01..2024-03-03",
        "evaluation/returns/suites/recent [2024-03-04] (window 2024-03-01..2024-03-03)",
    ]
    assert found.waiting == [
        "evaluation/returns/suites/holdout waits for order_features through 2024-03-08",
        "evaluation/returns/suites/train waits for order_features through 2024-03-05",
    ]
    early = plan(project, lake, instance, newest_day, through=day(0))
    assert early.steps[0].what == "lake/orders 2024-03-01"

    newest["orders"] = None  # an empty source table: nothing of it, nothing after it
    assert [s.what for s in plan(project, lake, instance, newest_day).steps] == [
        "lake/zones (snapshot)"
    ]
    newest["orders"] = LAST_DAY + dt.timedelta(days=30)  # never past the declared last day
    assert plan(project, lake, instance, newest_day).steps[0].days == (day(0), LAST_DAY)

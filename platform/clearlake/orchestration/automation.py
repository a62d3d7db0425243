"""When lake-day-driven assets run by themselves: Dagster's declarative automation.

Every daily asset downstream of the lake (feature tables, rolling suites, the monitors)
uses :func:`new_days`, so a new lake day flows on through the graph per partition with no
command, and a re-read day whose content did not change recomputes nothing.

Why not ``AutomationCondition.eager()``: its ``newly_missing`` fires when a partition
*appears* (midnight, or never for a frozen sample), not when the day's inputs arrive, and
its state resets on the first evaluation and whenever the condition is redeployed, so a
day can be forgotten; ``any_deps_updated`` re-runs a day whose input was re-written with
the same content. Here the trigger is a state change of the day itself ("missing, and
every input now exists") or a new *data version* of an input, remembered until the day
is requested or materialised (tests/features/test_new_days_flow.py holds it to this). A
day whose run failed is not requested again by itself (no retry storm every tick):
``clearlake build`` or the UI re-runs it. A redeployed condition starts with no memory, so
its first evaluation requests every ready missing day of the backlog window once.

Snapshot (unpartitioned) inputs: a feature day needs them to exist and waits while one is
being written, but a new version of a snapshot does not re-run the days already built
(it would re-run every day of the backlog window at once); the days after it use it, and
Dagster shows the older days as unsynced — ``clearlake build`` does not rebuild them
either; re-materialise them from the UI when the snapshot matters for the past.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import dagster as dg

BACKLOG_DAYS = 31
"""How far back automation fills a missing day by itself; older gaps are
``clearlake build``'s job (a newcomer's first load, a fresh cluster)."""


def new_days(
    *, backlog_days: int = BACKLOG_DAYS, snapshots: Sequence[dg.AssetKey] = ()
) -> dg.AutomationCondition[Any]:
    """A daily partition runs once every partition it reads exists, and again when one of
    them publishes a new *data version* (same content: no run). Never while it or one of
    its inputs is running. ``snapshots``: unpartitioned inputs whose new versions do not
    re-run existing days (see the module's docstring)."""
    condition = dg.AutomationCondition
    handled = (condition.newly_requested() | condition.newly_updated()).with_label("handled")
    became_ready = (condition.missing() & ~condition.any_deps_missing()).newly_true()
    changed = condition.any_deps_match(condition.data_version_changed())
    if snapshots:
        changed = changed.ignore(dg.AssetSelection.assets(*snapshots))
    return (
        condition.in_latest_time_window(dt.timedelta(days=backlog_days))
        & (
            became_ready.with_label("inputs complete")
            | changed.with_label("an input's data version changed")
        ).since(handled)
        & ~condition.any_deps_missing()
        & ~condition.any_deps_in_progress()
        & ~condition.in_progress()
    ).with_label("new lake day")

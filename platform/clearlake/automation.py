"""When lake-day-driven assets run by themselves: Dagster's declarative automation.

Every daily asset downstream of the lake (feature tables, rolling suites, the monitors)
uses :func:`new_days`, so a new lake day flows on through the graph per partition with no
command, and a re-read day whose content did not change recomputes nothing.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

BACKLOG_DAYS = 31
"""How far back automation fills a missing day by itself; older gaps are
``clearlake build``'s job (a newcomer's first load, a fresh cluster)."""


def new_days(
    *, backlog_days: int = BACKLOG_DAYS
) -> dg.AutomationCondition[dg.AssetKey | dg.AssetCheckKey]:
    """A daily partition runs once every partition it reads exists, and again when one of
    them publishes a new *data version* (same content: no run). Never while it or one of
    its inputs is running."""
    changed = dg.AutomationCondition.any_deps_match(dg.AutomationCondition.data_version_changed())
    return (
        dg.AutomationCondition.in_latest_time_window(dt.timedelta(days=backlog_days))
        & (dg.AutomationCondition.newly_missing() | changed).since_last_handled()
        & ~dg.AutomationCondition.any_deps_missing()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ).with_label("new lake day")

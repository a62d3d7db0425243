"""Paths inside every Clearlake pod on the cluster.

The chart defines them once, in ``templates/_helpers.tpl`` (``clearlake.home``,
``clearlake.reportsRoot``); these constants let the values models check the ``dagster:``
subtree, which spells paths literally. tests/helm renders the chart and keeps the two equal.
"""

from __future__ import annotations

from pathlib import PurePosixPath

CLUSTER_HOME = PurePosixPath("/tmp/clearlake")
"""CLEARLAKE_HOME of every Clearlake pod, on its /tmp emptyDir (read-only root filesystem)."""

REPORTS_ROOT = CLUSTER_HOME / "reports"
"""``Settings.reports_root`` on the cluster: where the shared reports volume is mounted."""

"""Partitions shared by every domain: days of the lake, candidates of evaluation."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from clearlake.lake.tables import FIRST_DAY, LAST_DAY

daily_partitions_def = dg.DailyPartitionsDefinition(
    start_date=FIRST_DAY.isoformat(),
    end_date=(LAST_DAY + dt.timedelta(days=1)).isoformat(),
)
"""One partition per calendar day of the sample year (2013)."""

CANDIDATES = "candidates"
candidate_partitions_def = dg.DynamicPartitionsDefinition(name=CANDIDATES)
"""One partition per algorithm version: ``<repo>@<short sha>[~<param hash>]``."""

DROPS = "drops"
drop_partitions_def = dg.DynamicPartitionsDefinition(name=DROPS)
"""One partition per dropped file: ``<dataset>/<drop time>-<content hash>``."""

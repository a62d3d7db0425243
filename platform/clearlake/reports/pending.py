"""Which candidates still need their reports: the follow-up behind the regression-report sensor.

A task's ``candidate_comparison`` has a blocking check: a significant regression fails the
run after the comparison is stored, so the task's candidate reports are skipped in that
run, for exactly the commits people most need a report for. A follow-up run renders them
from the stored comparison (nothing is evaluated again). Shared by the sensor (daemon)
and the in-process demo loop, so both decide the same way. Keys are passed in: the
definitions own them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

BATCH = 200
"""Comparison materialisations read per tick (the cursor resumes after the last one)."""


@dataclass(frozen=True)
class PendingReport:
    """A candidate whose newest comparison has no report made after it."""

    partition: str
    comparison_storage_id: int
    comparison_run_id: str

    @property
    def run_key(self) -> str:
        """Once per comparison materialisation: a re-evaluation gets its own report run."""
        return f"{self.partition}:{self.comparison_storage_id}"


@dataclass(frozen=True)
class PendingReports:
    reports: list[PendingReport] = field(default_factory=list)
    cursor: int | None = None
    """Storage id of the last comparison decided on (``None``: nothing seen yet)."""


def parse_cursor(cursor: str | None) -> int | None:
    return int(cursor) if cursor else None


def _latest(instance: dg.DagsterInstance, key: dg.AssetKey, partition: str) -> int | None:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition]), limit=1
    ).records
    return records[0].storage_id if records else None


def _report_failed_in(instance: dg.DagsterInstance, run_id: str, report: dg.AssetKey) -> bool:
    """The report step ran in the comparison's run and failed: re-running would not help."""
    step = "__".join(report.path)
    failures = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    return any(entry.step_key == step for entry in failures)


def pending_reports(
    instance: dg.DagsterInstance,
    *,
    comparison: dg.AssetKey,
    report: dg.AssetKey,
    after: int | None,
) -> PendingReports:
    """Candidates whose ``comparison`` (stored after ``after``) has no newer ``report``.

    Only comparisons whose run has finished are decided: while a run is under way its own
    report step may still come, so the cursor stops before the first unfinished one.
    Superseded comparisons (a newer one exists for the partition) are passed over.
    """
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=comparison, after_storage_id=after),
        limit=BATCH,
        ascending=True,
    ).records
    found: list[PendingReport] = []
    cursor = after
    for record in records:
        run = instance.get_run_by_id(record.run_id)
        if run is not None and not run.is_finished:
            break
        cursor = record.storage_id
        partition = record.partition_key
        if partition is None or _latest(instance, comparison, partition) != record.storage_id:
            continue
        made = _latest(instance, report, partition)
        if made is not None and made > record.storage_id:
            continue
        if _report_failed_in(instance, record.run_id, report):
            continue
        found.append(PendingReport(partition, record.storage_id, record.run_id))
    return PendingReports(found, cursor)

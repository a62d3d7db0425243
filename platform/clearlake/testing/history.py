"""Synthesised history: what years of use leave behind, written in seconds.

A long-lived Clearlake holds years of lake days and thousands of candidates. Tests and
benchmarks that ask "does one new day (or commit) cost the same in a five-year lake as in a
one-month lake?" need that history without replaying it. This module writes the same
artefacts and the same Dagster records a real run writes, through the same code paths
where they are cheap and through Dagster's public APIs where a run would be slow:

* **lake days** (:func:`synthesise_lake_days`): each day's Parquet file through
  :meth:`LakeStore.write` (so its manifest too) and its materialisation through
  ``instance.report_runless_asset_event`` with the metadata replication records
  (``path``, ``dagster/row_count``, ``bytes``, ``content_hash``, ``empty``,
  ``source_newest_day``);
* a **source** (:func:`source_database`) holding the next days in SQLite, so the new day
  itself is replicated by the real asset;
* **candidates** (:func:`synthesise_candidates`): the task's dynamic partitions
  (``add_dynamic_partitions``, one call), each candidate's scores and comparison Parquet
  (through the store, as the IO manager writes them), its gate record and commit record
  (JSON, as evaluation writes them), the materialisations of its scores and comparison,
  and its rows of the task's candidate index (one loose file per call, compacted when the
  index did not exist yet — the state of a running installation; ``index=False`` leaves a
  lake written before the index existed).
  Predictions are not written (no step that reads the history reads them).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa

from clearlake.evaluation import candidate_index, gate
from clearlake.evaluation.candidates import save_commit_info
from clearlake.evaluation.git import CommitInfo
from clearlake.evaluation.scoring import COMPARISON_SCHEMA, SCORES_SCHEMA
from clearlake.lake.metadata import written_metadata
from clearlake.lake.records import EMPTY, SOURCE_NEWEST_DAY
from clearlake.lake.store import LakeStore, date_partition
from clearlake.lake.tables import LakeTable
from clearlake.names import (
    candidate_partitions_name,
    comparison_key,
    lake_key,
    scores_key,
)
from clearlake.project.arrow_types import type_name

EVENTS_SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.int64(), nullable=False),
        pa.field("event_day", pa.date32(), nullable=False),
        pa.field("amount", pa.float64()),
    ]
)


def events_table(first_day: dt.date, name: str = "events") -> LakeTable:
    """A small open-ended daily table (what a project's ``sources:`` would declare)."""
    return LakeTable(
        name=name,
        schema=EVENTS_SCHEMA,
        description="Synthesised events, one partition a day.",
        key_columns=("event_id",),
        partition_column="event_day",
        first_day=first_day,
    )


def source_config(table: LakeTable) -> dict[str, object]:
    """``table`` as a project's ``sources:`` entry (to build a project around it)."""
    assert table.partition_column is not None and table.first_day is not None
    return {
        "partition": {"column": table.partition_column, "first_day": table.first_day.isoformat()},
        "keys": list(table.key_columns),
        "columns": {
            f.name: type_name(f.type) + ("" if f.nullable else " not null") for f in table.schema
        },
    }


def days_from(first: dt.date, count: int) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range(count)]


def day_rows(day: dt.date, rows: int) -> pa.Table:
    """``rows`` events of ``day`` (ids unique across days, same counts every day)."""
    base = day.toordinal() * 100_000
    return pa.table(
        {
            "event_id": pa.array(range(base, base + rows), pa.int64()),
            "event_day": pa.array([day] * rows, pa.date32()),
            "amount": pa.array([float(i % 97) for i in range(rows)], pa.float64()),
        },
        schema=EVENTS_SCHEMA,
    )


def synthesise_lake_days(
    instance: dg.DagsterInstance,
    store: LakeStore,
    table: LakeTable,
    days: Sequence[dt.date],
    *,
    rows: int = 40,
) -> None:
    """Publish ``days`` of ``table`` and record each as replication would."""
    newest = max(days).isoformat()
    for day in days:
        data = day_rows(day, rows)
        written = store.write(table.name, date_partition(day), data.schema, data.to_batches())
        metadata = {
            **written_metadata(written),
            EMPTY: written.row_count == 0,
            SOURCE_NEWEST_DAY: newest,
        }
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                lake_key(table.name), partition=day.isoformat(), metadata=metadata
            )
        )


def source_database(
    path: Path, table: LakeTable, days: Sequence[dt.date], *, rows: int = 40
) -> str:
    """A SQLite production database holding ``days`` of ``table``; returns its URL."""
    assert table.partition_column is not None
    with sqlite3.connect(path) as conn:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {table.name} "
            f"(event_id INTEGER PRIMARY KEY, {table.partition_column} DATE NOT NULL, amount REAL)"
        )
        conn.execute(
            f"CREATE INDEX IF NOT EXISTS {table.name}_day ON {table.name} "
            f"({table.partition_column})"
        )
        for day in days:
            data = day_rows(day, rows).to_pydict()
            conn.executemany(
                f"INSERT OR REPLACE INTO {table.name} VALUES (?, ?, ?)",
                zip(
                    data["event_id"],
                    [d.isoformat() for d in data["event_day"]],
                    data["amount"],
                    strict=True,
                ),
            )
    return f"sqlite:///{path}"


# -- candidates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CandidateHistory:
    task: str
    repo: str
    keys: list[str]


def candidate_shas(repo: str, count: int, start: int = 0) -> Iterator[str]:
    """Deterministic 40-hex shas, distinct for each index."""
    for i in range(start, start + count):
        yield hashlib.sha1(f"{repo}:{i}".encode()).hexdigest()


def _scores(i: int, metric: str) -> pa.Table:
    value = 10.0 + (i % 13) / 10
    return pa.table(
        {
            "metric": [metric, metric],
            "subgroup_kind": ["overall", "origin"],
            "subgroup": ["all", "JFK"],
            "value": [value, value + 1],
            "ci_low": [value - 0.2, value + 0.7],
            "ci_high": [value + 0.2, value + 1.3],
            "n_rows": [2000, 700],
        },
        schema=SCORES_SCHEMA,
    )


def _comparison(i: int, metric: str) -> pa.Table:
    value = 10.0 + (i % 13) / 10
    row = {
        "metric": metric,
        "subgroup_kind": "overall",
        "subgroup": "all",
        "candidate_value": value,
        "baseline_value": value + 0.05,
        "delta": -0.05,
        "ci_low": -0.2,
        "ci_high": 0.1,
        "boot_low": -0.2,
        "boot_high": 0.1,
        "verdict": "no change",
        "n_rows": 2000,
        "se": 0.07,
        "seed_sd": 0.01,
        "mde": 0.2,
        "min_effect": 0.1,
        "p_adjusted": 0.6,
    }
    return pa.Table.from_pylist([row], schema=COMPARISON_SCHEMA)


def synthesise_candidates(
    instance: dg.DagsterInstance,
    store: LakeStore,
    *,
    task: str,
    repo: str,
    count: int,
    metric: str,
    start: int = 0,
    first_commit_at: dt.datetime = dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    index: bool = True,
    records: bool = True,
) -> CandidateHistory:
    """``count`` evaluated candidates of ``repo`` (registered to ``task``), one commit an
    hour from ``first_commit_at``, each compared with its predecessor and passed.

    ``records=False`` skips the materialisation events (~17 ms of CPU each, two per
    candidate): for tests of steps that must not read them anyway."""
    shas = list(candidate_shas(repo, count, start))
    keys = [f"{repo}@{sha[:7]}" for sha in shas]
    instance.add_dynamic_partitions(candidate_partitions_name(task), keys)
    scores_table, comparison_table = (
        "/".join(scores_key(task).path),
        "/".join(comparison_key(task).path),
    )
    rows: list[dict[str, object]] = []
    for offset, (key, sha) in enumerate(zip(keys, shas, strict=True)):
        i = start + offset
        previous = f"{repo}@{next(candidate_shas(repo, 1, i - 1))[:7]}" if i else None
        scores, comparison = _scores(i, metric), _comparison(i, metric)
        for asset, table, data in (
            (scores_key(task), scores_table, scores),
            (comparison_key(task), comparison_table, comparison),
        ):
            written = store.write(table, f"key={key}", data.schema, data.to_batches())
            if records:
                instance.report_runless_asset_event(
                    dg.AssetMaterialization(
                        asset, partition=key, metadata=written_metadata(written)
                    )
                )
        outcome = gate.GateOutcome(
            status=gate.PASSED if previous else gate.NO_BASELINE,
            candidate=key,
            task=task,
            baseline=previous,
            baseline_note=f"parent commit {previous}" if previous else "first commit",
        )
        gate.save_outcome(store, task, outcome)
        commit = CommitInfo(
            sha=sha,
            message=f"synthesised commit {i}",
            author="history <history@example.com>",
            committed_at=first_commit_at + dt.timedelta(hours=i),
            parents=(next(candidate_shas(repo, 1, i - 1)),) if i else (),
        )
        save_commit_info(store, key, commit)
        if index:
            rows.extend(
                candidate_index.candidate_records(
                    key,
                    commit=commit,
                    scores=scores.to_pandas(),
                    comparison=comparison.to_pandas(),
                    outcome=outcome,
                )
            )
    if rows:
        built = candidate_index.is_built(store, task)
        candidate_index.append(
            store, task, pd.DataFrame(rows, columns=candidate_index.INDEX_COLUMNS)
        )
        if not built:
            candidate_index.compact(store, task, after=0)
    return CandidateHistory(task=task, repo=repo, keys=keys)

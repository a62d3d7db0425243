"""A task's candidate index: one small table the leaderboard, the trends and the CLI read,
so one new commit costs the same after 10,000 candidates as after 10.

Without it every reader opened 4 files per candidate (scores, comparison, gate record,
commit record): the leaderboard refresh grew 259× from 10 to 10,000 candidates. Each
evaluation step now *appends* what it learnt about its candidate (commit; then scores;
then verdicts and gate outcome) as one small Parquet file of rows, and readers take the
newest rows of each candidate from

    <lake>/evaluation/<task>/candidate_index/data.parquet          compacted rows
    <lake>/evaluation/<task>/candidate_index/row=<ns>-<uuid>/data.parquet   loose appends

Appends never rewrite a shared file (concurrent runs cannot lose each other's rows); a
file name is never reused, so compaction deletes exactly the loose files it folded in.
Compaction runs in the leaderboard asset (one at a time: its automation condition never
starts it while it runs) once more than :data:`COMPACT_AFTER` loose files exist, so its
cost — one rewrite of the table — is paid once per ``COMPACT_AFTER`` commits. A lake
written before the index existed has no compacted file: :func:`rebuild` scans it once.

Rows: one per score (``metric``, ``subgroup_kind``, ``subgroup``, ``value``, ``ci_low``,
``ci_high``, ``verdict``) carrying the candidate's columns (``candidate``, ``repo``,
``sha``, ``committed_at``, ``message``, ``gate``, ``gate_summary``, ``stage_change``,
``indexed_at``); a candidate known only by its commit (evaluation started or failed before
scoring) has one row with a null ``metric``. For a pipeline's combination ``repo``/``sha``
are its model stage's, ``committed_at`` the newest of its stages' commits (when the
combination came to be: :func:`combined_commit`), and ``stage_change`` the stage(s) whose
commit differs from its gated baseline. Files written before a column existed read with
that column null.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from clearlake.errors import ClearlakeError
from clearlake.evaluation import gate as gates
from clearlake.evaluation.candidates import CandidateKey, candidate_commit_info
from clearlake.evaluation.git import CommitInfo
from clearlake.lake.store import LakeStore

COMPACT_AFTER = 64
"""Loose files tolerated before the leaderboard compacts: readers open at most this many
more files than one; compaction rewrites the table once per this many appends."""
ROW_PREFIX = "row="
SCORE_COLUMNS = ["metric", "subgroup_kind", "subgroup", "value", "ci_low", "ci_high", "verdict"]
INDEX_SCHEMA = pa.schema(
    [
        ("candidate", pa.string()),
        ("repo", pa.string()),
        ("sha", pa.string()),
        ("committed_at", pa.timestamp("us", tz="UTC")),
        ("message", pa.string()),
        ("gate", pa.string()),
        ("gate_summary", pa.string()),
        ("stage_change", pa.string()),
        ("indexed_at", pa.timestamp("us", tz="UTC")),
        ("metric", pa.string()),
        ("subgroup_kind", pa.string()),
        ("subgroup", pa.string()),
        ("value", pa.float64()),
        ("ci_low", pa.float64()),
        ("ci_high", pa.float64()),
        ("verdict", pa.string()),
    ]
)
INDEX_COLUMNS: list[str] = INDEX_SCHEMA.names


def index_table(task: str) -> str:
    return f"evaluation/{task}/candidate_index"


def combined_commit(stages: Sequence[tuple[str, CommitInfo]]) -> CommitInfo:
    """The commit record of a pipeline's combination from its stages' ``(repo, commit)`` in
    pipeline order: the model stage's sha, the newest stage commit's time, author and
    subject (prefixed by its stage) — a combination comes to be when its newest stage
    commit lands, so the leaderboard orders combinations by it."""
    if not stages:
        raise ClearlakeError("A combination has at least one stage.")
    if len(stages) == 1:
        return stages[0][1]
    repo, newest = max(stages, key=lambda stage: stage[1].committed_at)
    return dataclasses.replace(
        newest,
        sha=stages[-1][1].sha,
        parents=stages[-1][1].parents,
        message=f"{repo}: {newest.message}",
    )


def candidate_records(
    key: str,
    *,
    commit: CommitInfo | None,
    scores: pd.DataFrame | None = None,
    comparison: pd.DataFrame | None = None,
    outcome: gates.GateOutcome | None = None,
    indexed_at: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """The index rows of one candidate: one per score (verdicts taken from the comparison),
    or a single commit-only row before it is scored. Plain Python: ~0.2 ms, not a merge."""
    common = {
        "candidate": key,
        "repo": CandidateKey.parse(key).repo,
        "sha": commit.sha if commit else None,
        "committed_at": commit.committed_at if commit else None,
        "message": commit.message if commit else None,
        "gate": outcome.status if outcome else None,
        "gate_summary": outcome.headline() if outcome else None,
        "stage_change": (outcome.stage_change or None) if outcome else None,
        "indexed_at": indexed_at or dt.datetime.now(dt.UTC),
    }
    if scores is None or not len(scores):
        return [{**common, **dict.fromkeys(SCORE_COLUMNS)}]
    verdicts: dict[tuple[Any, Any, Any], Any] = {}
    if comparison is not None:
        verdicts = {
            (m, k, g): v
            for m, k, g, v in zip(
                comparison["metric"],
                comparison["subgroup_kind"],
                comparison["subgroup"],
                comparison["verdict"],
                strict=True,
            )
        }
    return [
        {
            **common,
            "metric": m,
            "subgroup_kind": k,
            "subgroup": g,
            "value": value,
            "ci_low": low,
            "ci_high": high,
            "verdict": verdicts.get((m, k, g)),
        }
        for m, k, g, value, low, high in zip(
            scores["metric"],
            scores["subgroup_kind"],
            scores["subgroup"],
            scores["value"],
            scores["ci_low"],
            scores["ci_high"],
            strict=True,
        )
    ]


def candidate_rows(
    key: str,
    *,
    commit: CommitInfo | None,
    scores: pd.DataFrame | None = None,
    comparison: pd.DataFrame | None = None,
    outcome: gates.GateOutcome | None = None,
    indexed_at: dt.datetime | None = None,
) -> pd.DataFrame:
    """:func:`candidate_records` as a frame."""
    records = candidate_records(
        key,
        commit=commit,
        scores=scores,
        comparison=comparison,
        outcome=outcome,
        indexed_at=indexed_at,
    )
    return pd.DataFrame(records, columns=INDEX_COLUMNS)


def _as_table(frame: pd.DataFrame) -> pa.Table:
    frame = frame.copy()
    for column in ("committed_at", "indexed_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    for column in ("value", "ci_low", "ci_high"):
        frame[column] = pd.to_numeric(frame[column]).astype("float64")
    return pa.Table.from_pandas(frame[INDEX_COLUMNS], schema=INDEX_SCHEMA, preserve_index=False)


def append(store: LakeStore, task: str, rows: pd.DataFrame) -> str:
    """Publish ``rows`` (of one or many candidates) as one new loose file; its path."""
    name = f"{ROW_PREFIX}{time.time_ns():020d}-{uuid.uuid4().hex[:12]}"
    table = _as_table(rows)
    return store.write(index_table(task), name, table.schema, table.to_batches()).path


def index_candidate(
    store: LakeStore,
    task: str,
    key: str,
    *,
    commit: CommitInfo | None,
    scores: pd.DataFrame | None = None,
    comparison: pd.DataFrame | None = None,
    outcome: gates.GateOutcome | None = None,
) -> str:
    """Record what is known of ``key`` now (replaces its earlier rows for readers)."""
    rows = candidate_rows(key, commit=commit, scores=scores, comparison=comparison, outcome=outcome)
    return append(store, task, rows)


def compacted_file(store: LakeStore, task: str) -> str:
    return store.partition_file(index_table(task), None)


def is_built(store: LakeStore, task: str) -> bool:
    return store.exists(compacted_file(store, task))


def loose_files(store: LakeStore, task: str) -> list[str]:
    """The loose files, oldest first (their names sort by time): one listing."""
    table = index_table(task)
    return [
        store.partition_file(table, f"{ROW_PREFIX}{name}")
        for name in store.list_partitions(table, prefix=ROW_PREFIX)
    ]


def empty_index() -> pd.DataFrame:
    return _as_table(pd.DataFrame(columns=INDEX_COLUMNS)).to_pandas()


def _read(store: LakeStore, path: str) -> pa.Table:
    """One index file in today's schema: a column added since it was written reads null."""
    table = store.read_table(path)
    if table.schema.equals(INDEX_SCHEMA):
        return table
    columns = [
        table[f.name].cast(f.type) if f.name in table.column_names else pa.nulls(len(table), f.type)
        for f in INDEX_SCHEMA
    ]
    return pa.Table.from_arrays(columns, schema=INDEX_SCHEMA)


def _newest(frames: Iterable[pa.Table]) -> pd.DataFrame:
    """Per candidate, only the rows of its newest append."""
    tables = [t for t in frames if t.num_rows]
    if not tables:
        return empty_index()
    frame = pa.concat_tables(tables).to_pandas()
    newest = frame.groupby("candidate", sort=False)["indexed_at"].transform("max")
    return frame[frame["indexed_at"] == newest].reset_index(drop=True)


def read_index(store: LakeStore, task: str) -> pd.DataFrame | None:
    """The index as pandas (newest rows of each candidate), or None when it was never built
    (see :func:`rebuild`). Opens the compacted file and the loose ones, nothing else."""
    if not is_built(store, task):
        return None
    parts = [_read(store, compacted_file(store, task))]
    parts += [_read(store, path) for path in loose_files(store, task)]
    return _newest(parts)


def compact(store: LakeStore, task: str, *, after: int = COMPACT_AFTER) -> int:
    """Fold the loose files into the compacted file when more than ``after`` exist (0:
    always); returns how many were folded. Run by one process at a time."""
    loose = loose_files(store, task)
    if len(loose) <= after and is_built(store, task):
        return 0
    parts = [_read(store, compacted_file(store, task))] if is_built(store, task) else []
    parts += [_read(store, path) for path in loose]
    table = _as_table(_newest(parts))
    store.write(index_table(task), None, table.schema, table.to_batches())
    for path in loose:
        store.delete(path)
        if store.is_local:  # S3 has no folders; a local one would stay, listed forever
            store.fs.delete_dir(path.rsplit("/", 1)[0])
    return len(loose)


def rebuild(
    store: LakeStore,
    task: str,
    keys: Iterable[str],
    *,
    scores_table: str,
    comparison_table: str,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Build the index from what the lake holds for ``keys`` (their scores, comparison, gate
    and commit records): one full scan, for a lake written before the index existed.
    Rows appended meanwhile stay newer. Returns the candidates indexed."""
    keys = sorted(keys)
    records: list[dict[str, Any]] = []
    for done, key in enumerate(keys, start=1):
        scores_path = store.partition_file(scores_table, f"key={key}")
        comparison_path = store.partition_file(comparison_table, f"key={key}")
        try:
            commit: CommitInfo | None = candidate_commit_info(key, store=store)
        except ClearlakeError:
            commit = None
        scores = store.read_table(scores_path).to_pandas() if store.exists(scores_path) else None
        comparison = (
            store.read_table(comparison_path).to_pandas() if store.exists(comparison_path) else None
        )
        if commit is not None or scores is not None:
            records.extend(
                candidate_records(
                    key,
                    commit=commit,
                    scores=scores,
                    comparison=comparison,
                    outcome=gates.load_outcome(store, task, key),
                    indexed_at=dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
                )
            )
        if progress is not None and (done % 500 == 0 or done == len(keys)):
            progress(done, len(keys))
    table = _as_table(pd.DataFrame(records, columns=INDEX_COLUMNS))
    store.write(index_table(task), None, table.schema, table.to_batches())
    return len({r["candidate"] for r in records})


def scored(index: pd.DataFrame) -> pd.DataFrame:
    """The score rows (candidates known only by their commit left out)."""
    return index[index["metric"].notna()].reset_index(drop=True)


def per_candidate(index: pd.DataFrame) -> pd.DataFrame:
    """One row per candidate: its commit and gate columns."""
    columns = ["candidate", "repo", "sha", "committed_at", "message", "gate", "gate_summary"]
    columns.append("stage_change")
    return index.drop_duplicates("candidate")[columns].reset_index(drop=True)


def commit_label(key: str) -> str:
    """``1a2b3c4``, or a combination's stage shas joined by ``+`` (``1a2b3c4+5d6e7f8``)."""
    return "+".join(stage.commit for stage in CandidateKey.parse(key).stages)


def subject(message: object) -> str:
    """The first line of a commit message (empty when unknown)."""
    return str(message).strip().splitlines()[0] if isinstance(message, str) and message else ""

"""Where a monitor keeps what it computed, in the lake beside its assets.

``monitor/<task>/``: the assets' daily tables (``predictions``, ``performance``: one
``date=…`` folder per day, written by the assets), the watched model's predictions of the
reference window (``reference/model=<key>``, computed once per watched model), the alert
state ``alerts.json`` (:class:`clearlake.monitoring.episodes.MonitorState`) and the last
status ``status/status.json`` that the CLI, the gallery page and the Data API show.

JSON goes through :mod:`clearlake.lake.json_records` (published whole), so a reader never
sees half a state and a crash leaves the old one.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from clearlake.lake.json_records import read_json, write_json
from clearlake.lake.store import LakeStore, date_partition
from clearlake.monitoring.episodes import MonitorState

DAY_FILE_SCORES, DAY_FILE_DRIFT = "scores.parquet", "drift.parquet"


def monitor_table(task: str, part: str) -> str:
    """``monitor/<task>/<part>`` (the asset keys in :mod:`clearlake.names` spell the same)."""
    return f"monitor/{task}/{part}"


def state_path(store: LakeStore, task: str) -> str:
    return f"{store.table_dir(monitor_table(task, 'alerts'))}.json"


def status_path(store: LakeStore, task: str) -> str:
    return f"{store.table_dir(monitor_table(task, 'status'))}/status.json"


def load_state(store: LakeStore, task: str) -> MonitorState:
    raw = read_json(store, state_path(store, task))
    return MonitorState.from_json(raw) if raw else MonitorState(task=task)


def save_state(store: LakeStore, state: MonitorState) -> None:
    write_json(store, state_path(store, state.task), state.to_json())


def load_status(store: LakeStore, task: str) -> dict[str, Any] | None:
    found = read_json(store, status_path(store, task))
    return found if isinstance(found, dict) else None


def reference_file(store: LakeStore, task: str, model: str) -> str:
    """The watched model's (``repo@sha7[~params]``) predictions of the reference window."""
    return store.partition_file(monitor_table(task, "reference"), f"model={model}")


def day_file(store: LakeStore, table: str, day: str, name: str | None = None) -> str:
    path = store.partition_file(table, date_partition(day))
    return path if name is None else f"{path.rsplit('/', 1)[0]}/{name}"


def write_table_file(store: LakeStore, path: str, table: pa.Table) -> None:
    """A small table beside a day's data (its scores, its drift), published atomically."""
    folder, name = path.rsplit("/", 1)
    staging = f"{folder}/.tmp-{uuid.uuid4().hex}-{name}"
    if store.is_local:
        store.fs.create_dir(folder, recursive=True)
    pq.write_table(table, staging, filesystem=store.fs)
    if store.is_local:
        os.replace(staging, path)
    else:
        store.fs.move(staging, path)


def read_days(
    store: LakeStore, table: str, days: list[str], name: str | None = None
) -> pd.DataFrame:
    """The given days' tables (absent days skipped), with a ``day`` column."""
    frames = []
    for day in days:
        path = day_file(store, table, day, name)
        if store.exists(path):
            frame = store.read_table(path).to_pandas()
            frame.insert(0, "day", day)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

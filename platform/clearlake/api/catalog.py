"""What the lake holds: datasets, their schemas, partitions and freshness.

One recursive listing per table gives every partition and its modification time (one
LIST on S3 instead of a HEAD per partition). Dataset names in URLs are lake table names
with ``/`` written as ``.`` (``drops/sensors`` → ``drops.sensors``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.fs as pafs

from clearlake.api.errors import NotFoundError
from clearlake.lake.reader import available_tables, dataset
from clearlake.lake.store import DATA_FILE, LakeStore
from clearlake.lake.tables import LAKE_TABLES


def api_name(table: str) -> str:
    return table.replace("/", ".")


def table_name(dataset: str) -> str:
    return dataset.replace(".", "/", 1)


@dataclass(frozen=True)
class DayRange:
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class TableState:
    """A table as found in the lake right now."""

    table: str
    partitioned: bool
    partition_column: str | None
    days: tuple[dt.date, ...]
    files: int
    last_modified: dt.datetime | None
    description: str | None

    @property
    def ranges(self) -> list[DayRange]:
        """Contiguous runs of days (a year of daily partitions is one range)."""
        runs: list[DayRange] = []
        for day in self.days:
            if runs and day == runs[-1].end + dt.timedelta(days=1):
                runs[-1] = DayRange(runs[-1].start, day)
            else:
                runs.append(DayRange(day, day))
        return runs


def table_state(store: LakeStore, table: str) -> TableState | None:
    """State of ``table``; ``None`` when the lake holds no data for an undeclared table."""
    declared = LAKE_TABLES.get(table)
    selector = pafs.FileSelector(store.table_dir(table), allow_not_found=True, recursive=True)
    days: list[dt.date] = []
    files = 0
    modified: list[dt.datetime] = []
    root = store.table_dir(table).rstrip("/") + "/"
    for info in store.fs.get_file_info(selector):
        if info.type != pafs.FileType.File or info.base_name != DATA_FILE:
            continue
        relative = info.path[len(root) :] if info.path.startswith(root) else info.path
        parts = relative.split("/")
        if len(parts) > 2 or (len(parts) == 2 and "=" not in parts[0]):
            continue
        if len(parts) == 2 and parts[0].startswith("date="):
            try:
                days.append(dt.date.fromisoformat(parts[0][len("date=") :]))
            except ValueError:
                continue
        files += 1
        if info.mtime is not None:
            modified.append(info.mtime.astimezone(dt.UTC))
    if declared is None and not files:
        return None
    partitioned = declared.partitioned if declared else bool(days)
    return TableState(
        table=table,
        partitioned=partitioned,
        partition_column=declared.partition_column if declared else None,
        days=tuple(sorted(days)) if partitioned else (),
        files=files,
        last_modified=max(modified) if modified else None,
        description=declared.description if declared else None,
    )


def lake_tables(store: LakeStore) -> list[str]:
    return [t for t in available_tables(store) if "/" not in t or t.startswith("drops/")]


def require_table(store: LakeStore, dataset: str, *, readable: Callable[[str], bool]) -> TableState:
    """The state of the dataset named in a URL, or a 404 listing the datasets the caller may
    read (``readable``): naming the others would tell who may not read them what exists."""
    table = table_name(dataset)
    known = lake_tables(store)
    state = table_state(store, table) if table in known else None
    if state is None:
        names = ", ".join(api_name(t) for t in known if readable(t)) or "none"
        raise NotFoundError(f"Unknown dataset {dataset!r}. Datasets you may read: {names}.")
    return state


def table_schema(store: LakeStore, state: TableState) -> pa.Schema:
    """Declared schema (the contract) or, for undeclared tables, the newest file's."""
    declared = LAKE_TABLES.get(state.table)
    if declared is not None:
        return declared.schema
    return dataset(state.table, store=store).schema

"""The drop zone: files scientists drop in a folder become lake partitions.

Layout under the drop root (``$CLEARLAKE_HOME/drops`` locally)::

    <dataset>/report.csv                  waiting to be ingested
    <dataset>/_ingested/<key>__report.csv  ingested (kept: nothing is ever deleted)
    <dataset>/_quarantine/report.csv       refused, with report.csv.reason.txt next to it

A file is ingested once: its partition key contains its content hash, and the sensor's
run key is that partition key, so the same bytes dropped twice map to one partition.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq
import yaml

from clearlake.errors import DropZoneError
from clearlake.lake.conform import compare, conform_batch
from clearlake.lake.store import LakeStore, WrittenPartition

TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
INGESTED, QUARANTINE = "_ingested", "_quarantine"
SETTLE_SECONDS = 2.0
"""A file modified more recently than this may still be being written: wait a tick."""


@dataclass(frozen=True)
class DropDataset:
    name: str
    description: str
    schema: pa.Schema

    @property
    def table(self) -> str:
        return f"drops/{self.name}"


@dataclass(frozen=True)
class DroppedFile:
    dataset: str
    path: Path
    content_hash: str
    dropped_at: dt.datetime

    @property
    def partition_key(self) -> str:
        return f"{self.dropped_at:%Y-%m-%dT%H%M%S}_{self.content_hash[:10]}"


def load_datasets(path: Path) -> dict[str, DropDataset]:
    """Read the drop-zone declarations (``assets/lake/drops.yaml``)."""
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DropZoneError(f"Cannot read drop-zone declarations {path}: {exc}") from None
    datasets = {}
    for name, spec in (raw.get("datasets") or {}).items():
        fields = []
        for column, kind in (spec.get("columns") or {}).items():
            if kind not in TYPES:
                raise DropZoneError(
                    f"{path}: dataset {name!r} column {column!r} has unknown type {kind!r}; "
                    f"use one of {', '.join(TYPES)}."
                )
            fields.append(pa.field(column, TYPES[kind]))
        if not fields:
            raise DropZoneError(f"{path}: dataset {name!r} declares no columns.")
        datasets[name] = DropDataset(name, spec.get("description", ""), pa.schema(fields))
    return datasets


def dataset_folder(drop_root: Path, dataset: str) -> Path:
    folder = drop_root / dataset
    if not folder.is_dir():
        raise DropZoneError(
            f"Drop folder {folder} for dataset {dataset!r} does not exist: run "
            "`clearlake drops init` (or create it) and drop files there."
        )
    return folder


def pending_files(
    drop_root: Path, dataset: str, now: dt.datetime | None = None
) -> list[DroppedFile]:
    """Files waiting in a dataset's drop folder, oldest first, settled (not being written)."""
    folder = dataset_folder(drop_root, dataset)
    now = now or dt.datetime.now(dt.UTC)
    found = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith((".", "_")):
            continue
        modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
        if (now - modified).total_seconds() < SETTLE_SECONDS:
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        found.append(DroppedFile(dataset, path, digest, modified))
    return sorted(found, key=lambda f: (f.dropped_at, f.path.name))


def parse(path: Path, dataset: DropDataset) -> pa.Table:
    """Parse a dropped file; raise DropZoneError saying why it cannot be used."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DropZoneError(
            f"{path.name}: unsupported file type {path.suffix!r}; drop .csv, .jsonl or .parquet."
        )
    try:
        if kind == "csv":
            data = pacsv.read_csv(path)
        elif kind == "jsonl":
            data = pajson.read_json(path)
        else:
            data = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DropZoneError(f"{path.name}: cannot be parsed as {kind}: {exc}") from None
    conformance = compare(dataset.schema, data.schema)
    if conformance.drifted:
        raise DropZoneError(
            f"{path.name} does not match dataset {dataset.name!r}: "
            + "; ".join(conformance.problems)
        )
    try:
        batches = [conform_batch(b, dataset.schema) for b in data.to_batches()]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise DropZoneError(
            f"{path.name}: values do not convert to the declared types of {dataset.name!r}: {exc}"
        ) from None
    return pa.Table.from_batches(batches, schema=dataset.schema)


def quarantine(path: Path, reason: str) -> Path:
    """Move a refused file aside with a reason file next to it; never delete it."""
    target_dir = path.parent / QUARANTINE
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    if target.exists():
        target = target_dir / f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}_{path.name}"
    shutil.move(str(path), target)
    target.with_name(target.name + ".reason.txt").write_text(reason + "\n")
    return target


def ingest(
    dropped: DroppedFile, dataset: DropDataset, store: LakeStore
) -> tuple[WrittenPartition, Path]:
    """Write the file as one lake partition, then move it to ``_ingested``."""
    data = parse(dropped.path, dataset)
    written = store.write(
        dataset.table, f"dropped={dropped.partition_key}", dataset.schema, data.to_batches()
    )
    done_dir = dropped.path.parent / INGESTED
    done_dir.mkdir(exist_ok=True)
    target = done_dir / f"{dropped.partition_key}__{dropped.path.name}"
    shutil.move(str(dropped.path), target)
    return written, target


def find_dropped(drop_root: Path, dataset: str, partition_key: str, name: str) -> DroppedFile:
    """The pending file a run was requested for (it must still be waiting)."""
    path = dataset_folder(drop_root, dataset) / name
    for candidate in pending_files(drop_root, dataset, now=dt.datetime.max.replace(tzinfo=dt.UTC)):
        if candidate.path == path and candidate.partition_key == partition_key:
            return candidate
    raise DropZoneError(
        f"Dropped file {path} (partition {partition_key}) is no longer waiting: it was "
        f"ingested or quarantined already (see {path.parent / INGESTED} and "
        f"{path.parent / QUARANTINE})."
    )

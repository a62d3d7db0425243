"""The drop zone: files scientists drop in a folder become lake partitions.

Layout under the drop root (``$CLEARLAKE_HOME/drops`` locally)::

    <zone>/report.csv.part                   being written: never taken
    <zone>/report.csv                        waiting to be ingested
    <zone>/_ingested/<key>__report.csv       ingested (kept: nothing is ever deleted)
    <zone>/_duplicates/report.csv            same bytes as a file ingested before
    <zone>/_quarantine/report.csv            refused, with report.csv.reason.txt next to it

Identity is the content alone: the partition key is the SHA-256 of the bytes, so a name
or a modification time never makes the same data a second ingestion. A file counts as
complete when its writer renamed it from ``*.part``, or when its size and mtime stayed
unchanged for ``settle_seconds`` across sensor ticks (the mtime alone cannot tell: ``cp
-p`` sets an old one the moment the copy ends, and a paused writer leaves a stale one).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
INGESTED, QUARANTINE, DUPLICATES = "_ingested", "_quarantine", "_duplicates"
IN_PROGRESS_SUFFIX = ".part"
SETTLE_SECONDS = 120.0
"""Default settle window. A writer that pauses longer than this must use ``.part``: the
issue that set it saw a writer pause 75 s mid-file, and a shorter window ingested half."""
KEY_LENGTH = 16
"""Hex digits of the SHA-256 in a partition key: 64 bits, no collision in any real zone."""


@dataclass(frozen=True)
class DropZone:
    name: str
    description: str
    schema: pa.Schema
    settle_seconds: float = SETTLE_SECONDS

    @property
    def table(self) -> str:
        return f"drops/{self.name}"


@dataclass(frozen=True)
class Sighting:
    """What a tick saw of a file: the settle window compares consecutive sightings."""

    size: int
    mtime_ns: int
    first_seen: float
    content_hash: str | None = None

    def same_file(self, other: Sighting) -> bool:
        return (self.size, self.mtime_ns) == (other.size, other.mtime_ns)


@dataclass(frozen=True)
class DroppedFile:
    zone: str
    path: Path
    content_hash: str

    @property
    def partition_key(self) -> str:
        return self.content_hash[:KEY_LENGTH]


def load_drop_zones(path: Path) -> dict[str, DropZone]:
    """Drop-zone declarations from a YAML file with a ``datasets:`` mapping."""
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DropZoneError(f"Cannot read drop-zone declarations {path}: {exc}") from None
    return drop_zones(raw.get("datasets") or {}, source=str(path))


def drop_zones(declared: Mapping[str, Mapping[str, Any]], *, source: str) -> dict[str, DropZone]:
    """Drop zones from declarations (a project's ``drops:`` section, or a file's datasets)."""
    zones = {}
    for name, spec in declared.items():
        fields = []
        for column, kind in (spec.get("columns") or {}).items():
            if kind not in TYPES:
                raise DropZoneError(
                    f"{source}: dataset {name!r} column {column!r} has unknown type {kind!r}; "
                    f"use one of {', '.join(TYPES)}."
                )
            fields.append(pa.field(column, TYPES[kind]))
        if not fields:
            raise DropZoneError(f"{source}: dataset {name!r} declares no columns.")
        settle = spec.get("settle_seconds", SETTLE_SECONDS)
        if not isinstance(settle, int | float) or isinstance(settle, bool) or settle < 0:
            raise DropZoneError(
                f"{source}: dataset {name!r} settle_seconds must be a number >= 0, not {settle!r}."
            )
        zones[name] = DropZone(name, spec.get("description", ""), pa.schema(fields), float(settle))
    return zones


def zone_folder(drop_root: Path, zone: str) -> Path:
    folder = drop_root / zone
    if not folder.is_dir():
        raise DropZoneError(
            f"Drop folder {folder} for dataset {zone!r} does not exist: run "
            "`clearlake drops init` (or create it) and drop files there."
        )
    return folder


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def candidates(folder: Path) -> list[Path]:
    """Files that may be waiting: not hidden, not our ``_`` folders, not ``*.part``."""
    return sorted(
        p
        for p in folder.iterdir()
        if not p.name.startswith((".", "_")) and not p.name.endswith(IN_PROGRESS_SUFFIX)
    )


def observe(
    folder: Path, zone: DropZone, seen: dict[str, Sighting], now: float
) -> tuple[list[DroppedFile], dict[str, Sighting]]:
    """The complete files of a folder, and the sightings the next tick compares with.

    A file is complete when a sighting at least ``settle_seconds`` old shows the same size
    and mtime (``settle_seconds: 0`` trusts the writers to rename from ``.part``). A file
    that vanishes or cannot be read between the listing and the hash is skipped this tick.
    """
    ready: list[DroppedFile] = []
    sightings: dict[str, Sighting] = {}
    for path in candidates(folder):
        try:
            stat = path.stat()
            if not path.is_file():
                continue
            now_seen = Sighting(stat.st_size, stat.st_mtime_ns, now)
            before = seen.get(path.name)
            if before is None or not before.same_file(now_seen):
                before = now_seen
            if zone.settle_seconds > 0 and now - before.first_seen < zone.settle_seconds:
                sightings[path.name] = before
                continue
            digest = before.content_hash or content_hash(path)
        except OSError:
            continue
        sightings[path.name] = Sighting(before.size, before.mtime_ns, before.first_seen, digest)
        ready.append(DroppedFile(zone.name, path, digest))
    return ready, sightings


def parse(path: Path, zone: DropZone) -> pa.Table:
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
    conformance = compare(zone.schema, data.schema)
    if conformance.drifted:
        raise DropZoneError(
            f"{path.name} does not match dataset {zone.name!r}: " + "; ".join(conformance.problems)
        )
    try:
        batches = [conform_batch(b, zone.schema) for b in data.to_batches()]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise DropZoneError(
            f"{path.name}: values do not convert to the declared types of {zone.name!r}: {exc}"
        ) from None
    return pa.Table.from_batches(batches, schema=zone.schema)


def set_aside(path: Path, folder: str, reason: str) -> Path:
    """Move a file into ``folder`` (next to it) with a reason file; never delete it."""
    target_dir = path.parent / folder
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    if target.exists():
        target = target_dir / f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}_{path.name}"
    shutil.move(str(path), target)
    target.with_name(target.name + ".reason.txt").write_text(reason + "\n")
    return target


def quarantine(path: Path, reason: str) -> Path:
    return set_aside(path, QUARANTINE, reason)


def ingest(dropped: DroppedFile, zone: DropZone, store: LakeStore) -> tuple[WrittenPartition, Path]:
    """Write the file as one lake partition, then move it to ``_ingested``."""
    data = parse(dropped.path, zone)
    written = store.write(
        zone.table, f"dropped={dropped.partition_key}", zone.schema, data.to_batches()
    )
    done_dir = dropped.path.parent / INGESTED
    done_dir.mkdir(exist_ok=True)
    target = done_dir / f"{dropped.partition_key}__{dropped.path.name}"
    if target.exists():
        target = done_dir / f"{dropped.partition_key}__{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}"
    shutil.move(str(dropped.path), target)
    return written, target


def find_dropped(drop_root: Path, zone: str, partition_key: str, name: str) -> DroppedFile:
    """The waiting file with this content: the named one, else any copy of the same bytes."""
    folder = zone_folder(drop_root, zone)
    named = folder / name
    for path in [named, *(p for p in candidates(folder) if p != named)]:
        try:
            digest = content_hash(path)
        except OSError:
            continue
        if digest[:KEY_LENGTH] == partition_key:
            return DroppedFile(zone, path, digest)
    raise DropZoneError(
        f"No waiting file in {folder} has the content {partition_key} of {name!r}: it was "
        f"changed, ingested or moved aside since the sensor saw it (see {folder / INGESTED}, "
        f"{folder / DUPLICATES} and {folder / QUARANTINE}); the sensor looks at it again."
    )

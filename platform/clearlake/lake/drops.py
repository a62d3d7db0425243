"""The drop zone: files dropped in a folder or an object-store prefix become lake partitions.

Layout under the drop root (``$CLEARLAKE_HOME/drops`` locally, ``s3://bucket/drops`` on a
cluster: ``CLEARLAKE_DROPS_URL``), the same on both::

    <zone>/report.csv.part                   being written: never taken
    <zone>/report.csv                        waiting to be ingested
    <zone>/report.csv.done                   its completion marker (zones that declare one)
    <zone>/_ingested/<key>__report.csv       ingested (kept: nothing is ever deleted)
    <zone>/_duplicates/report.csv            same bytes as a file ingested before
    <zone>/_quarantine/report.csv            refused, with report.csv.reason.txt next to it

Identity is the content alone: the partition key is the SHA-256 of the bytes, so a name
or a modification time never makes the same data a second ingestion. A file counts as
complete when its writer renamed it from ``*.part``; when the zone declares
``completion: marker``, once ``<file>.done`` exists; otherwise when its size and mtime
stayed unchanged for ``settle_seconds`` across sensor ticks (the mtime alone cannot tell:
``cp -p`` sets an old one the moment the copy ends, and a paused writer leaves a stale
one). A CSV whose last byte is not a newline was most likely cut mid-row: without a
marker it waits, and is quarantined with that reason once it stayed so for
``unfinished_seconds``. (A cut exactly at a row boundary looks whole: only a marker or
a ``.part`` rename can tell it.) On S3 an object appears whole when its upload completes,
so the settle window only guards against writers that upload a file in several objects.

Every file operation goes through :class:`DropFolder` (pyarrow's filesystem, local or
S3), so both places give the same guarantees; S3 has no rename: a move is a server-side
copy then a delete, and a file is never deleted before its copy exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq
import yaml

from clearlake.errors import DropZoneError
from clearlake.lake.conform import compare, conform_batch
from clearlake.lake.drop_folder import DropFolder, Entry
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
MARKER_SUFFIX = ".done"
REASON_SUFFIX = ".reason.txt"
UNFINISHED_SECONDS = 3600.0
"""How long a CSV without a final newline may stay unchanged before it is quarantined."""
Completion = Literal["settle", "marker"]
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
    completion: Completion = "settle"
    unfinished_seconds: float = UNFINISHED_SECONDS

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
    folder: DropFolder
    name: str
    content_hash: str

    @property
    def partition_key(self) -> str:
        return self.content_hash[:KEY_LENGTH]

    @property
    def where(self) -> str:
        return self.folder.where(self.name)


@dataclass(frozen=True)
class Unfinished:
    """A file that never completed: the sensor quarantines it with ``reason``."""

    name: str
    reason: str


def load_drop_zones(path: Path) -> dict[str, DropZone]:
    """Drop-zone declarations from a YAML file with a ``datasets:`` mapping."""
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DropZoneError(f"Cannot read drop-zone declarations {path}: {exc}") from None
    return drop_zones(raw.get("datasets") or {}, source=str(path))


def _seconds(spec: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = spec.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise DropZoneError(f"{where} {key} must be a number >= 0, not {value!r}.")
    return float(value)


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
        where = f"{source}: dataset {name!r}"
        completion = spec.get("completion", "settle")
        if completion not in ("settle", "marker"):
            raise DropZoneError(
                f"{where} completion must be 'settle' or 'marker' (<file>{MARKER_SUFFIX}), "
                f"not {completion!r}."
            )
        zones[name] = DropZone(
            name,
            spec.get("description", ""),
            pa.schema(fields),
            _seconds(spec, "settle_seconds", SETTLE_SECONDS, where),
            completion,
            _seconds(spec, "unfinished_seconds", UNFINISHED_SECONDS, where),
        )
    return zones


def zone_folder(drop_root: str | Path, zone: str) -> DropFolder:
    """The folder of ``zone``: a local one must exist (``clearlake drops init``)."""
    return DropFolder.of(str(drop_root), zone)


def candidates(folder: DropFolder) -> list[Entry]:
    """Files that may be waiting: not hidden, not ``_``-named, not ``*.part`` or markers."""
    return [
        e
        for e in folder.entries()
        if not e.name.startswith((".", "_"))
        and not e.name.endswith((IN_PROGRESS_SUFFIX, MARKER_SUFFIX))
    ]


def observe(
    folder: DropFolder, zone: DropZone, seen: dict[str, Sighting], now: float
) -> tuple[list[DroppedFile], dict[str, Sighting], list[Unfinished]]:
    """The complete files of a folder, the sightings the next tick compares with, and the
    files that never completed (to quarantine).

    A file is complete when its marker exists (``completion: marker``), else when a
    sighting at least ``settle_seconds`` old shows the same size and mtime
    (``settle_seconds: 0`` trusts the writers to rename from ``.part``); a CSV must also
    end with a newline. A file that vanishes or cannot be read between the listing and
    the hash is skipped this tick.
    """
    ready: list[DroppedFile] = []
    sightings: dict[str, Sighting] = {}
    unfinished: list[Unfinished] = []
    markers = {e.name for e in folder.entries() if e.name.endswith(MARKER_SUFFIX)}
    for entry in candidates(folder):
        now_seen = Sighting(entry.size, entry.mtime_ns, now)
        before = seen.get(entry.name)
        if before is None or not before.same_file(now_seen):
            before = now_seen
        try:
            if zone.completion == "marker":
                if entry.name + MARKER_SUFFIX not in markers:
                    sightings[entry.name] = before
                    continue
            else:
                if zone.settle_seconds > 0 and now - before.first_seen < zone.settle_seconds:
                    sightings[entry.name] = before
                    continue
                if _cut_mid_row(folder, entry):
                    if now - before.first_seen >= max(zone.unfinished_seconds, zone.settle_seconds):
                        unfinished.append(Unfinished(entry.name, _unfinished_reason(entry, zone)))
                    else:
                        sightings[entry.name] = before
                    continue
            digest = before.content_hash or folder.content_hash(entry.name)
        except (FileNotFoundError, OSError):
            continue
        sightings[entry.name] = Sighting(before.size, before.mtime_ns, before.first_seen, digest)
        ready.append(DroppedFile(zone.name, folder, entry.name, digest))
    return ready, sightings, unfinished


def _cut_mid_row(folder: DropFolder, entry: Entry) -> bool:
    if SUFFIXES.get(Path(entry.name).suffix.lower()) != "csv" or entry.size == 0:
        return False
    return folder.last_byte(entry.name, entry.size) not in (b"\n", b"\r")


def _unfinished_reason(entry: Entry, zone: DropZone) -> str:
    return (
        f"{entry.name} ends without a final newline and stayed unchanged for "
        f"{max(zone.unfinished_seconds, zone.settle_seconds):g} s: it looks cut mid-row "
        f"(an interrupted upload). Drop the whole file again; writers that cannot end a "
        f"CSV with a newline can declare `completion: marker` for dataset {zone.name!r} "
        f"and write <file>{MARKER_SUFFIX} when done."
    )


def parse(dropped: DroppedFile, zone: DropZone) -> pa.Table:
    """Parse a dropped file; raise DropZoneError saying why it cannot be used."""
    name = dropped.name
    kind = SUFFIXES.get(Path(name).suffix.lower())
    if kind is None:
        raise DropZoneError(
            f"{name}: unsupported file type {Path(name).suffix!r}; drop .csv, .jsonl or .parquet."
        )
    try:
        with dropped.folder.open(name) as handle:
            if kind == "csv":
                data = pacsv.read_csv(handle)
            elif kind == "jsonl":
                data = pajson.read_json(handle)
            else:
                data = pq.read_table(handle)
    except pa.ArrowInvalid as exc:
        raise DropZoneError(f"{name}: cannot be parsed as {kind}: {exc}") from None
    conformance = compare(zone.schema, data.schema)
    if conformance.drifted:
        raise DropZoneError(
            f"{name} does not match dataset {zone.name!r}: " + "; ".join(conformance.problems)
        )
    try:
        batches = [conform_batch(b, zone.schema) for b in data.to_batches()]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise DropZoneError(
            f"{name}: values do not convert to the declared types of {zone.name!r}: {exc}"
        ) from None
    return pa.Table.from_batches(batches, schema=zone.schema)


def _free_name(folder: DropFolder, sub: str, name: str) -> str:
    taken = {e.name for e in folder.entries(sub)}
    if name not in taken:
        return name
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}_{name}"


def set_aside(folder: DropFolder, name: str, sub: str, reason: str) -> str:
    """Move a file (and its marker) into ``sub`` with a reason file; never delete it."""
    target = _free_name(folder, sub, name)
    where = folder.move(name, sub, target)
    folder.write_text(f"{sub}/{target}{REASON_SUFFIX}", reason + "\n")
    _move_marker(folder, name, sub, target)
    return where


def quarantine(dropped: DroppedFile, reason: str) -> str:
    return set_aside(dropped.folder, dropped.name, QUARANTINE, reason)


def _move_marker(folder: DropFolder, name: str, sub: str, target: str) -> None:
    if folder.exists(name + MARKER_SUFFIX):
        folder.move(name + MARKER_SUFFIX, sub, target + MARKER_SUFFIX)


def ingest(dropped: DroppedFile, zone: DropZone, store: LakeStore) -> tuple[WrittenPartition, str]:
    """Write the file as one lake partition, then move it to ``_ingested``."""
    data = parse(dropped, zone)
    written = store.write(
        zone.table, f"dropped={dropped.partition_key}", zone.schema, data.to_batches()
    )
    target = _free_name(dropped.folder, INGESTED, f"{dropped.partition_key}__{dropped.name}")
    kept_at = dropped.folder.move(dropped.name, INGESTED, target)
    _move_marker(dropped.folder, dropped.name, INGESTED, target)
    return written, kept_at


def find_dropped(drop_root: str | Path, zone: str, partition_key: str, name: str) -> DroppedFile:
    """The waiting file with this content: the named one, else any copy of the same bytes."""
    folder = zone_folder(drop_root, zone)
    others = [e.name for e in candidates(folder) if e.name != name]
    for candidate in [name, *others]:
        try:
            digest = folder.content_hash(candidate)
        except OSError:
            continue
        if digest[:KEY_LENGTH] == partition_key:
            return DroppedFile(zone, folder, candidate, digest)
    raise DropZoneError(
        f"No waiting file in {folder.display} has the content {partition_key} of {name!r}: it "
        f"was changed, ingested or moved aside since the sensor saw it (see its {INGESTED}, "
        f"{DUPLICATES} and {QUARANTINE} folders); the sensor looks at it again."
    )

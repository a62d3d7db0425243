"""Counting the work a step does: files opened and listed, records read.

Tests and benchmarks assert that one new day (or commit) does the same *amount of work*
whatever the history, which wall time on a shared machine cannot show. The counters wrap
the real objects behind their public interfaces: a pyarrow filesystem handler in front of
the store's filesystem, a
:class:`~clearlake.orchestration.resources.LakeResource` whose stores use it,
and a proxy for the Dagster instance counting what its lookups return.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterable
from typing import Any, ClassVar

import dagster as dg
import pyarrow.fs as pafs

from clearlake.lake.store import LakeStore
from clearlake.orchestration.resources import LakeResource


class CountingHandler(pafs.FileSystemHandler):  # type: ignore[misc]
    """Delegates to a real filesystem and counts opens, listings and lookups."""

    def __init__(self, fs: pafs.FileSystem) -> None:
        self.fs = fs
        self.counts: Counter[str] = Counter()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CountingHandler) and other.fs.equals(self.fs)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def get_type_name(self) -> str:
        return f"counting+{self.fs.type_name}"

    def normalize_path(self, path: str) -> str:
        return str(self.fs.normalize_path(path))

    def get_file_info(self, paths: Iterable[str]) -> list[pafs.FileInfo]:
        paths = list(paths)
        self.counts["stat"] += len(paths)
        return list(self.fs.get_file_info(paths))

    def get_file_info_selector(self, selector: pafs.FileSelector) -> list[pafs.FileInfo]:
        infos = list(self.fs.get_file_info(selector))
        self.counts["list"] += 1
        self.counts["listed"] += len(infos)
        return infos

    def create_dir(self, path: str, recursive: bool) -> None:
        self.fs.create_dir(path, recursive=recursive)

    def delete_dir(self, path: str) -> None:
        self.fs.delete_dir(path)

    def delete_dir_contents(self, path: str, missing_dir_ok: bool = False) -> None:
        self.fs.delete_dir_contents(path, missing_dir_ok=missing_dir_ok)

    def delete_root_dir_contents(self) -> None:
        raise NotImplementedError("refusing to delete the root")

    def delete_file(self, path: str) -> None:
        self.fs.delete_file(path)

    def move(self, src: str, dest: str) -> None:
        self.fs.move(src, dest)

    def copy_file(self, src: str, dest: str) -> None:
        self.fs.copy_file(src, dest)

    def open_input_stream(self, path: str) -> Any:
        self.counts["open"] += 1
        return self.fs.open_input_stream(path)

    def open_input_file(self, path: str) -> Any:
        self.counts["open"] += 1
        return self.fs.open_input_file(path)

    def open_output_stream(self, path: str, metadata: Any) -> Any:
        self.counts["write"] += 1
        return self.fs.open_output_stream(path, metadata=metadata)

    def open_append_stream(self, path: str, metadata: Any) -> Any:
        self.counts["write"] += 1
        return self.fs.open_append_stream(path, metadata=metadata)


HANDLERS: dict[str, CountingHandler] = {}
"""One handler per lake URL, so every store a run makes is counted in one place."""


def counting_store(url: str) -> LakeStore:
    """A store on ``url`` whose filesystem calls go through :data:`HANDLERS` [url]."""
    store = LakeStore(url)
    handler = HANDLERS.setdefault(url, CountingHandler(store.fs))
    store.fs = pafs.PyFileSystem(handler)
    return store


class CountingLakeResource(LakeResource):
    """The lake resource, its stores counted (see :func:`counting_store`)."""

    def store(self) -> LakeStore:
        return counting_store(self.url)


def file_work(url: str) -> Counter[str]:
    """What the stores on ``url`` did so far (``open``, ``list``, ``listed``, ``stat``…)."""
    return HANDLERS.setdefault(url, CountingHandler(LakeStore(url).fs)).counts


class CountingInstance:
    """A Dagster instance that counts the records and partitions its lookups return.

    Pass it where a function takes the instance (``typing.cast`` to ``DagsterInstance``);
    every other attribute is the real instance's.
    """

    def __init__(self, instance: dg.DagsterInstance) -> None:
        self.instance = instance
        self.counts: Counter[str] = Counter()

    def fetch_materializations(self, *args: Any, **kwargs: Any) -> Any:
        result = self.instance.fetch_materializations(*args, **kwargs)
        self.counts["queries"] += 1
        self.counts["records"] += len(result.records)
        return result

    def get_materialized_partitions(self, *args: Any, **kwargs: Any) -> set[str]:
        result = self.instance.get_materialized_partitions(*args, **kwargs)
        self.counts["queries"] += 1
        self.counts["partitions"] += len(result)
        return result

    def __getattr__(self, name: str) -> Any:
        self.counts[f"other:{name}"] += 1
        return getattr(self.instance, name)


class FileAudit:
    """Counts what a block does to the files under ``root`` through Python's audit hooks
    (``open`` for reads and writes, ``os.listdir``/``os.scandir`` for listings): local files
    the gallery and the Data API handle directly, not through a lake store.

    ``with FileAudit(root) as audit: ...`` then ``audit.counts`` (``read``, ``write``,
    ``list``). Hooks cannot be removed, so one hook serves every audit."""

    active: ClassVar[list[FileAudit]] = []
    installed: ClassVar[bool] = False

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.path.realpath(root)
        self.counts: Counter[str] = Counter()

    def __enter__(self) -> FileAudit:
        if not FileAudit.installed:
            sys.addaudithook(_audit)
            FileAudit.installed = True
        FileAudit.active.append(self)
        return self

    def __exit__(self, *_: object) -> None:
        FileAudit.active.remove(self)

    def note(self, kind: str, path: object) -> None:
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if isinstance(path, str | os.PathLike):
            full = os.path.realpath(os.path.join(os.getcwd(), os.fspath(path)))
            if full == self.root or full.startswith(self.root + os.sep):
                self.counts[kind] += 1


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not FileAudit.active:
        return
    if event == "open" and args:
        mode, flags = (args[1] if len(args) > 1 else None), (args[2] if len(args) > 2 else 0)
        if mode is None:  # os.open: the flags tell
            writes = bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        else:
            writes = any(c in str(mode) for c in "wax+")
        kind = "write" if writes else "read"
    elif event in ("os.listdir", "os.scandir") and args:
        kind = "list"
    else:
        return
    for audit in FileAudit.active:
        audit.note(kind, args[0])

"""One dataset's drop folder, on the local filesystem or under an S3 prefix.

The drop zone's rules (:mod:`clearlake.lake.drops`) see only this interface: list, read,
hash, move aside, write a reason. Paths inside are pyarrow filesystem paths; ``display``
is what a person is shown (a local path or ``s3://bucket/prefix/<zone>``). S3 failures
become :class:`LakeUnavailableError` naming the drop location and the fix, as the lake's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow.fs as pafs

from clearlake.errors import DropZoneError
from clearlake.lake.store import s3_error


@dataclass(frozen=True)
class Entry:
    name: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class DropFolder:
    fs: pafs.FileSystem
    path: str
    display: str
    on_s3: bool

    @classmethod
    def of(cls, root: str, zone: str) -> DropFolder:
        """The folder of ``zone`` under ``root`` (a local folder or ``s3://bucket/prefix``)."""
        if urlparse(root).scheme == "s3":
            url = f"{root.rstrip('/')}/{zone}"
            try:
                fs, path = pafs.FileSystem.from_uri(url)
            except OSError as exc:
                raise s3_error(url, "open", exc) from None
            return cls(fs, path.rstrip("/"), url, on_s3=True)
        local = Path(root.removeprefix("file://")) / zone
        if not local.is_dir():
            raise DropZoneError(
                f"Drop folder {local} for dataset {zone!r} does not exist: run "
                "`clearlake drops init` (or create it) and drop files there."
            )
        return cls(pafs.LocalFileSystem(), str(local.resolve()), str(local), on_s3=False)

    def where(self, name: str) -> str:
        return f"{self.display}/{name}"

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except FileNotFoundError:
            raise
        except OSError as exc:
            if self.on_s3:
                raise s3_error(self.display, action, exc) from None
            raise

    def entries(self, sub: str | None = None) -> list[Entry]:
        """Files directly in the folder (or its ``sub`` folder), by name."""
        base = f"{self.path}/{sub}" if sub else self.path
        with self._errors("list"):
            infos = self.fs.get_file_info(pafs.FileSelector(base, allow_not_found=True))
        return sorted(
            (
                Entry(i.base_name, i.size or 0, i.mtime_ns or 0)
                for i in infos
                if i.type == pafs.FileType.File
            ),
            key=lambda e: e.name,
        )

    def exists(self, name: str) -> bool:
        with self._errors("read"):
            return self.fs.get_file_info(f"{self.path}/{name}").type == pafs.FileType.File

    def open(self, name: str) -> Any:
        with self._errors("read"):
            return self.fs.open_input_file(f"{self.path}/{name}")

    def last_byte(self, name: str, size: int) -> bytes:
        with self._errors("read"), self.open(name) as handle:
            handle.seek(max(size - 1, 0))
            return bytes(handle.read(1))

    def content_hash(self, name: str) -> str:
        digest = hashlib.sha256()
        with self._errors("read"), self.fs.open_input_stream(f"{self.path}/{name}") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    def move(self, name: str, sub: str, target: str) -> str:
        """Move ``name`` to ``sub/target`` (a free name is chosen by the caller); where now."""
        with self._errors("move"):
            if not self.on_s3:
                self.fs.create_dir(f"{self.path}/{sub}", recursive=True)
            self.fs.move(f"{self.path}/{name}", f"{self.path}/{sub}/{target}")
        return self.where(f"{sub}/{target}")

    def write_text(self, name: str, text: str) -> None:
        with self._errors("write"), self.fs.open_output_stream(f"{self.path}/{name}") as out:
            out.write(text.encode())

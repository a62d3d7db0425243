"""Where reports live: one stable path per template and partition, written atomically.

Layout under ``reports_root`` (``CLEARLAKE_HOME/reports``; served by the Data API at
``/reports/``)::

    <template>/<partition key>.ipynb   the executed notebook (partial if it failed)
    <template>/<partition key>.html    the self-contained page
    <template>/<partition key>.json    the record the gallery and the CLI read
    index.html                         the gallery
    candidates/<repo>@<commit>/index.html   one stable page per commit

Re-running a partition replaces its files (readers see the old or the new page, never
half of one); the record keeps the run id, so older runs stay reachable in Dagster.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import nbformat

from clearlake.reports import nbio
from clearlake.reports.render import to_html

_UNSAFE = re.compile(r"[^A-Za-z0-9._@~=+-]")
UNPARTITIONED = "latest"


def safe_key(key: str | None) -> str:
    """A partition key as a file name (keys such as ``algo@1a2b3c4~deadbeef`` stay readable)."""
    return _UNSAFE.sub("_", key) if key else UNPARTITIONED


@dataclass(frozen=True)
class ReportPaths:
    root: Path
    template: str
    partition: str | None

    @property
    def relative_stem(self) -> str:
        return f"{self.template}/{safe_key(self.partition)}"

    @property
    def notebook(self) -> Path:
        return self.root / f"{self.relative_stem}.ipynb"

    @property
    def html(self) -> Path:
        return self.root / f"{self.relative_stem}.html"

    @property
    def record(self) -> Path:
        return self.root / f"{self.relative_stem}.json"


@dataclass(frozen=True)
class ReportRecord:
    """What the gallery and ``clearlake reports list`` know about one report."""

    template: str
    partition: str | None
    status: str
    """``succeeded`` or ``failed``."""
    run_id: str
    created_at: str
    notebook: str
    """Path of the ``.ipynb`` relative to the reports root."""
    html: str
    parameters: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @classmethod
    def from_json(cls, text: str) -> ReportRecord:
        data = json.loads(text)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True, default=str)


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex[:8]}-{path.name}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def publish(
    notebook: nbformat.NotebookNode,
    *,
    paths: ReportPaths,
    run_id: str,
    status: str,
    parameters: dict[str, Any],
    provenance: dict[str, Any],
    summary: dict[str, str] | None = None,
    error: str | None = None,
) -> ReportRecord:
    """Write the notebook, its HTML page and its record; the record goes last (it lists them)."""
    title = f"{paths.template} · {paths.partition}" if paths.partition else paths.template
    write_atomic(paths.notebook, nbio.writes(notebook).encode())
    page = to_html(notebook, title=title, show_code=status != "succeeded")
    write_atomic(paths.html, page.encode())
    record = ReportRecord(
        template=paths.template,
        partition=paths.partition,
        status=status,
        run_id=run_id,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        notebook=f"{paths.relative_stem}.ipynb",
        html=f"{paths.relative_stem}.html",
        parameters=parameters,
        provenance=provenance,
        summary=summary or {},
        error=error,
    )
    write_atomic(paths.record, record.to_json().encode())
    return record


def read_records(root: Path) -> list[ReportRecord]:
    """Every report's record, ordered by template then partition."""
    records = [
        ReportRecord.from_json(p.read_text()) for p in sorted(root.glob("*/*.json")) if p.is_file()
    ]
    return sorted(records, key=lambda r: (r.template, r.partition or ""))


def report_url(root: Path, relative: str, *, base_url: str | None) -> str:
    """Public URL of a file under the reports root: the Data API when configured, else file://."""
    if base_url:
        return f"{base_url.rstrip('/')}/{quote(relative)}"
    return (root / relative).resolve().as_uri()

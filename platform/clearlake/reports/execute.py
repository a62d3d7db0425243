"""Running a template with papermill, and publishing any executed report at stable paths.

:func:`run_report` serves in-process Dagster runs (:mod:`clearlake.reports.engine`),
``clearlake reports run`` and the overhead benchmark alike: papermill injects the
resolved parameters after the template's ``parameters`` cell and executes it; the
template reports back through its own summary output (``publish_summary``), read from
the executed notebook. No Dagster context is rebuilt in the kernel: what a template
needs (partition, task, input asset paths, provenance) arrives as parameters. Runs
through dagstermill (:mod:`clearlake.reports.dagstermill_run`) publish with the same
:func:`publish_outcome`. Files, under ``reports_root``::

    <template>/<partition key or "latest">/report.ipynb   executed (partial if it failed)
    <template>/<partition key or "latest">/report.html    the page
    <template>/<partition key or "latest">/report.json    the record the gallery reads

Each is written atomically (readers see the old or the new page, never half of one) and
the record last, since it lists the others.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import logging
import os
import re
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import dagster as dg
from nbformat import NotebookNode

from clearlake.provenance import environment_lock_hash, platform_commit
from clearlake.reports import render
from clearlake.reports.templates import PROVENANCE, ReportExecutionError, Template, resolve
from clearlake.versioning import json_version

_UNSAFE = re.compile(r"[^A-Za-z0-9._@~=+-]")
UNPARTITIONED = "latest"
SUCCEEDED, FAILED = "succeeded", "failed"
KERNEL = "python3"
logging.getLogger("papermill").setLevel(logging.ERROR)
"""papermill's own parameter inference cannot read annotated defaults (``x: str | None =
None``) and warns about each of them on every run; :mod:`~clearlake.reports.templates`
parses and checks the cell instead."""


def safe_key(key: str | None) -> str:
    """A partition key as a folder name (``algo@1a2b3c4~deadbeef`` stays readable)."""
    return _UNSAFE.sub("_", key) if key else UNPARTITIONED


VARIANT_LENGTH = 8
"""Hex digits of a variant's parameter hash in its path (collisions: 1 in 4e9 per pair)."""


def variant_of(parameters: Mapping[str, Any], defaults: Mapping[str, Any]) -> str | None:
    """The variant a run's launchpad values make: ``None`` for the defaults, else the hash of
    the values (every settable parameter, so equal values always land on one path)."""
    if dict(parameters) == {k: defaults.get(k) for k in parameters}:
        return None
    return json_version(dict(parameters))[:VARIANT_LENGTH]


@dataclass(frozen=True)
class ReportPaths:
    root: Path
    template: str
    partition: str | None
    variant: str | None = None
    """``None``: the default report of the partition; else its parameter hash."""

    @property
    def folder(self) -> str:
        """Relative to the root."""
        base = f"{self.template}/{safe_key(self.partition)}"
        return f"{base}/{self.variant}" if self.variant else base

    @property
    def notebook(self) -> Path:
        return self.root / self.folder / "report.ipynb"

    @property
    def html(self) -> Path:
        return self.root / self.folder / "report.html"

    @property
    def record(self) -> Path:
        return self.root / self.folder / "report.json"


@dataclass(frozen=True)
class ReportRecord:
    """What the gallery and ``clearlake reports list`` know about one report."""

    template: str
    partition: str | None
    status: str
    run_id: str
    created_at: str
    notebook: str
    """Relative to the reports root, like ``html``."""
    html: str
    scope: str = "none"
    task: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    variant: str | None = None
    """Hash of the launchpad values (``None``: the template's defaults)."""
    settable: dict[str, Any] = field(default_factory=dict)
    """The launchpad values that differ from the template's defaults (what tells variants
    apart)."""

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


def read_records(root: Path) -> list[ReportRecord]:
    """Every report's record (variants too), ordered by template, partition, variant."""
    found = [*root.glob("*/*/report.json"), *root.glob("*/*/*/report.json")]
    records = [ReportRecord.from_json(p.read_text()) for p in sorted(found)]
    return sorted(records, key=lambda r: (r.template, r.partition or "", r.variant or ""))


def report_url(root: Path, relative: str, *, base_url: str | None) -> str:
    """Public URL of a file under the reports root: the Data API when configured, else file://."""
    if base_url:
        return f"{base_url.rstrip('/')}/{quote(relative)}"
    return (root / relative).resolve().as_uri()


_SCALARS = (str, int, float, bool)


def upstream(
    instance: dg.DagsterInstance, key: dg.AssetKey, partition: str | None
) -> dict[str, Any]:
    """Version, run and scalar metadata of the input's materialisation the report read."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition] if partition else None),
        limit=1,
    ).records
    event = records[0].asset_materialization if records else None
    found: dict[str, Any] = {"partitions": partition} if partition else {}
    if event is None:
        return {"data_version": None, "run_id": None, **found}
    return {
        "data_version": (event.tags or {}).get("dagster/data_version"),
        "run_id": records[0].run_id,
        **found,
        "metadata": {
            name: entry.value
            for name, entry in event.metadata.items()
            if isinstance(entry.value, _SCALARS)
            and not name.startswith(("dagster/", "provenance/"))
        },
    }


def provenance_record(
    template: Template,
    *,
    code_version: str,
    run_id: str,
    partition: str | None,
    parameters: Mapping[str, Any],
    inputs: Mapping[str, Mapping[str, Any]],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """How this report came to be: code + data (``inputs``: key → version, run…) + parameters."""
    return {
        "template": template.path.name,
        "template_hash": template.content_hash,
        "code_version": code_version,
        "platform_commit": platform_commit(),
        "environment_lock_hash": environment_lock_hash(),
        "run_id": run_id,
        "partition": partition,
        "parameters": dict(parameters),
        "parameters_hash": json_version(dict(parameters)),
        "inputs": {k: dict(v) for k, v in inputs.items()},
        **(extra or {}),
    }


def _execute(template: Template, parameters: Mapping[str, Any], out: Path) -> None:
    """papermill, retrying a kernel that died on start (ZMQ port races between kernels)."""
    # Imported here: 0.3 s (matplotlib and nbclient with it) in every process that loads the
    # definitions (the code server, each run and step process), most of which run no report.
    import papermill
    from papermill.translators import PythonTranslator, papermill_translators

    # Importing dagstermill registers its own translator for the language "python"
    # process-wide (it asserts dagstermill's run parameters); the kernel name is looked up
    # first, so papermill's plain translator serves this path without undoing dagstermill's.
    papermill_translators.register(KERNEL, PythonTranslator)
    for attempt in range(3):
        try:
            papermill.execute_notebook(
                str(template.path),
                str(out),
                parameters=dict(parameters),
                kernel_name=KERNEL,
                language="python",
                progress_bar=False,
                log_output=False,
                start_timeout=120,
                cwd=str(template.path.parent),
            )
            return
        except RuntimeError as exc:
            if "Kernel died before replying" not in str(exc) or attempt == 2:
                raise
            time.sleep(1)


def run_report(
    template: Template,
    parameters: Mapping[str, Any],
    *,
    paths: ReportPaths,
    run_id: str,
    task: str | None = None,
    settable: Mapping[str, Any] | None = None,
) -> ReportRecord:
    """Execute, render and publish one report; raises :class:`ReportExecutionError` (after
    publishing the partial notebook and its page) when a cell fails."""
    shown = {k: v for k, v in parameters.items() if k != PROVENANCE}
    provenance = dict(parameters.get(PROVENANCE) or {})
    with tempfile.TemporaryDirectory(prefix=f"report-{template.name}-") as tmp:
        executed_path = Path(tmp) / "executed.ipynb"
        try:
            _execute(template, parameters, executed_path)
            error = None
        except Exception as exc:  # papermill wrote the partial notebook first
            error = exc
        executed = (
            render.read(executed_path)
            if executed_path.is_file()
            else copy.deepcopy(template.notebook)  # no kernel ever ran
        )
    return publish_outcome(
        executed,
        error,
        template=template.name,
        scope=template.scope,
        paths=paths,
        run_id=run_id,
        task=task,
        parameters=shown,
        provenance=provenance,
        settable=settable,
    )


def publish_outcome(
    executed: NotebookNode,
    error: BaseException | None,
    *,
    template: str,
    scope: str,
    paths: ReportPaths,
    run_id: str,
    task: str | None,
    parameters: Mapping[str, Any],
    provenance: Mapping[str, Any],
    settable: Mapping[str, Any] | None,
) -> ReportRecord:
    """Publish an executed (or partial) notebook; raises :class:`ReportExecutionError`,
    after publishing the page with a banner naming the failing cell, when it failed."""
    failure = render.first_failure(executed) if error is not None else None
    if error is not None and failure is None:
        failure = render.CellFailure(None, type(error).__name__, str(error), "")
    if failure is not None:
        render.add_failure_banner(executed, template=template, failure=failure)
    record = publish(
        executed,
        paths=paths,
        run_id=run_id,
        status=FAILED if failure else SUCCEEDED,
        scope=scope,
        task=task,
        parameters=parameters,
        provenance=provenance,
        error=f"{failure.ename}: {failure.evalue}" if failure else None,
        settable=settable,
    )
    if failure is not None:
        raise ReportExecutionError(
            template=template, partition=paths.partition, failure=failure, page=paths.html
        ) from error
    return record


def publish(
    executed: NotebookNode,
    *,
    paths: ReportPaths,
    run_id: str,
    status: str,
    scope: str = "none",
    task: str | None = None,
    parameters: Mapping[str, Any],
    provenance: Mapping[str, Any],
    error: str | None = None,
    settable: Mapping[str, Any] | None = None,
) -> ReportRecord:
    """Write the notebook, its page and its record (last: it lists them)."""
    title = f"{paths.template} · {paths.partition}" if paths.partition else paths.template
    if paths.variant:
        title += f" · variant {paths.variant}"
    write_atomic(paths.notebook, render.writes(executed).encode())
    page = render.to_html(executed, title=title, show_code=status != SUCCEEDED)
    write_atomic(paths.html, page.encode())
    record = ReportRecord(
        template=paths.template,
        partition=paths.partition,
        status=status,
        run_id=run_id,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        notebook=f"{paths.folder}/report.ipynb",
        html=f"{paths.folder}/report.html",
        scope=scope,
        task=task,
        parameters=dict(parameters),
        provenance=dict(provenance),
        summary=render.read_summary(executed) if status == SUCCEEDED else {},
        error=error,
        variant=paths.variant,
        settable=dict(settable or {}),
    )
    write_atomic(paths.record, record.to_json().encode())
    return record


def run_template(
    template: Template, parameters: Mapping[str, Any], *, output_dir: Path
) -> ReportRecord:
    """A template run outside Dagster (writing a template, ``clearlake reports run``):
    defaults < ``parameters``, files under ``output_dir`` with the same layout."""
    resolved = resolve(template, parameters, {})
    return run_report(
        template,
        resolved,
        paths=ReportPaths(output_dir, template.name, None),
        run_id="local (outside Dagster)",
        task=resolved.get("task"),
    )

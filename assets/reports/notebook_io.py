"""Where a dagstermill report run lands: dagstermill's output-notebook IO manager, publishing.

``ReportNotebookIOManager`` is dagstermill's ``ConfigurableLocalOutputNotebookIOManager``
(the executed notebook under the instance's storage, "Executed notebook" metadata) that
also publishes the report where the gallery reads it (``report.{ipynb,html,json}`` of
the partition and variant, :func:`clearlake.reports.execute.publish`) and records the
report's links, summary and provenance as materialisation metadata.

A failed notebook: dagstermill deletes its temporary copy, so the report assets ask it to
keep one (``save_notebook_on_failure``: ``<storage>/<uuid>-out.ipynb``) and
:data:`keep_failed_report`, a failure hook, finds that copy by the platform cell's marker
(run id and op), publishes it with the banner naming the failing cell (status
``failed``, as the papermill path does) and removes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagstermill import ConfigurableLocalOutputNotebookIOManager
from dagstermill.io_managers import LocalOutputNotebookIOManager

from clearlake.names import OUTPUT_NOTEBOOK_IO_MANAGER
from clearlake.provenance import provenance_metadata
from clearlake.reports import render
from clearlake.reports.dagstermill_run import for_publishing, read_marker
from clearlake.reports.execute import (
    ReportPaths,
    ReportRecord,
    publish_outcome,
    report_url,
)
from clearlake.reports.templates import ReportExecutionError
from clearlake.settings import load_settings


def report_metadata(record: ReportRecord) -> dict[str, Any]:
    """Links (page, notebook, gallery), status, variant and summary of a published report."""
    settings = load_settings()
    root, base = settings.reports_root, settings.reports_url
    return {
        "report": dg.MetadataValue.url(report_url(root, record.html, base_url=base)),
        "report_notebook": dg.MetadataValue.notebook(str(root / record.notebook)),
        "report_html_path": dg.MetadataValue.path(str(root / record.html)),
        "gallery": dg.MetadataValue.url(report_url(root, "index.html", base_url=base)),
        "report_status": record.status,
        "report_variant": record.variant or "default",
        **{name: dg.MetadataValue.text(value) for name, value in record.summary.items()},
    }


def _publish(executed: Any, marker: Mapping[str, Any], error: BaseException | None) -> ReportRecord:
    paths = ReportPaths(
        load_settings().reports_root, marker["template"], marker["partition"], marker["variant"]
    )
    return publish_outcome(
        for_publishing(executed),
        error,
        template=marker["template"],
        scope=marker["scope"],
        paths=paths,
        run_id=marker["run_id"],
        task=marker.get("task"),
        parameters=marker.get("parameters") or {},
        provenance=marker.get("provenance") or {},
        settable=marker.get("settable") or {},
    )


class PublishingNotebookIOManager(LocalOutputNotebookIOManager):
    """dagstermill's local output-notebook IO manager that also publishes the report."""

    def handle_output(self, context: dg.OutputContext, obj: bytes) -> None:
        executed = render.reads(obj)
        marker = read_marker(executed)
        if marker is None:
            raise dg.Failure(
                description=(
                    f"{context.asset_key.to_user_string()}: the executed notebook has no "
                    "Clearlake run marker; build the asset with assets.reports.report_assets "
                    "(it derives the run notebook from the template)."
                )
            )
        cleaned = for_publishing(executed)
        super().handle_output(context, render.writes(cleaned).encode())
        record = _publish(cleaned, marker, None)
        context.add_output_metadata(
            {
                **report_metadata(record),
                **provenance_metadata(
                    run_id=marker["run_id"],
                    code_version=marker.get("code_version"),
                    parameters=marker.get("parameters") or {},
                    candidate_commit=marker.get("candidate_commit"),
                ),
                "template_hash": str(marker.get("template_hash")),
            }
        )


class ReportNotebookIOManager(ConfigurableLocalOutputNotebookIOManager):
    """dagstermill's ``ConfigurableLocalOutputNotebookIOManager``, publishing reports."""

    def create_io_manager(self, context: dg.InitResourceContext) -> LocalOutputNotebookIOManager:
        if self.base_dir is None and context.instance is None:
            raise dg.DagsterInvariantViolationError(
                f"{OUTPUT_NOTEBOOK_IO_MANAGER} needs a base_dir or a Dagster instance."
            )
        base = self.base_dir or str(Path(context.instance.storage_directory()))  # type: ignore[union-attr]
        return PublishingNotebookIOManager(base_dir=base, asset_key_prefix=self.asset_key_prefix)


def _saved_copy(storage: Path, run_id: str, op: str) -> tuple[Path, Any, dict[str, Any]] | None:
    """The notebook dagstermill kept for this run's op (``save_notebook_on_failure``)."""
    for path in sorted(storage.glob("*-out.ipynb"), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            executed = render.read(path)
        except (OSError, ValueError):
            continue
        marker = read_marker(executed)
        if marker is not None and marker.get("run_id") == run_id and marker.get("op") == op:
            return path, executed, marker
    return None


@dg.failure_hook(name="keep_failed_report")
def keep_failed_report(context: dg.HookContext) -> None:
    """Publish the partial notebook of a failed report (the page shows the failing cell)."""
    storage = Path(context.instance.storage_directory())
    found = _saved_copy(storage, context.run_id, context.op.name)
    if found is None:
        context.log.error(
            f"{context.op.name}: dagstermill kept no notebook of this run with Clearlake's "
            "marker (the kernel did not start, a cell before the platform cell failed, or "
            "the failure came after the notebook ran); no partial report was published. "
            "See the step's error."
        )
        return
    path, executed, marker = found
    error = context.op_exception or RuntimeError("the notebook failed")
    try:
        _publish(executed, marker, error)
    except ReportExecutionError as exc:
        context.log.error(str(exc))
    path.unlink(missing_ok=True)

"""The output-notebook IO manager of report assets: stable files instead of random paths.

dagstermill hands an executed notebook to the resource ``output_notebook_io_manager``;
this one writes it (redacted) as ``.ipynb`` + HTML + record at the stable path of its
template and partition (see :mod:`clearlake.reports.publish`) and links both from the
materialisation's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import nbformat

from clearlake.provenance import provenance_metadata
from clearlake.reports.publish import ReportPaths, ReportRecord, publish, report_url

OUTPUT_NOTEBOOK_IO_MANAGER = "output_notebook_io_manager"


@dataclass(frozen=True)
class ExecutedReport:
    """What a report asset outputs: the executed notebook and what it was made from."""

    template: str
    notebook: nbformat.NotebookNode
    parameters: dict[str, Any]
    provenance: dict[str, Any]
    summary: dict[str, str] = field(default_factory=dict)


def report_metadata(
    root: Path, record: ReportRecord, *, base_url: str | None
) -> dict[str, dg.MetadataValue]:
    """Links to the page, the notebook and the gallery, as shown in the Dagster UI."""
    metadata: dict[str, dg.MetadataValue] = {
        "report": dg.MetadataValue.url(report_url(root, record.html, base_url=base_url)),
        "report_notebook": dg.MetadataValue.notebook(str(root / record.notebook)),
        "report_html_path": dg.MetadataValue.path(str(root / record.html)),
        "gallery": dg.MetadataValue.url(report_url(root, "index.html", base_url=base_url)),
        "report_status": dg.MetadataValue.text(record.status),
    }
    for name, value in record.summary.items():
        metadata[name] = dg.MetadataValue.text(value)
    return metadata


class ReportNotebookIOManager(dg.ConfigurableIOManager):
    """Stores executed report notebooks under ``reports_root`` (one stable path per partition)."""

    reports_root: str
    reports_url: str | None = None
    """Public base URL of ``reports_root`` (the Data API's ``/reports``); file:// when unset."""

    def _paths(self, context: dg.OutputContext, template: str) -> ReportPaths:
        partition = context.partition_key if context.has_partition_key else None
        return ReportPaths(Path(self.reports_root), template, partition)

    def handle_output(self, context: dg.OutputContext, obj: ExecutedReport) -> None:
        root = Path(self.reports_root)
        record = publish(
            obj.notebook,
            paths=self._paths(context, obj.template),
            run_id=context.run_id,
            status="succeeded",
            parameters=obj.parameters,
            provenance=obj.provenance,
            summary=obj.summary,
        )
        provenance = provenance_metadata(
            run_id=context.run_id,
            code_version=obj.provenance.get("code_version"),
            parameters=obj.parameters,
            candidate_commit=obj.provenance.get("candidate_commit"),
        )
        context.add_output_metadata(
            {
                **report_metadata(root, record, base_url=self.reports_url),
                **provenance,
                "template_hash": str(obj.provenance.get("template_hash")),
            }
        )

    def load_input(self, context: dg.InputContext) -> Path:
        """Downstream assets receive the path of the stored notebook."""
        upstream = context.upstream_output
        assert upstream is not None
        partition = context.partition_key if context.has_partition_key else None
        paths = ReportPaths(Path(self.reports_root), upstream.asset_key.path[-1], partition)
        return paths.notebook

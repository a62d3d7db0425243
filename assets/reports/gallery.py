"""The report gallery: one static index of every report, refreshed when reports change."""

from pathlib import Path

import dagster as dg

from clearlake.partitions import CANDIDATES
from clearlake.provenance import provenance_metadata
from clearlake.reports import gallery
from clearlake.reports.io_manager import OUTPUT_NOTEBOOK_IO_MANAGER, ReportNotebookIOManager
from clearlake.reports.publish import report_url
from clearlake.settings import load_settings
from clearlake.versioning import source_version

GALLERY_CODE_VERSION = source_version(gallery)

refresh_on_new_reports = dg.AutomationCondition.eager().without(
    ~dg.AutomationCondition.any_deps_missing()
)
"""Eager, except that it does not wait for every candidate/day: most will never have one."""


@dg.asset(
    key=["reports", "report_gallery"],
    group_name="reports",
    description=(
        "Static HTML index of every report (CLEARLAKE_HOME/reports/index.html, the Data API's "
        "/reports/index.html), grouped by candidate and commit with verdicts and the "
        "leaderboard plot; one stable page per commit at candidates/<repo>@<commit>/index.html."
    ),
    deps=[
        dg.AssetKey(["reports", "candidate_report"]),
        dg.AssetKey(["reports", "lake_health"]),
        dg.AssetKey(["reports", "sanity_check"]),
        dg.AssetKey(["evaluation", "leaderboard"]),
    ],
    owners=["team:data-science", "team:data-platform"],
    kinds={"html"},
    code_version=GALLERY_CODE_VERSION,
    automation_condition=refresh_on_new_reports,
    required_resource_keys={OUTPUT_NOTEBOOK_IO_MANAGER},
)
def report_gallery(context: dg.AssetExecutionContext) -> dg.MaterializeResult:  # type: ignore[type-arg]
    """Writes the gallery where the report IO manager writes the reports."""
    reports: ReportNotebookIOManager = getattr(context.resources, OUTPUT_NOTEBOOK_IO_MANAGER)
    root = Path(reports.reports_root)
    base_url = reports.reports_url
    built = gallery.build_gallery(
        root,
        candidates=context.instance.get_dynamic_partitions(CANDIDATES),
        dagster_url=load_settings().dagster_url,
    )
    metadata: dict[str, dg.MetadataValue | int | str] = {
        "gallery": dg.MetadataValue.url(report_url(root, "index.html", base_url=base_url)),
        "path": dg.MetadataValue.path(str(built.index)),
        "reports": built.reports,
        "commits": len(built.commit_pages),
        **provenance_metadata(run_id=context.run_id, code_version=GALLERY_CODE_VERSION),
    }
    for commit_key in list(built.commit_pages)[:20]:
        relative = gallery.commit_page(commit_key)
        metadata[f"commit/{commit_key}"] = dg.MetadataValue.url(
            report_url(root, relative, base_url=base_url)
        )
    return dg.MaterializeResult(metadata=metadata)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[report_gallery])

"""The report gallery: one static index of every report, refreshed when reports change."""

from typing import Any

import dagster as dg

from assets.reports.report_assets import report_assets
from clearlake.evaluation import calibration, compare, gate
from clearlake.lake.store import LakeStore
from clearlake.monitoring.page import page_path
from clearlake.names import (
    GALLERY,
    candidate_partitions_name,
    comparison_key,
    gate_calibration_key,
    leaderboard_key,
    predictions_key,
)
from clearlake.orchestration.lineage import candidate_differences
from clearlake.project.load import Project, current_project
from clearlake.provenance import provenance_metadata
from clearlake.reports import compare_page as compare_pages
from clearlake.reports import gallery, verdicts
from clearlake.reports.execute import read_records, report_url
from clearlake.settings import load_settings
from clearlake.versioning import source_version

GALLERY_CODE_VERSION = source_version(gallery, verdicts, compare_pages)
LEADERBOARDS = "leaderboards"
"""``<reports>/leaderboards/<task>.png``, written by each task's leaderboard asset."""

refresh_on_new_reports = dg.AutomationCondition.eager().without(
    ~dg.AutomationCondition.any_deps_missing()
)
"""Eager, except that it does not wait for every candidate/day: most will never have one."""


def gallery_asset(report_keys: list[dg.AssetKey], tasks: list[str]) -> dg.AssetsDefinition:
    def task_reports(task: str) -> list[dg.AssetKey]:
        return [k for k in report_keys if len(k.path) == 3 and k.path[1] == task]

    @dg.asset(
        key=GALLERY,
        group_name="reports",
        description=(
            "Static HTML index of every report (CLEARLAKE_HOME/reports/index.html, the Data "
            "API's /reports/index.html): candidates grouped by task, repository and commit with "
            "verdicts, each task's leaderboard and gate calibration, then the other reports; "
            "one stable page per commit at candidates/<repo>@<commit>/index.html."
        ),
        deps=[
            *report_keys,
            *(leaderboard_key(t) for t in tasks),
            *(gate_calibration_key(t) for t in tasks),
        ],
        owners=["team:data-science", "team:data-platform"],
        kinds={"html"},
        code_version=GALLERY_CODE_VERSION,
        automation_condition=refresh_on_new_reports,
    )
    def report_gallery(context: dg.AssetExecutionContext) -> dg.MaterializeResult:  # type: ignore[type-arg]
        settings = load_settings()
        root, base_url = settings.reports_root, settings.reports_url
        project = current_project(settings)
        dagster = settings.dagster_url.rstrip("/")
        store = LakeStore(settings.lake_url)
        entries = {}
        for task, config in project.config.tasks.items():
            image = f"{LEADERBOARDS}/{task}.png"
            monitor_page = page_path(task)
            trend_page = gallery.trend_page(task)
            entries[task] = gallery.GalleryTask(
                candidates=context.instance.get_dynamic_partitions(candidate_partitions_name(task)),
                report_url=next(
                    (f"{dagster}/assets/{k.to_user_string()}" for k in task_reports(task)), None
                ),
                leaderboard=image if (root / image).is_file() else None,
                kind=config.type,
                min_effects="; ".join(f"{m} {t}" for m, t in gate.min_effect_texts(config).items()),
                **calibration_entry(store, task),
                monitor=monitor_page if (root / monitor_page).is_file() else None,
                trends=trend_page if (root / trend_page).is_file() else None,
            )
        compare_pages.build_baseline_pages(
            root, store=store, tasks=list(entries), compare=comparer(context, project, store)
        )
        pending = verdicts.pending_verdicts(store, entries, read_records(root))
        built = gallery.build_gallery(root, tasks=entries, pending=pending)
        metadata: dict[str, dg.MetadataValue | int | str] = {
            "gallery": dg.MetadataValue.url(report_url(root, "index.html", base_url=base_url)),
            "path": dg.MetadataValue.path(str(built.index)),
            "reports": built.reports,
            "pending": len(pending),
            "commits": len(built.commit_pages),
            **provenance_metadata(run_id=context.run_id, code_version=GALLERY_CODE_VERSION),
        }
        for commit_key in list(built.commit_pages)[:20]:
            relative = gallery.commit_page(commit_key)
            metadata[f"commit/{commit_key}"] = dg.MetadataValue.url(
                report_url(root, relative, base_url=base_url)
            )
        return dg.MaterializeResult(metadata=metadata)

    return report_gallery


def comparer(
    context: dg.AssetExecutionContext, project: Project, store: LakeStore
) -> compare_pages.Compare:
    """How the gallery compares a candidate with its baseline (its compare page)."""
    settings = load_settings()

    def run(task: str, a: str, b: str) -> compare.CandidateComparison:
        paths = compare.ResultPaths(predictions_key(task).path, comparison_key(task).path)
        return compare.compare_candidates(
            project=project,
            settings=settings,
            store=store,
            task_name=task,
            a=a,
            b=b,
            paths=paths,
            event_log=candidate_differences(context.instance),
        )

    return run


def calibration_entry(store: LakeStore, task: str) -> dict[str, Any]:
    """The task's latest gate calibration, as the gallery shows it (nothing if none)."""
    found = calibration.load(store, gate_calibration_key(task))
    if found is None:
        return {}
    return {"calibration": found.headline(), "calibration_rows": tuple(found.table_rows())}


def gallery_sensor() -> dg.AutomationConditionSensorDefinition:
    """Evaluates the gallery's condition; running by default. Dagster's default automation
    sensor is stopped until someone turns it on, so without this the daemon never even
    considered refreshing the gallery on the cluster (found by tests/stack)."""
    return dg.AutomationConditionSensorDefinition(
        "gallery_automation_sensor",
        target=dg.AssetSelection.assets(GALLERY),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="Refreshes the report gallery after reports or leaderboards change.",
    )


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project(load_settings())
    keys = [key for asset in report_assets(project) for key in asset.keys]
    return dg.Definitions(
        assets=[gallery_asset(keys, list(project.config.tasks))], sensors=[gallery_sensor()]
    )

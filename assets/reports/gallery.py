"""The report gallery: refreshed when reports change, one change at a time.

Each run asks Dagster which report and comparison partitions have events since the last
run (the cursor kept with the gallery) and updates only their pages
(:mod:`clearlake.reports.gallery_books`); the first run builds everything once.
"""

import dataclasses
from dataclasses import dataclass
from pathlib import Path
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
from clearlake.reports import gallery, gallery_books, verdicts
from clearlake.reports.execute import read_records, report_url
from clearlake.settings import load_settings
from clearlake.versioning import source_version

GALLERY_CODE_VERSION = source_version(gallery, gallery_books, verdicts, compare_pages)
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
        watched = watched_keys(report_keys, list(entries))
        state = gallery_books.read_state(root)
        compare = comparer(context, project, store)
        if state is None or state.cursor is None:
            cursor = newest_event(context.instance, watched)
            built = first_build(context, root, store, entries, compare, cursor)
            changed, written = len(built.commit_pages), len(built.commit_pages) + 1
            commit_pages, reports = built.commit_pages, built.reports
        else:
            found, cursor = changed_partitions(context.instance, watched, after=state.cursor)
            for task in entries:
                compare_pages.build_pages_of(
                    root, store=store, task=task, keys=found.get((task, None), ()), compare=compare
                )
            changes = gallery_changes(root, store, found, entries)
            update = gallery_books.update(root, changes, tasks=entries, cursor=cursor)
            changed, written = len(changes), len(update.written)
            commit_pages, reports = update.commit_pages, 0
        metadata: dict[str, dg.MetadataValue | int | str] = {
            "gallery": dg.MetadataValue.url(report_url(root, "index.html", base_url=base_url)),
            "path": dg.MetadataValue.path(str(root / "index.html")),
            "changed": changed,
            "pages_written": written,
            **({"reports": reports} if reports else {}),
            **provenance_metadata(run_id=context.run_id, code_version=GALLERY_CODE_VERSION),
        }
        for commit_key in list(commit_pages)[:20]:
            relative = gallery.commit_page(commit_key)
            metadata[f"commit/{commit_key}"] = dg.MetadataValue.url(
                report_url(root, relative, base_url=base_url)
            )
        return dg.MaterializeResult(metadata=metadata)

    return report_gallery


@dataclass(frozen=True)
class Watched:
    """The asset keys whose events tell the gallery what changed: per task its candidate
    reports and its comparison (a stored verdict), and each other report's template."""

    keys: dict[dg.AssetKey, tuple[str | None, str | None]]
    """key → (task, None) for a candidate partition, (None, template) for another report."""
    candidate_reports: dict[str, list[dg.AssetKey]]


def watched_keys(report_keys: list[dg.AssetKey], tasks: list[str]) -> Watched:
    keys: dict[dg.AssetKey, tuple[str | None, str | None]] = {}
    candidate_reports: dict[str, list[dg.AssetKey]] = {t: [] for t in tasks}
    for key in report_keys:
        if len(key.path) == 3 and key.path[1] in candidate_reports:
            keys[key] = (key.path[1], None)
            candidate_reports[key.path[1]].append(key)
        else:
            keys[key] = (None, key.path[-1])
    for task in tasks:
        keys[comparison_key(task)] = (task, None)
    return Watched(keys, candidate_reports)


EVENT_PAGE = 1000


def newest_event(instance: dg.DagsterInstance, watched: Watched) -> int:
    """The newest storage id among the watched keys' events (0 if none): a first build
    sees everything up to it; the next update starts after it."""
    newest = 0
    for key in watched.keys:
        for fetch in (instance.fetch_materializations, instance.fetch_failed_materializations):
            found = fetch(dg.AssetRecordsFilter(asset_key=key), limit=1)
            newest = max([newest, *(r.storage_id for r in found.records)])
    return newest


def changed_partitions(
    instance: dg.DagsterInstance, watched: Watched, *, after: int
) -> tuple[dict[tuple[str | None, str | None], set[str]], int]:
    """Partitions with an event after storage id ``after``, per (task, template), and the
    newest storage id seen: indexed lookups of what happened since, never of the history.
    Planned report materialisations count too: a candidate Dagster started is listed
    ("no report") before its report exists."""
    found: dict[tuple[str | None, str | None], set[str]] = {}
    newest = after
    for key, where in watched.keys.items():
        fetches = [instance.fetch_materializations, instance.fetch_failed_materializations]
        if where[0] is not None and key != comparison_key(where[0]):
            fetches.append(instance.fetch_planned_materializations)
        for fetch in fetches:
            cursor = None
            while True:
                result = fetch(
                    dg.AssetRecordsFilter(asset_key=key, after_storage_id=after),
                    limit=EVENT_PAGE,
                    cursor=cursor,
                    ascending=True,
                )
                for record in result.records:
                    newest = max(newest, record.storage_id)
                    if record.partition_key:
                        found.setdefault(where, set()).add(record.partition_key)
                if not result.has_more:
                    break
                cursor = result.cursor
    return found, newest


def gallery_changes(
    root: Path,
    store: LakeStore,
    found: dict[tuple[str | None, str | None], set[str]],
    tasks: dict[str, gallery.GalleryTask],
) -> list[gallery_books.Change]:
    """The changed partitions with their records now: the report records, else the stored
    verdict ("report pending"), else "no report"."""
    changes = []
    for (task, template), partitions in sorted(found.items(), key=str):
        for partition in sorted(partitions):
            records = gallery_books.partition_records(root, partition)
            if task is None:
                own = tuple(r for r in records if r.template == template)
                changes.append(gallery_books.Change(partition, own, template=template))
                continue
            reports = tuple(r for r in records if r.scope == "candidate" and r.task == task)
            if not reports:
                outcome = gate.load_outcome(store, task, partition)
                info = tasks.get(task, gallery.GalleryTask())
                reports = (
                    verdicts.pending_record(outcome, stored_at=None)
                    if outcome is not None
                    else gallery.missing_record(task, partition, info),
                )
            changes.append(gallery_books.Change(partition, reports, task=task))
    return changes


def first_build(
    context: dg.AssetExecutionContext,
    root: Path,
    store: LakeStore,
    entries: dict[str, gallery.GalleryTask],
    compare: compare_pages.Compare,
    cursor: int,
) -> gallery.Gallery:
    """The gallery from every record and candidate, once (a gallery written before the
    books existed, or none): later runs update what changed since ``cursor``."""
    context.log.info("Building the report gallery from every report (once).")
    tasks = {
        task: dataclasses.replace(
            info,
            candidates=context.instance.get_dynamic_partitions(candidate_partitions_name(task)),
        )
        for task, info in entries.items()
    }
    compare_pages.build_baseline_pages(root, store=store, tasks=list(tasks), compare=compare)
    pending = verdicts.pending_verdicts(store, tasks, read_records(root))
    return gallery_books.build_gallery(root, tasks=tasks, pending=pending, cursor=cursor)


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

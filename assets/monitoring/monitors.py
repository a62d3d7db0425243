"""``monitor/<task>/…``: a watch on each task's model after it ships (tasks with ``monitor:``).

``monitor/<task>/predictions`` (daily, the feature table's partitions)
    The watched model's predictions of day D as soon as feature day D exists; a backlog of
    days is one run and ONE runner call (single-run backfill policy), the model fitted
    once per run on the task's training suite. Per day: ``row_id``, subgroup labels,
    ``prediction``, the drift columns, ``model``; drift (PSI) beside it.
``monitor/<task>/performance`` (daily)
    Day D's labelled predictions and scores with bootstrap intervals, once the labels
    matured: it waits for feature day D + ``label_delay_days`` (a time-window partition
    mapping). A day without labels: a warning, no scores.
``monitor/<task>/status`` (unpartitioned)
    Windows against the reference, alert episodes and their messages; refreshed whenever a
    performance day lands.

The daily assets carry the tag ``flow: new-days`` and the shared automation condition
:func:`clearlake.orchestration.automation.new_days` (performance: also
:func:`labels_mature`), so a new
lake day flows through them by itself.
"""

import datetime as dt
from typing import Any

import dagster as dg

from clearlake.evaluation import metrics as metrics_module
from clearlake.features.tables import feature_table
from clearlake.lake.metadata import written_metadata
from clearlake.monitoring import (
    decisions,
    detection,
    drift,
    episodes,
    frames,
    service,
    statistics,
    storage,
)
from clearlake.monitoring import status as monitor_status
from clearlake.monitoring.page import render_page
from clearlake.names import (
    MONITORING_GROUP,
    NEW_DAYS_TAGS,
    feature_key,
    monitor_performance_key,
    monitor_predictions_key,
    monitor_status_key,
    predictions_key,
    scores_key,
)
from clearlake.orchestration.automation import new_days
from clearlake.orchestration.partitions import daily_partitions, partition_days
from clearlake.orchestration.resources import LakeResource
from clearlake.project.load import Project, current_project
from clearlake.settings import load_settings
from clearlake.versioning import digest, json_version, source_version


def _monitor_version(project: Project, task_name: str) -> str:
    """The task and its monitor (which the task's own dump leaves out)."""
    task = project.task(task_name)
    monitor = task.monitor.model_dump(mode="json") if task.monitor else None
    return json_version({**task.model_dump(mode="json"), "monitor": monitor})


def _partitions(project: Project, task_name: str) -> dg.PartitionsDefinition:
    """The feature table's days after the reference window: the days it is watched on (the
    reference's own days are what it is compared with, not monitored)."""
    task = project.task(task_name)
    table = feature_table(project, task.dataset)
    first = table.first_day
    if task.monitor is not None:
        first = max(first, frames.reference_window(task, task.monitor)[1] + dt.timedelta(days=1))
    return daily_partitions(first, table.last_day)


def status_condition() -> dg.AutomationCondition:  # type: ignore[type-arg]
    """Refresh when a performance day landed (never while it or an input runs)."""
    return (
        dg.AutomationCondition.any_deps_updated().since_last_handled()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ).with_label("new monitored day")


def labels_mature(delay: int, *, backlog_days: int) -> dg.AutomationCondition:  # type: ignore[type-arg]
    """:func:`new_days`, and not one of the latest ``delay`` days: the feature day D + delay
    that matures day D's labels must exist (a partition mapping alone cannot say it, since
    Dagster drops an upstream partition that does not exist yet)."""
    if delay == 0:
        return new_days(backlog_days=backlog_days)
    recent = dg.AutomationCondition.in_latest_time_window(dt.timedelta(days=delay))
    return (new_days(backlog_days=backlog_days) & ~recent).with_label(
        f"new lake day, labels mature ({delay} day(s))"
    )


def predictions_asset(project: Project, task_name: str) -> dg.AssetsDefinition:
    task = project.task(task_name)
    code_version = digest(
        source_version(service, frames, drift, statistics), _monitor_version(project, task_name)
    )

    @dg.asset(
        key=monitor_predictions_key(task_name),
        group_name=MONITORING_GROUP,
        description=(
            f"Task {task_name}: the watched model ({task.monitor and task.monitor.watch}) "
            f"predicts each day of {task.dataset} as soon as the day exists; drift (PSI) of "
            "its scores and declared columns against the reference window beside it."
        ),
        partitions_def=_partitions(project, task_name),
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=[feature_key(task.dataset)],
        automation_condition=new_days(backlog_days=project.config.live.backlog_days),
        code_version=code_version,
        kinds={"python", "parquet"},
        tags={**NEW_DAYS_TAGS, "task": task_name},
        owners=["team:data-science"],
    )
    def _predictions(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:  # type: ignore[type-arg]
        days = [d.isoformat() for d in partition_days(context.partition_time_window)]
        done = service.predict_days(
            context,
            project=project,
            task_name=task_name,
            days=days,
            store=lake.store(),
            settings=load_settings(),
            scores_key=scores_key(task_name),
            predictions_key=predictions_key(task_name),
        )
        for day, written in done.written.items():
            table = done.drift.get(day)
            drifting = [] if table is None else list(table[table["drifting"]]["column"])
            day_metadata: dict[str, Any] = {
                **written_metadata(written),
                "model": done.model,
                "drifting": ", ".join(drifting) or "none",
            }
            if table is not None and len(table):
                day_metadata["prediction_psi"] = round(float(table["psi"].iloc[0]), 4)
            if len(days) > 1:
                context.add_asset_metadata(day_metadata, partition_key=day)
        return dg.MaterializeResult(
            metadata={
                "model": done.model,
                "days": f"{days[0]}..{days[-1]}",
                "reference_rows_predicted": done.reference_rows,
                "fit_seconds": round(done.fit_seconds, 3),
                **({} if len(days) > 1 else day_metadata),
            },
            data_version=dg.DataVersion(
                digest(*(w.content_hash for w in done.written.values()), done.model)
            ),
        )

    return _predictions


def performance_asset(project: Project, task_name: str) -> dg.AssetsDefinition:
    task = project.task(task_name)
    assert task.monitor is not None
    delay = task.monitor.label_delay_days
    code_version = digest(
        source_version(service, frames, metrics_module), _monitor_version(project, task_name)
    )

    @dg.asset(
        key=monitor_performance_key(task_name),
        group_name=MONITORING_GROUP,
        description=(
            f"Task {task_name}: each day's predictions with their labels and scores (bootstrap "
            f"intervals), once the labels matured: day D waits for {task.dataset} day "
            f"D+{delay}."
        ),
        partitions_def=_partitions(project, task_name),
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=[
            monitor_predictions_key(task_name),
            dg.AssetDep(
                feature_key(task.dataset),
                partition_mapping=dg.TimeWindowPartitionMapping(
                    start_offset=delay, end_offset=delay
                ),
            ),
        ],
        automation_condition=labels_mature(delay, backlog_days=project.config.live.backlog_days),
        code_version=code_version,
        kinds={"python", "parquet"},
        tags={**NEW_DAYS_TAGS, "task": task_name},
        owners=["team:data-science"],
    )
    def _performance(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:  # type: ignore[type-arg]
        days = [d.isoformat() for d in partition_days(context.partition_time_window)]
        labelled = service.label_days(
            project=project,
            task_name=task_name,
            days=days,
            store=lake.store(),
            metrics=metrics_module.task_metrics(
                task, lambda ref: project.load_object(ref, what="custom metric")
            ),
        )
        last: dict[str, Any] = {}
        for day in labelled:
            overall = day.scores[day.scores["subgroup_kind"] == "overall"]
            last = {
                **written_metadata(day.written),
                "labelled_rows": day.written.row_count,
                **{
                    f"overall_{m}": round(float(v), 4)
                    for m, v in zip(overall["metric"], overall["value"], strict=True)
                },
            }
            if not day.written.row_count:
                context.log.warning(
                    f"monitor {task_name}: day {day.day} has no labelled rows "
                    f"(no {task.target} known yet): no metrics for it"
                )
            if len(days) > 1:
                context.add_asset_metadata(last, partition_key=day.day)
        return dg.MaterializeResult(
            metadata={"days": f"{days[0]}..{days[-1]}", **({} if len(days) > 1 else last)},
            data_version=dg.DataVersion(digest(*(d.written.content_hash for d in labelled))),
        )

    return _performance


def status_asset(project: Project, task_name: str) -> dg.AssetsDefinition:
    task = project.task(task_name)
    code_version = digest(
        source_version(monitor_status, decisions, detection, episodes, statistics),
        _monitor_version(project, task_name),
    )

    @dg.asset(
        key=monitor_status_key(task_name),
        group_name=MONITORING_GROUP,
        description=(
            f"Task {task_name}: the watched model's trailing windows against the reference, "
            "per subgroup and metric; alert episodes (one message when one opens, one when it "
            "resolves) and drift. Refreshed when a monitored day lands."
        ),
        deps=[monitor_performance_key(task_name)],
        automation_condition=status_condition(),
        code_version=code_version,
        kinds={"python", "json"},
        tags={**NEW_DAYS_TAGS, "task": task_name},  # evaluated by the same new-days sensor
        owners=["team:data-science"],
    )
    def _status(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:  # type: ignore[type-arg]
        status = monitor_status.refresh_status(
            project=project,
            task_name=task_name,
            store=lake.store(),
            metrics=metrics_module.task_metrics(
                task, lambda ref: project.load_object(ref, what="custom metric")
            ),
            log=context.log,
        )
        settings = load_settings()
        alerts = storage.load_state(lake.store(), task_name).to_json()
        page = render_page(settings.reports_root, status, alerts)
        return dg.MaterializeResult(
            metadata={
                "watched": status.get("watched") or "none",
                "days": status.get("days", 0),
                "last_decision": str(status.get("last_decision")),
                "open_alerts": ", ".join(e["id"] for e in status.get("open", [])) or "none",
                "events": ", ".join(
                    f"{e['event']} {e['episode']}" for e in status.get("events", [])
                )
                or "none",
                "delivered": len(status.get("delivered", [])),
                "page": dg.MetadataValue.path(str(page)),
            }
        )

    return _status


def monitor_assets(project: Project) -> list[dg.AssetsDefinition]:
    """The three assets of every task that declares a ``monitor:``."""
    return [
        build(project, name)
        for name, task in sorted(project.config.tasks.items())
        if task.monitor is not None
        for build in (predictions_asset, performance_asset, status_asset)
    ]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=monitor_assets(current_project(load_settings())))

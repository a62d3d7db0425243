"""``evaluation/<task>/leaderboard``: every candidate's overall scores over commit time.

Each task's leaderboard reads the task's candidate index
(:mod:`clearlake.evaluation.candidate_index`, which the candidate steps append to; built
from the lake once when missing, compacted here) and refreshes itself whenever one of them is
materialised (automation condition), so it is never part of a candidate's own run: a
failed or regressed candidate cannot block it. Its plot is written to
``clearlake.evaluation.leaderboard.plot_path(<reports>, task)``.
"""

import base64
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa

from clearlake.evaluation import candidate_index, gate, leaderboard, metrics, trends
from clearlake.lake.store import LakeStore
from clearlake.names import comparison_key, evaluation_group, leaderboard_key, scores_key
from clearlake.orchestration.resources import LakeResource
from clearlake.project.load import Project, current_project
from clearlake.reports import gallery
from clearlake.settings import load_settings
from clearlake.versioning import digest, json_version, source_version

REFRESH = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("refresh when a candidate is scored")
LEADERBOARD_SENSOR = "leaderboard_automation_sensor"


def leaderboard_asset(project: Project, task_name: str) -> dg.AssetsDefinition:
    task = project.task(task_name)
    primary = task.primary
    lower_is_better = metrics.lower_is_better(task, primary)
    scores, comparison = scores_key(task_name), comparison_key(task_name)
    code_version = digest(
        source_version(leaderboard, gate, trends, gallery, candidate_index),
        json_version(task.model_dump(mode="json")),
    )

    @dg.asset(
        key=leaderboard_key(task_name),
        group_name=evaluation_group(task_name),
        description=(
            f"Task {task_name}: every candidate's overall scores over commit time, with its "
            "verdict against its baseline — the progress of the algorithms at a glance "
            f"(plot: <reports>/leaderboards/{task_name}.png; trends of every metric and "
            f"subgroup: <reports>/{gallery.trend_page(task_name)})."
        ),
        deps=[scores, comparison],
        code_version=code_version,
        automation_condition=REFRESH,
        kinds={"pandas", "matplotlib"},
        owners=["team:data-science"],
        tags={"layer": "evaluation", "task": task_name},
    )
    def _leaderboard(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.Output:  # type: ignore[type-arg]
        settings, store = load_settings(), lake.store()
        index = current_index(context, store, task_name)
        rows = candidate_index.scored(index)
        frame = leaderboard.leaderboard_frame(rows)
        total = frame["candidate"].nunique()
        shown = leaderboard.newest(frame)
        window = (
            f" (the last {shown['candidate'].nunique()} of {total})"
            if len(shown) < len(frame)
            else ""
        )
        plot = leaderboard.plot_leaderboard(
            shown,
            metric=primary,
            path=leaderboard.plot_path(settings.reports_root, task_name),
            lower_is_better=lower_is_better,
            title=f"{task_name}: candidates over time{window}",
            flagged=leaderboard.regressions(
                rows[rows["candidate"].isin(shown["candidate"])], primary
            ),
        )
        page = write_trend_page(
            rows,
            root=settings.reports_root,
            task_name=task_name,
            metrics=[m.name for m in task.metrics],
        )
        table = leaderboard.markdown_table(shown, metric=primary)
        encoded = base64.b64encode(plot.read_bytes()).decode()
        return dg.Output(
            pa.Table.from_pandas(
                frame, schema=leaderboard.LEADERBOARD_SCHEMA, preserve_index=False
            ),
            metadata={
                "task": task_name,
                "candidates": total,
                "plot": dg.MetadataValue.path(str(plot)),
                "trends": dg.MetadataValue.path(str(page)),
                "preview": dg.MetadataValue.md(
                    f"![leaderboard](data:image/png;base64,{encoded})\n\n{table}"
                ),
            },
        )

    return _leaderboard


def current_index(
    context: dg.AssetExecutionContext, store: LakeStore, task_name: str
) -> pd.DataFrame:
    """The task's candidate index: built from the lake the first time (a lake written before
    the index existed), compacted when its loose appends exceed their bound; one listing."""
    compaction = candidate_index.compact(store, task_name, require_built=True)
    if not compaction.built:
        keys = context.instance.get_materialized_partitions(scores_key(task_name))
        context.log.info(
            f"Building the candidate index of task {task_name} from the lake: "
            f"{len(keys)} candidate(s), once."
        )
        candidate_index.rebuild(
            store,
            task_name,
            keys,
            scores_table="/".join(scores_key(task_name).path),
            comparison_table="/".join(comparison_key(task_name).path),
            progress=lambda done, total: context.log.info(f"indexed {done}/{total} candidates"),
        )
        compaction = candidate_index.compact(store, task_name)
    if compaction.folded:
        context.log.info(f"Compacted {len(compaction.folded)} file(s) into the candidate index.")
    return compaction.index


def write_trend_page(rows: pd.DataFrame, *, root: Path, task_name: str, metrics: list[str]) -> Path:
    """The task's trend figures and page (``<reports>/trends/<task>/``): the last
    ``trends.LAST_COMMITS`` candidates of the index ``rows``, every metric that was scored."""
    frame = trends.trend_rows(rows)
    page = root / gallery.trend_page(task_name)
    names = [m for m in metrics if m in set(frame["metric"])]
    figures = trends.draw_trends(frame, metrics=names, directory=page.parent)
    return gallery.write_trend_page(
        root,
        task_name,
        [gallery.TrendFigure(title, image, note) for title, image, note in figures],
        shown=frame["candidate"].nunique(),
        total=rows["candidate"].nunique(),
    )


def leaderboard_assets(project: Project) -> list[dg.AssetsDefinition]:
    return [leaderboard_asset(project, task) for task in sorted(project.config.tasks)]


def leaderboard_sensor(project: Project) -> dg.AutomationConditionSensorDefinition:
    """Evaluates the leaderboards' condition; running by default (Dagster's default
    automation sensor is stopped until someone turns it on)."""
    return dg.AutomationConditionSensorDefinition(
        LEADERBOARD_SENSOR,
        target=dg.AssetSelection.assets(*(leaderboard_key(t) for t in project.config.tasks)),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="Refreshes each task's leaderboard after its candidates are scored.",
    )


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project(load_settings())
    if not project.config.tasks:
        return dg.Definitions()
    return dg.Definitions(assets=leaderboard_assets(project), sensors=[leaderboard_sensor(project)])

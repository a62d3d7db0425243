"""``evaluation/<task>/leaderboard``: every candidate's overall scores over commit time.

Each task's leaderboard reads the scores and comparisons of the task's evaluated
candidates (listed from the instance) and refreshes itself whenever one of them is
materialised (automation condition), so it is never part of a candidate's own run: a
failed or regressed candidate cannot block it. Its plot is written to
``clearlake.evaluation.leaderboard.plot_path(<reports>, task)``.
"""

import base64
from pathlib import Path

import dagster as dg
import pyarrow as pa

from clearlake.errors import ClearlakeError
from clearlake.evaluation import candidates, gate, leaderboard, metrics, trends
from clearlake.names import comparison_key, evaluation_group, leaderboard_key, scores_key
from clearlake.project.load import Project, current_project
from clearlake.reports import gallery
from clearlake.resources import LakeResource
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
        source_version(leaderboard, gate, trends, gallery),
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
        keys = sorted(context.instance.get_materialized_partitions(scores))
        entries = []
        for key in keys:
            scores_path = store.partition_file("/".join(scores.path), f"key={key}")
            comparison_path = store.partition_file("/".join(comparison.path), f"key={key}")
            if not store.exists(scores_path):
                context.log.warning(f"{key}: scores are recorded but {scores_path} is missing")
                continue
            try:
                committed = candidates.candidate_commit_info(
                    key, store=store, project=project, settings=settings
                ).committed_at
            except ClearlakeError as exc:
                context.log.warning(f"{key}: commit time unknown ({exc})")
                committed = None
            entries.append(
                leaderboard.Entry(
                    key=key,
                    committed_at=committed,
                    scores=store.read_table(scores_path).to_pandas(),
                    comparison=store.read_table(comparison_path).to_pandas()
                    if store.exists(comparison_path)
                    else None,
                    gate=gate.load_outcome(store, task_name, key),
                )
            )
        frame = leaderboard.build_leaderboard(entries)
        flagged = {e.key: leaderboard.subgroup_regressions(e, primary) for e in entries}
        plot = leaderboard.plot_leaderboard(
            frame,
            metric=primary,
            path=leaderboard.plot_path(settings.reports_root, task_name),
            lower_is_better=lower_is_better,
            title=f"{task_name}: candidates over time",
            flagged={k: v for k, v in flagged.items() if v},
        )
        page = write_trends(
            entries,
            root=settings.reports_root,
            task_name=task_name,
            metrics=[m.name for m in task.metrics],
        )
        table = leaderboard.markdown_table(frame, metric=primary)
        encoded = base64.b64encode(plot.read_bytes()).decode()
        return dg.Output(
            pa.Table.from_pandas(
                frame, schema=leaderboard.LEADERBOARD_SCHEMA, preserve_index=False
            ),
            metadata={
                "task": task_name,
                "candidates": len(entries),
                "plot": dg.MetadataValue.path(str(plot)),
                "trends": dg.MetadataValue.path(str(page)),
                "preview": dg.MetadataValue.md(
                    f"![leaderboard](data:image/png;base64,{encoded})\n\n{table}"
                ),
            },
        )

    return _leaderboard


def write_trends(
    entries: list[leaderboard.Entry], *, root: Path, task_name: str, metrics: list[str]
) -> Path:
    """The task's trend figures and page (``<reports>/trends/<task>/``): the last
    ``trends.LAST_COMMITS`` candidates, every metric of the task that was scored."""
    frame = trends.trend_frame(entries)
    page = root / gallery.trend_page(task_name)
    names = [m for m in metrics if m in set(frame["metric"])]
    figures = trends.draw_trends(frame, metrics=names, directory=page.parent)
    return gallery.write_trend_page(
        root,
        task_name,
        [gallery.TrendFigure(title, image, note) for title, image, note in figures],
        shown=frame["candidate"].nunique(),
        total=len(entries),
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

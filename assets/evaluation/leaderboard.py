"""``evaluation/leaderboard``: every candidate's overall scores over commit time, with a plot.

It reads the scores and comparisons of every evaluated candidate partition (listed from
the instance) and refreshes itself whenever one of them is materialised (automation
condition), so it is never part of a candidate's own run: a failed or regressed
candidate cannot block it.
"""

import base64

import dagster as dg
import pyarrow as pa

from clearlake.errors import ClearlakeError
from clearlake.evaluation import candidates, leaderboard
from clearlake.evaluation.config import ClearlakeConfig, load_config
from clearlake.resources import LakeResource
from clearlake.settings import load_settings
from clearlake.versioning import digest, json_version, source_version

SCORES = dg.AssetKey(["evaluation", "candidate_scores"])
COMPARISON = dg.AssetKey(["evaluation", "candidate_comparison"])
LEADERBOARD = dg.AssetKey(["evaluation", "leaderboard"])

REFRESH = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("refresh when a candidate is scored")


def leaderboard_asset(config: ClearlakeConfig) -> dg.AssetsDefinition:
    primary = config.evaluation.primary_metric
    code_version = digest(
        source_version(leaderboard), json_version(config.evaluation.model_dump(mode="json"))
    )

    @dg.asset(
        key=LEADERBOARD,
        group_name="evaluation",
        description=(
            "Every candidate's overall scores over commit time, with its verdict against its "
            "baseline: the progress of the algorithms at a glance (plot in <reports>/"
            "leaderboard.png)."
        ),
        deps=[SCORES, COMPARISON],
        code_version=code_version,
        automation_condition=REFRESH,
        kinds={"pandas", "matplotlib"},
        owners=["team:data-science"],
        tags={"layer": "evaluation"},
    )
    def _leaderboard(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.Output:  # type: ignore[type-arg]
        settings, store = load_settings(), lake.store()
        keys = sorted(context.instance.get_materialized_partitions(SCORES))
        entries = []
        for key in keys:
            scores_path = store.partition_file("/".join(SCORES.path), f"key={key}")
            comparison_path = store.partition_file("/".join(COMPARISON.path), f"key={key}")
            if not store.exists(scores_path):
                context.log.warning(f"{key}: scores are recorded but {scores_path} is missing")
                continue
            try:
                committed = candidates.candidate_commit_info(
                    key, store=store, config=config, settings=settings
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
                )
            )
        frame = leaderboard.build_leaderboard(entries)
        flagged = {e.key: leaderboard.subgroup_regressions(e, primary) for e in entries}
        plot = leaderboard.plot_leaderboard(
            frame,
            metric=primary,
            path=settings.reports_root / "leaderboard.png",
            flagged={k: v for k, v in flagged.items() if v},
        )
        table = leaderboard.markdown_table(frame, metric=primary)
        encoded = base64.b64encode(plot.read_bytes()).decode()
        return dg.Output(
            pa.Table.from_pandas(
                frame, schema=leaderboard.LEADERBOARD_SCHEMA, preserve_index=False
            ),
            metadata={
                "candidates": len(entries),
                "plot": dg.MetadataValue.path(str(plot)),
                "preview": dg.MetadataValue.md(
                    f"![leaderboard](data:image/png;base64,{encoded})\n\n{table}"
                ),
            },
        )

    return _leaderboard


def leaderboard_sensor() -> dg.AutomationConditionSensorDefinition:
    """Evaluates the leaderboard's condition; running by default (Dagster's default
    automation sensor is stopped until someone turns it on)."""
    return dg.AutomationConditionSensorDefinition(
        "leaderboard_automation_sensor",
        target=dg.AssetSelection.assets(LEADERBOARD),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="Refreshes evaluation/leaderboard after candidates are scored.",
    )


@dg.definitions
def defs() -> dg.Definitions:
    config = load_config(load_settings().config_path)
    return dg.Definitions(assets=[leaderboard_asset(config)], sensors=[leaderboard_sensor()])

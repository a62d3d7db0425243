"""Candidate-partitioned assets of each task: [stage outputs →] predictions → scores →
comparison. Thin: each asset resolves its candidate run and calls the step functions of
:mod:`clearlake.evaluation.candidate_steps` in the order that module states.

Partition key ``<repo>@<sha7>[~<paramhash8>]`` (a pipeline task's
``<repo>@<sha7>+…+<model>@<sha7>[~<paramhash8>]``) in the task's dynamic partitions
(``names.candidate_partitions_name(task)``; parse a key with
``clearlake.evaluation.candidates.CandidateKey.parse``). Outputs (Arrow tables stored by the
lake IO manager at ``<lake>/evaluation/<task>/<asset>/key=<key>/data.parquet``):

``evaluation/<task>/stage_<repo>`` (pipeline tasks, :mod:`assets.evaluation.stages`)
    A transform stage's output, stored content-addressed; metadata ``reused``,
    ``computed_by``, ``transform_runs``.
``evaluation/<task>/candidate_predictions``
    ``row_id``, one string column per subgroup, ``actual``, ``prediction`` (shape per task
    type: :mod:`clearlake.evaluation.predictions`). Metadata: ``candidate``, ``task``,
    ``commit`` (the model stage's full sha), ``stages`` (JSON ``{repo: full sha}`` in stage
    order), ``commit_subject``, ``author``, ``committed_at``, ``entrypoint``,
    ``fit_seconds``, ``predict_seconds``, ``compute_seconds``, ``provenance/*``.
``evaluation/<task>/candidate_scores``
    ``metric``, ``subgroup_kind`` ('overall' or a subgroup label), ``subgroup`` ('all'
    overall), ``value``, ``ci_low``, ``ci_high``, ``n_rows``. Metadata: ``overall_<metric>``.
``evaluation/<task>/candidate_comparison``
    ``metric``, ``subgroup_kind``, ``subgroup``, ``candidate_value``, ``baseline_value``,
    ``delta``, ``ci_low``, ``ci_high`` (simultaneous, seed-inflated CI of the delta: metadata
    ``interval`` says so), ``boot_low``, ``boot_high`` (per-row bootstrap percentile),
    ``verdict`` ('improved' | 'regressed' | 'no significant change' | 'inconclusive' |
    'no baseline'), ``n_rows``, ``se``, ``seed_sd``, ``mde``, ``min_effect``, ``p_adjusted``.
    Metadata: ``candidate``, ``baseline`` (key or 'none'), ``baseline_status`` (a fallback
    named), ``changed_stages`` (a pipeline's stages that differ from the baseline: JSON
    ``[{repo, old, new}]``), ``gate``, ``gate_summary``, ``gate_record``
    (:mod:`clearlake.evaluation.gate`), ``min_effects``, ``interval``, ``overall_verdict``,
    ``regressions``, ``comparison`` (a Markdown table) and ``delta_plot``
    (:mod:`clearlake.evaluation.comparison_view`), ``gallery_page``; blocking check
    ``REGRESSION_CHECK``, one result per candidate partition, passes unless the gate is
    blocked. Notifiers are told after the check; then a blocked candidate's step fails with
    the gate headline.

Code versions come from :mod:`clearlake.evaluation.code_versions`: each hashes the code its
step runs and the configuration it reads (suites, the columns a candidate sees, stage
declarations, metrics…), so a change invalidates exactly what it reaches; the candidate's
own commits are part of the partition, so a new commit adds a partition and recomputes
nothing else.
"""

import json
import time
import warnings
from collections.abc import Iterator
from typing import Any

import dagster as dg
import pandas as pd

from assets.evaluation.runs import candidate_run_of, common
from assets.evaluation.stages import stage_assets
from assets.evaluation.suites import suite_dep
from clearlake.evaluation import candidate_steps, code_versions, comparison_view, metrics, scoring
from clearlake.evaluation.candidate_run import CandidateRun
from clearlake.evaluation.candidates import changed_stages
from clearlake.evaluation.gate import GateOutcome
from clearlake.evaluation.suites import current_window
from clearlake.features.datasets import table_digest
from clearlake.lake.store import LakeStore
from clearlake.names import (
    REGRESSION_CHECK,
    candidate_partitions_name,
    comparison_key,
    gate_calibration_key,
    predictions_key,
    scores_key,
    stage_output_key,
)
from clearlake.orchestration.partitions import candidate_partitions
from clearlake.orchestration.resources import LakeResource, SettingsResource
from clearlake.project.config import TaskConfig
from clearlake.project.load import Project, current_project
from clearlake.provenance import PROVENANCE_PREFIX, provenance_metadata
from clearlake.reports.gallery import commit_url
from clearlake.settings import load_settings
from clearlake.versioning import json_version


def regression_check(task_name: str) -> dg.AssetCheckSpec:
    """The blocking check, partitioned like its asset: each candidate has its own result, so
    the UI shows the blocked candidate's partition failed and the others passed, and a check's
    history is per candidate (an unpartitioned check on a partitioned asset takes the colour
    of its latest result for every partition). Partitioned checks are a Dagster *preview*
    (1.13): its warning is silenced here, where the choice is made."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(
            REGRESSION_CHECK,
            asset=comparison_key(task_name),
            blocking=True,
            partitions_def=candidate_partitions(candidate_partitions_name(task_name)),
            description="No metric regressed significantly, overall or in any subgroup.",
        )


def task_version(task: TaskConfig) -> str:
    """The whole task's hash (what the gate's calibration depends on)."""
    return json_version(task.model_dump(mode="json"))


def task_metrics(project: Project, task: TaskConfig) -> list[metrics.Metric]:
    return metrics.task_metrics(task, lambda ref: project.load_object(ref, what="custom metric"))


def run_provenance(run: CandidateRun, *, run_id: str, code_version: str) -> dict[str, str]:
    """The provenance record of a candidate's assets: every stage's full commit, parameters."""
    return {
        **provenance_metadata(
            run_id=run_id,
            code_version=code_version,
            parameters=run.parameters,
            candidate_commit=run.sha,
        ),
        f"{PROVENANCE_PREFIX}stages": json.dumps(run.stage_shas),
    }


def predictions_asset(project: Project, task_name: str) -> dg.AssetsDefinition:
    task = project.task(task_name)
    code_version = code_versions.predictions_code_version(project, task_name)
    transforms = task.transform_stages
    upstream = (
        [stage_output_key(task_name, transforms[-1].repository)]
        if transforms
        else [suite_dep(project, task_name, s) for s in (task.train_suite, task.test_suite)]
    )

    @dg.asset(
        key=predictions_key(task_name),
        description=(
            f"Task {task_name} ({task.type}, target {task.target} of {task.dataset}): the "
            f"candidate fitted on suite {task.train_suite!r} predicts suite {task.test_suite!r}"
            + (f" (fed by stage {transforms[-1].repository})" if transforms else "")
            + ", out of process, at exactly its commit, with a timeout. Columns row_id, "
            + "".join(f"{s.label}, " for s in task.subgroups)
            + "actual, prediction."
        ),
        deps=upstream,
        code_version=code_version,
        kinds={"python", "pandas"},
        **common(task_name),
    )
    def _predictions(
        context: dg.AssetExecutionContext, lake: LakeResource, settings: SettingsResource
    ) -> dg.Output:  # type: ignore[type-arg]
        store = lake.store()
        run = candidate_run_of(context, project, settings.settings(), store)
        commits = candidate_steps.stage_commits(run)
        info = commits[run.model.name]
        candidate_steps.record_commit(store, run, info)
        context.log.info(f"{run.key}: {info.subject!r} by {info.author}")
        predicted = candidate_steps.predict_candidate(context, run, store=store)
        table = predicted.table
        return dg.Output(
            table,
            data_version=dg.DataVersion(table_digest(table)),
            metadata={
                "candidate": str(run.key),
                "task": task_name,
                "commit": run.sha,
                "stages": dg.MetadataValue.json(run.stage_shas),
                "commit_subject": info.subject,
                "author": info.author,
                "committed_at": dg.MetadataValue.timestamp(info.committed_at),
                "entrypoint": run.repository.entrypoint,
                "seed": task.seeds.seed,
                "test_window": "..".join(
                    map(str, current_window(store, task_name, task, task.test_suite) or ())
                ),
                "takes_seed": predicted.outcome.takes_seed,
                "fit_seconds": round(predicted.outcome.fit_seconds, 3),
                "predict_seconds": round(predicted.outcome.predict_seconds, 3),
                "compute_seconds": round(predicted.outcome.wall_seconds, 3),
                **run_provenance(run, run_id=context.run_id, code_version=code_version),
            },
        )

    return _predictions


def scores_asset(project: Project, task_name: str) -> dg.AssetsDefinition:
    task = project.task(task_name)
    code_version = code_versions.scores_code_version(project, task_name)
    names = ", ".join(m.name for m in task.metrics)
    kinds = ", ".join(s.label for s in task.subgroups) or "none"

    @dg.asset(
        key=scores_key(task_name),
        description=(
            f"Task {task_name}: {names} of the candidate overall and per subgroup ({kinds}) "
            "with bootstrap confidence intervals (fixed seed). Columns metric, subgroup_kind, "
            "subgroup, value, ci_low, ci_high, n_rows."
        ),
        ins={"candidate_predictions": dg.AssetIn(predictions_key(task_name))},
        code_version=code_version,
        kinds={"python", "pandas"},
        **common(task_name),
    )
    def _scores(
        context: dg.AssetExecutionContext,
        lake: LakeResource,
        settings: SettingsResource,
        candidate_predictions: pd.DataFrame,
    ) -> dg.Output:  # type: ignore[type-arg]
        started = time.perf_counter()
        store = lake.store()
        run = candidate_run_of(
            context, project, settings.settings(), store, upstream=predictions_key(task_name)
        )
        scored = candidate_steps.score_candidate(
            candidate_predictions, run=run, metrics=task_metrics(project, run.task)
        )
        candidate_steps.record_scores(store, run, scored.frame)
        return dg.Output(
            scored.table,
            data_version=dg.DataVersion(table_digest(scored.table)),
            metadata={
                "candidate": str(run.key),
                "task": task_name,
                "stages": dg.MetadataValue.json(run.stage_shas),
                **{f"overall_{m}": round(v, 4) for m, v in scored.overall.items()},
                "compute_seconds": round(time.perf_counter() - started, 3),
                **run_provenance(run, run_id=context.run_id, code_version=code_version),
            },
        )

    return _scores


def comparison_metadata(
    run: CandidateRun,
    compared: candidate_steps.Compared,
    outcome: GateOutcome,
    *,
    page: str,
) -> dict[str, Any]:
    """What the comparison's materialisation records (the gate outcome included: the one
    record baselines, views and reports are decided from)."""
    frame, task = compared.frame, run.task
    base = compared.baseline.key
    return {
        "candidate": str(run.key),
        "task": run.task_name,
        "stages": dg.MetadataValue.json(run.stage_shas),
        "baseline": base or "none",
        "baseline_status": compared.baseline.note,
        "changed_stages": dg.MetadataValue.json(
            [vars(c) for c in changed_stages(run.key, base)] if base else []
        ),
        "gate": outcome.status,
        "gate_summary": outcome.headline(),
        "gate_record": dg.MetadataValue.json(outcome.to_json()),
        "min_effects": "; ".join(f"{m} {t}" for m, t in outcome.min_effects.items()),
        "overall_verdict": scoring.overall_verdict(frame, task.primary),
        "regressions": "; ".join(r.text() for r in outcome.reasons) or "none",
        "comparison": dg.MetadataValue.md(comparison_view.markdown_table(frame)),
        "delta_plot": dg.MetadataValue.md(
            comparison_view.markdown_image(
                comparison_view.delta_plot(frame, metric=task.primary),
                alt=f"{task.primary} delta per subgroup",
            )
        ),
        "gallery_page": dg.MetadataValue.url(page),
        "compute_seconds": round(compared.seconds, 3),
        **compared.extra,
    }


def regression_check_result(run: CandidateRun, outcome: GateOutcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=REGRESSION_CHECK,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description="\n".join(outcome.details()),
        # Text only: numeric entries become a plot over the check's executions.
        metadata={
            "candidate": str(run.key),
            "gate": outcome.status,
            "regressions": dg.MetadataValue.text(
                "; ".join(r.text() for r in outcome.reasons) or "none"
            ),
        },
    )


def stored_predictions(store: LakeStore, task_name: str, key: str | None) -> pd.DataFrame | None:
    """A candidate's stored predictions (the baseline's), as the lake IO manager wrote them."""
    if key is None:
        return None
    path = store.partition_file("/".join(predictions_key(task_name).path), f"key={key}")
    return store.read_table(path).to_pandas()


def comparison_asset(project: Project, task_name: str) -> dg.AssetsDefinition:
    key_of_comparison = comparison_key(task_name)
    code_version = code_versions.comparison_code_version(project, task_name)
    partitions = candidate_partitions_name(task_name)

    @dg.asset(
        key=key_of_comparison,
        description=(
            f"Task {task_name}: the candidate against its baseline on identical rows: deltas "
            "with confidence intervals and a verdict (improved / regressed / no significant "
            "change) overall and per subgroup. A significant regression fails the blocking "
            f"check {REGRESSION_CHECK!r}."
        ),
        ins={
            "candidate_predictions": dg.AssetIn(predictions_key(task_name)),
            "candidate_scores": dg.AssetIn(scores_key(task_name)),
        },
        code_version=code_version,
        kinds={"python", "pandas"},
        check_specs=[regression_check(task_name)],
        **common(task_name),
    )
    def _comparison(
        context: dg.AssetExecutionContext,
        lake: LakeResource,
        settings: SettingsResource,
        candidate_predictions: pd.DataFrame,
        candidate_scores: pd.DataFrame,
    ) -> Iterator[dg.Output | dg.AssetCheckResult]:  # type: ignore[type-arg]
        platform, store = settings.settings(), lake.store()
        run = candidate_run_of(
            context, project, platform, store, upstream=predictions_key(task_name)
        )
        # 1. the baseline (waiting for an unfinished one) and the comparison with it
        resolved = candidate_steps.find_baseline(
            context.instance,
            run,
            comparison=key_of_comparison,
            is_known=lambda key: context.instance.has_dynamic_partition(partitions, key),
        )
        compared = candidate_steps.compare_candidate(
            context,
            run,
            resolved,
            project=project,
            settings=platform,
            store=store,
            baseline_predictions=stored_predictions(store, task_name, resolved.key),
            candidate_predictions=candidate_predictions,
            candidate_scores=candidate_scores,
            metrics=task_metrics(project, run.task),
        )
        # 2. the gate decision
        outcome = candidate_steps.decide_gate(
            run, compared, store=store, calibration_key=gate_calibration_key(task_name)
        )
        context.log.info(f"{run.key}: gate {outcome.headline()}")
        # 3. the display caches, then the materialisation and its blocking check
        candidate_steps.record_for_display(
            store, run, outcome, scores=candidate_scores, comparison=compared.frame
        )
        page = commit_url(platform.reports_root, str(run.key), base_url=platform.reports_url)
        table = scoring.as_table(compared.frame, scoring.COMPARISON_SCHEMA)
        yield dg.Output(
            table,
            data_version=dg.DataVersion(table_digest(table)),
            metadata={
                **comparison_metadata(run, compared, outcome, page=page),
                **run_provenance(run, run_id=context.run_id, code_version=code_version),
            },
        )
        yield regression_check_result(run, outcome)
        # 4. the notifiers, once the outcome is recorded
        candidate_steps.announce(run, outcome, page=page, log=context.log)
        # 5. a blocked candidate's run fails with the gate headline and its report's page
        # (the blocking check alone reads "1 blocking asset check failed" and a stack)
        if not outcome.passed:
            raise dg.Failure(
                description=outcome.headline(),
                metadata={"gate": outcome.status, "gallery_page": dg.MetadataValue.url(page)},
                allow_retries=False,
            )

    return _comparison


def candidate_assets(project: Project) -> list[dg.AssetsDefinition]:
    """Stage outputs, predictions, scores and comparison of every task of the project."""
    return [
        asset
        for task in sorted(project.config.tasks)
        for asset in [
            *stage_assets(project, task),
            predictions_asset(project, task),
            scores_asset(project, task),
            comparison_asset(project, task),
        ]
    ]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=candidate_assets(current_project(load_settings())))

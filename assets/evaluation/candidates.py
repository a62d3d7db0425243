"""Candidate-partitioned assets of each task: predictions → scores → comparison.

Partition key ``<repo>@<sha7>[~<paramhash8>]`` in the task's dynamic partitions
(``names.candidate_partitions_name(task)``; parse a key with
``clearlake.evaluation.candidates.CandidateKey.parse``). Outputs (Arrow tables stored by the
lake IO manager at ``<lake>/evaluation/<task>/<asset>/key=<key>/data.parquet``):

``evaluation/<task>/candidate_predictions``
    ``row_id``, one string column per subgroup, ``actual``, ``prediction`` (shape per task
    type: :mod:`clearlake.evaluation.predictions`). Metadata: ``candidate``, ``task``,
    ``commit``, ``commit_subject``, ``author``, ``committed_at``, ``entrypoint``,
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
    named), ``gate``, ``gate_summary``, ``gate_record`` (:mod:`clearlake.evaluation.gate`),
    ``min_effects``, ``interval``, ``overall_verdict``, ``regressions``, ``comparison`` (a
    Markdown table) and ``delta_plot`` (:mod:`clearlake.evaluation.comparison_view`),
    ``gallery_page``; blocking check ``REGRESSION_CHECK``, one result per candidate
    partition, passes unless the gate is blocked. Notifiers of the repository are told
    after the check; then a blocked candidate's step fails with the gate headline.

Code versions hash the evaluation code and *this task's* configuration (and a custom
metric's source), so editing one task unsyncs nothing of another; the candidate's own
commit is part of the partition, so a new commit adds a partition and recomputes nothing
else.
"""

import inspect
import time
import warnings
from collections.abc import Iterator
from typing import Any

import dagster as dg
import pandas as pd

from assets.evaluation.suites import suite_dep
from clearlake.evaluation import (
    baseline,
    calibration,
    candidate_index,
    candidate_process,
    candidates,
    comparison_view,
    gate,
    git,
    metrics,
    notify,
    predictions,
    runner,
    scoring,
    seeds,
    sequential,
    windows,
)
from clearlake.evaluation.suites import current_window, row_id
from clearlake.features.datasets import table_digest
from clearlake.lake.store import LakeStore
from clearlake.names import (
    REGRESSION_CHECK,
    candidate_partitions_name,
    comparison_key,
    evaluation_group,
    gate_calibration_key,
    predictions_key,
    scores_key,
)
from clearlake.orchestration.partitions import candidate_partitions
from clearlake.orchestration.resources import LakeResource
from clearlake.project.config import TaskConfig
from clearlake.project.load import Project, current_project
from clearlake.provenance import provenance_metadata
from clearlake.reports.gallery import commit_url
from clearlake.settings import load_settings
from clearlake.versioning import digest, json_version, source_version


def common(task_name: str) -> dict[str, Any]:
    return {
        "group_name": evaluation_group(task_name),
        "partitions_def": candidate_partitions(candidate_partitions_name(task_name)),
        "owners": ["team:data-science"],
        "tags": {"layer": "evaluation", "partitioned_by": "candidate", "task": task_name},
    }


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
    return json_version(task.model_dump(mode="json"))


def custom_metric_sources(project: Project, task: TaskConfig) -> str:
    """The source of the task's custom metrics (part of the scores' code version); a metric
    that cannot be imported is left out here and fails its candidates' scores instead."""
    sources = []
    for metric in task.metrics:
        if metric.function is None:
            continue
        try:
            sources.append(inspect.getsource(project.load_object(metric.function, what="metric")))
        except Exception:  # reported where it matters: when a candidate is scored
            sources.append(f"unavailable:{metric.function}")
    return digest(*sources)


def task_metrics(project: Project, task: TaskConfig) -> list[metrics.Metric]:
    return metrics.task_metrics(task, lambda ref: project.load_object(ref, what="custom metric"))


def candidate_provenance(
    context: dg.AssetExecutionContext, lake: LakeResource, code_version: str, project: Project
) -> dict[str, str]:
    """The provenance record of a candidate's downstream assets: its commit and parameters."""
    store, key = lake.store(), context.partition_key
    commit = candidates.candidate_commit_info(key, store=store, project=project).sha
    return provenance_metadata(
        run_id=context.run_id,
        code_version=code_version,
        parameters=candidates.candidate_parameters(key, store=store),
        candidate_commit=commit,
    )


def predictions_asset(project: Project, task_name: str) -> dg.AssetsDefinition:
    task = project.task(task_name)
    dataset = project.feature(task.dataset)
    code_version = digest(
        source_version(runner, candidate_process, predictions, candidates, git),
        task_version(task),
    )

    @dg.asset(
        key=predictions_key(task_name),
        description=(
            f"Task {task_name} ({task.type}, target {task.target} of {task.dataset}): the "
            f"candidate fitted on suite {task.train_suite!r} predicts suite {task.test_suite!r}"
            ", out of process, at exactly its commit, with a timeout. Columns row_id, "
            + "".join(f"{s.label}, " for s in task.subgroups)
            + "actual, prediction."
        ),
        deps=[suite_dep(project, task_name, s) for s in (task.train_suite, task.test_suite)],
        code_version=code_version,
        kinds={"python", "pandas"},
        **common(task_name),
    )
    def _predictions(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.Output:  # type: ignore[type-arg]
        settings, store = load_settings(), lake.store()
        key = context.partition_key
        candidate = candidates.resolve_candidate(
            key, project=project, settings=settings, store=store
        )
        info = candidate.git.commit_info(candidate.sha)
        candidates.save_commit_info(store, key, info)
        candidate_index.index_candidate(store, task_name, key, commit=info)
        worktree = candidate.git.checkout(candidate.sha)
        context.log.info(f"{key}: {info.subject!r} by {info.author} checked out at {worktree}")
        outcome, test = runner.run_on_suites(
            context,
            key=key,
            candidate=candidate,
            worktree=worktree,
            task_name=task_name,
            task=task,
            dataset=dataset,
            store=store,
            seeds=[task.seeds.seed],
        )
        table = predictions.predictions_table(
            test, outcome.predictions, task=task, row_id=row_id(task, dataset)
        )
        return dg.Output(
            table,
            data_version=dg.DataVersion(table_digest(table)),
            metadata={
                "candidate": key,
                "task": task_name,
                "commit": info.sha,
                "commit_subject": info.subject,
                "author": info.author,
                "committed_at": dg.MetadataValue.timestamp(info.committed_at),
                "entrypoint": candidate.repository.entrypoint,
                "seed": task.seeds.seed,
                "test_window": "..".join(
                    map(str, current_window(store, task_name, task, task.test_suite) or ())
                ),
                "takes_seed": outcome.takes_seed,
                "fit_seconds": round(outcome.fit_seconds, 3),
                "predict_seconds": round(outcome.predict_seconds, 3),
                "compute_seconds": round(outcome.wall_seconds, 3),
                **provenance_metadata(
                    run_id=context.run_id,
                    code_version=code_version,
                    parameters=candidate.parameters,
                    candidate_commit=info.sha,
                ),
            },
        )

    return _predictions


def scores_asset(project: Project, task_name: str) -> dg.AssetsDefinition:
    task = project.task(task_name)
    code_version = digest(
        source_version(metrics, scoring, predictions),
        task_version(task),
        custom_metric_sources(project, task),
    )
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
        context: dg.AssetExecutionContext, lake: LakeResource, candidate_predictions: pd.DataFrame
    ) -> dg.Output:  # type: ignore[type-arg]
        started = time.perf_counter()
        scores = scoring.score_predictions(candidate_predictions, task, task_metrics(project, task))
        overall = scores[scores["subgroup_kind"] == "overall"].set_index("metric")["value"]
        table = scoring.as_table(scores, scoring.SCORES_SCHEMA)
        store = lake.store()
        candidate_index.index_candidate(
            store,
            task_name,
            context.partition_key,
            commit=candidates.recorded_commit_info(store, context.partition_key),
            scores=scores,
        )
        return dg.Output(
            table,
            data_version=dg.DataVersion(table_digest(table)),
            metadata={
                "candidate": context.partition_key,
                "task": task_name,
                **{f"overall_{m}": round(float(v), 4) for m, v in overall.items()},
                "compute_seconds": round(time.perf_counter() - started, 3),
                **candidate_provenance(context, lake, code_version, project),
            },
        )

    return _scores


def comparison_asset(project: Project, task_name: str) -> dg.AssetsDefinition:
    task = project.task(task_name)
    key_of_comparison = comparison_key(task_name)
    code_version = digest(
        source_version(
            metrics, scoring, baseline, predictions, gate, seeds, sequential, calibration
        ),
        task_version(task),
        custom_metric_sources(project, task),
    )

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
        candidate_predictions: pd.DataFrame,
        candidate_scores: pd.DataFrame,
    ) -> Iterator[dg.Output | dg.AssetCheckResult]:  # type: ignore[type-arg]
        settings, store = load_settings(), lake.store()
        key = context.partition_key
        candidate = candidates.resolve_candidate(
            key, project=project, settings=settings, store=store
        )
        resolved = baseline.resolve_baseline(
            context.instance,
            candidate,
            comparison=key_of_comparison,
            timeout_seconds=task.baseline_wait_seconds,
        )
        started = time.perf_counter()
        extra: dict[str, Any] = {}
        seed_note = seed_warning = ""
        if resolved.key is not None:
            base_frame = store.read_table(
                store.partition_file(
                    "/".join(predictions_key(task_name).path), f"key={resolved.key}"
                )
            ).to_pandas()
            base_frame = windows.baseline_on_window(  # a rolling test suite may have moved
                context,
                project=project,
                task_name=task_name,
                key=resolved.key,
                store=store,
                baseline_predictions=base_frame,
                candidate_predictions=candidate_predictions,
            )
            spread = seeds.baseline_spread(
                context,
                project=project,
                task_name=task_name,
                key=resolved.key,
                store=store,
                baseline_predictions=base_frame,
                metrics=task_metrics(project, task),
            )
            bought = sequential.buy_seed_runs(
                context,
                project=project,
                task_name=task_name,
                store=store,
                sides=(resolved.key, key),
                frames=(base_frame, candidate_predictions),
                spread=spread,
                metrics=task_metrics(project, task),
            )
            compared, noise = bought.comparison, bought.noise
            seed_note = "; ".join(t for t in (spread.note, noise.method) if t)
            seed_warning = seeds.ignored_seed_warning(spread, candidate.repository.name)
            frame = compared.frame
            extra = {
                "seed_budget": bought.note(task.seeds.budget_runs),
                "interval": compared.interval,
                "rows_compared": compared.rows_compared,
                "rows_only_candidate": compared.rows_only_candidate,
                "rows_only_baseline": compared.rows_only_baseline,
            }
        else:
            frame = scoring.without_baseline(candidate_scores)
            context.log.warning(f"{key}: no baseline ({resolved.note})")
        outcome = gate.decide(
            frame,
            task=task,
            task_name=task_name,
            candidate=key,
            baseline=resolved.key,
            baseline_note=resolved.note,
            baseline_via=resolved.via,
            no_baseline=candidate.repository.no_baseline,
            seed_note=seed_note,
            seed_warning=seed_warning,
            interval=extra.get("interval", ""),
            seed_budget=extra.get("seed_budget", ""),
            **calibrated(store, task_name),
        )
        gate.save_outcome(store, task_name, outcome)
        candidate_index.index_candidate(
            store,
            task_name,
            key,
            commit=candidates.recorded_commit_info(store, key),
            scores=candidate_scores,
            comparison=frame,
            outcome=outcome,
        )
        context.log.info(f"{key}: gate {outcome.headline()}")
        table = scoring.as_table(frame, scoring.COMPARISON_SCHEMA)
        page = commit_url(settings.reports_root, key, base_url=settings.reports_url)
        yield dg.Output(
            table,
            data_version=dg.DataVersion(table_digest(table)),
            metadata={
                "candidate": key,
                "task": task_name,
                "baseline": resolved.key or "none",
                "baseline_status": resolved.note,
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
                "compute_seconds": round(time.perf_counter() - started, 3),
                **extra,
                **candidate_provenance(context, lake, code_version, project),
            },
        )
        yield dg.AssetCheckResult(
            check_name=REGRESSION_CHECK,
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description="\n".join(outcome.details()),
            # Text only: numeric entries become a plot over the check's executions.
            metadata={
                "candidate": key,
                "gate": outcome.status,
                "regressions": dg.MetadataValue.text(
                    "; ".join(r.text() for r in outcome.reasons) or "none"
                ),
            },
        )
        notify.notify_all(
            candidate.repository, outcome, sha=candidate.sha, target_url=page, log=context.log
        )
        if not outcome.passed:
            # The run's error then reads the gate headline, with the page of its report, where
            # the blocking check alone gives "1 blocking asset check failed" and a stack.
            raise dg.Failure(
                description=outcome.headline(),
                metadata={"gate": outcome.status, "gallery_page": dg.MetadataValue.url(page)},
                allow_retries=False,
            )

    return _comparison


def calibrated(store: LakeStore, task_name: str) -> dict[str, Any]:
    """The task's latest calibrated false-alarm rate, as ``gate.decide`` takes it."""
    rate, source = calibration.false_alarm(store, gate_calibration_key(task_name))
    return {"false_alarm_rate": rate, "calibration": source}


def candidate_assets(project: Project) -> list[dg.AssetsDefinition]:
    """Predictions, scores and comparison of every task of the project."""
    return [
        build(project, task)
        for task in sorted(project.config.tasks)
        for build in (predictions_asset, scores_asset, comparison_asset)
    ]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=candidate_assets(current_project(load_settings())))

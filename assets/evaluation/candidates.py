"""Candidate-partitioned assets: predictions → scores → comparison with the baseline.

Partition key ``<repo>@<sha7>[~<paramhash8>]`` (``clearlake.partitions.candidate_partitions_def``;
parse it with ``clearlake.evaluation.candidates.CandidateKey.parse``). Outputs (Arrow tables
stored by the lake IO manager; ``load_input`` gives pandas):

``evaluation/candidate_predictions``
    ``flight_id`` str, ``carrier`` str, ``origin`` str, ``month`` int, ``actual`` float,
    ``prediction`` float (one row per held-out row). Metadata: ``candidate``, ``commit``,
    ``commit_subject``, ``author``, ``committed_at``, ``entrypoint``, ``fit_seconds``,
    ``predict_seconds``, ``compute_seconds``, ``provenance/*``.
``evaluation/candidate_scores``
    ``metric``, ``subgroup_kind`` ('overall'|'carrier'|'origin'|'month'), ``subgroup``
    ('all' overall), ``value``, ``ci_low``, ``ci_high``, ``n_rows``. Metadata:
    ``overall_<metric>``, ``provenance/*``.
``evaluation/candidate_comparison``
    ``metric``, ``subgroup_kind``, ``subgroup``, ``candidate_value``, ``baseline_value``,
    ``delta``, ``ci_low``, ``ci_high`` (CI of the delta), ``verdict`` ('improved' |
    'regressed' | 'no significant change' | 'no baseline'), ``n_rows``. Metadata:
    ``candidate``, ``baseline`` (key or 'none'), ``baseline_status``, ``overall_verdict``
    (primary metric, overall row), ``regressions``, ``provenance/*``; blocking check
    ``no_significant_regression``.

Code versions hash the evaluation code and the ``evaluation:`` configuration; the
candidate's own commit is part of the partition, so a new commit adds a partition and
recomputes nothing else.
"""

import time
from collections.abc import Iterator
from typing import Any

import dagster as dg
import pandas as pd

from clearlake.evaluation import (
    baseline,
    candidate_process,
    candidates,
    git,
    metrics,
    predictions,
    runner,
    scoring,
)
from clearlake.evaluation.config import ClearlakeConfig, load_config
from clearlake.evaluation.suites import TARGET, load_suite
from clearlake.features.datasets import table_digest
from clearlake.partitions import candidate_partitions_def
from clearlake.provenance import provenance_metadata
from clearlake.resources import LakeResource
from clearlake.settings import load_settings
from clearlake.versioning import digest, json_version, source_version

PREDICTIONS = dg.AssetKey(["evaluation", "candidate_predictions"])
SCORES = dg.AssetKey(["evaluation", "candidate_scores"])
COMPARISON = dg.AssetKey(["evaluation", "candidate_comparison"])
REGRESSION_CHECK = "no_significant_regression"
COMMON: dict[str, Any] = {
    "group_name": "evaluation",
    "partitions_def": candidate_partitions_def,
    "owners": ["team:data-science"],
    "tags": {"layer": "evaluation", "partitioned_by": "candidate"},
}


def suite_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["evaluation", "suites", name])


def candidate_provenance(
    context: dg.AssetExecutionContext, lake: LakeResource, code_version: str
) -> dict[str, str]:
    """The provenance record of a candidate's downstream assets: its commit and parameters."""
    store, key = lake.store(), context.partition_key
    commit = candidates.candidate_commit_info(key, store=store).sha
    return provenance_metadata(
        run_id=context.run_id,
        code_version=code_version,
        parameters=candidates.candidate_parameters(key, store=store),
        candidate_commit=commit,
    )


def predictions_asset(config: ClearlakeConfig) -> dg.AssetsDefinition:
    evaluation = config.evaluation
    code_version = digest(
        source_version(runner, candidate_process, predictions, candidates, git),
        json_version(evaluation.model_dump(mode="json")),
    )

    @dg.asset(
        key=PREDICTIONS,
        description=(
            "The candidate's predictions of the held-out suite: it is fitted on the training "
            "suite and predicts out of process, at exactly its commit, with a timeout. "
            "Columns flight_id, carrier, origin, month, actual, prediction."
        ),
        deps=[suite_key(evaluation.train_suite), suite_key(evaluation.test_suite)],
        code_version=code_version,
        kinds={"python", "pandas"},
        **COMMON,
    )
    def _predictions(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.Output:  # type: ignore[type-arg]
        settings, store = load_settings(), lake.store()
        key = context.partition_key
        candidate = candidates.resolve_candidate(key, config=config, settings=settings, store=store)
        info = candidate.git.commit_info(candidate.sha)
        candidates.save_commit_info(store, key, info)
        worktree = candidate.git.checkout(candidate.sha)
        context.log.info(f"{key}: {info.subject!r} by {info.author} checked out at {worktree}")
        train = load_suite(store, evaluation.train_suite)
        test = load_suite(store, evaluation.test_suite)
        outcome = runner.run_candidate(
            context,
            candidate=key,
            worktree=worktree,
            entrypoint=candidate.repository.entrypoint,
            parameters=candidate.parameters,
            train=train.table,
            test=test.table.drop_columns([TARGET]),
            timeout_seconds=candidate.repository.timeout_seconds
            or evaluation.candidate_timeout_seconds,
            threads=evaluation.candidate_threads,
        )
        table = predictions.predictions_table(test, outcome.predictions)
        return dg.Output(
            table,
            data_version=dg.DataVersion(table_digest(table)),
            metadata={
                "candidate": key,
                "commit": info.sha,
                "commit_subject": info.subject,
                "author": info.author,
                "committed_at": dg.MetadataValue.timestamp(info.committed_at),
                "entrypoint": candidate.repository.entrypoint,
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


def scores_asset(config: ClearlakeConfig) -> dg.AssetsDefinition:
    evaluation = config.evaluation
    code_version = digest(
        source_version(metrics, scoring), json_version(evaluation.model_dump(mode="json"))
    )

    @dg.asset(
        key=SCORES,
        description=(
            "Metrics of the candidate overall and per subgroup (carrier, origin, month) with "
            "bootstrap confidence intervals (fixed seed). Columns metric, subgroup_kind, "
            "subgroup, value, ci_low, ci_high, n_rows."
        ),
        ins={"candidate_predictions": dg.AssetIn(PREDICTIONS)},
        code_version=code_version,
        kinds={"python", "pandas"},
        **COMMON,
    )
    def _scores(
        context: dg.AssetExecutionContext, lake: LakeResource, candidate_predictions: pd.DataFrame
    ) -> dg.Output:  # type: ignore[type-arg]
        started = time.perf_counter()
        scores = scoring.score_predictions(candidate_predictions, evaluation)
        overall = scores[scores["subgroup_kind"] == "overall"].set_index("metric")["value"]
        table = scoring.as_table(scores, scoring.SCORES_SCHEMA)
        return dg.Output(
            table,
            data_version=dg.DataVersion(table_digest(table)),
            metadata={
                "candidate": context.partition_key,
                **{f"overall_{m}": round(float(v), 4) for m, v in overall.items()},
                "compute_seconds": round(time.perf_counter() - started, 3),
                **candidate_provenance(context, lake, code_version),
            },
        )

    return _scores


def comparison_asset(config: ClearlakeConfig) -> dg.AssetsDefinition:
    evaluation = config.evaluation
    code_version = digest(
        source_version(metrics, scoring, baseline), json_version(evaluation.model_dump(mode="json"))
    )

    @dg.asset(
        key=COMPARISON,
        description=(
            "The candidate against its baseline on identical rows: deltas with confidence "
            "intervals and a verdict (improved / regressed / no significant change) overall "
            "and per subgroup. A significant regression fails the blocking check "
            f"{REGRESSION_CHECK!r}."
        ),
        ins={
            "candidate_predictions": dg.AssetIn(PREDICTIONS),
            "candidate_scores": dg.AssetIn(SCORES),
        },
        code_version=code_version,
        kinds={"python", "pandas"},
        check_specs=[
            dg.AssetCheckSpec(
                REGRESSION_CHECK,
                asset=COMPARISON,
                blocking=True,
                description="No metric regressed significantly, overall or in any subgroup.",
            )
        ],
        **COMMON,
    )
    def _comparison(
        context: dg.AssetExecutionContext,
        lake: LakeResource,
        candidate_predictions: pd.DataFrame,
        candidate_scores: pd.DataFrame,
    ) -> Iterator[dg.Output | dg.AssetCheckResult]:  # type: ignore[type-arg]
        settings, store = load_settings(), lake.store()
        key = context.partition_key
        candidate = candidates.resolve_candidate(key, config=config, settings=settings, store=store)
        base = baseline.baseline_key(candidate)
        status = (
            baseline.await_baseline(
                context.instance, str(base), timeout_seconds=evaluation.baseline_wait_seconds
            )
            if base is not None
            else None
        )
        started = time.perf_counter()
        extra: dict[str, Any] = {}
        if status is not None and status.ready:
            path = store.partition_file("/".join(PREDICTIONS.path), f"key={base}")
            baseline_predictions = store.read_table(path).to_pandas()
            compared = scoring.compare_predictions(
                candidate_predictions, baseline_predictions, evaluation
            )
            frame = compared.frame
            extra = {
                "rows_compared": compared.rows_compared,
                "rows_only_candidate": compared.rows_only_candidate,
                "rows_only_baseline": compared.rows_only_baseline,
            }
            reason = f"compared with {base}"
        else:
            frame = scoring.without_baseline(candidate_scores)
            reason = status.reason if status is not None else "first commit: nothing to compare"
            context.log.warning(f"{key}: no baseline ({reason})")
        regressed = scoring.regressions(frame)
        verdict = scoring.overall_verdict(frame, evaluation.primary_metric)
        context.log.info(f"{key}: {verdict} vs {base or 'no baseline'}; regressions: {regressed}")
        table = scoring.as_table(frame, scoring.COMPARISON_SCHEMA)
        yield dg.Output(
            table,
            data_version=dg.DataVersion(table_digest(table)),
            metadata={
                "candidate": key,
                "baseline": str(base) if status is not None and status.ready else "none",
                "baseline_status": reason,
                "overall_verdict": verdict,
                "regressions": "; ".join(regressed) or "none",
                "compute_seconds": round(time.perf_counter() - started, 3),
                **extra,
                **candidate_provenance(context, lake, code_version),
            },
        )
        yield dg.AssetCheckResult(
            check_name=REGRESSION_CHECK,
            passed=not regressed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=(
                f"{key} regressed against {base}: " + "; ".join(regressed)
                if regressed
                else f"no significant regression against {base or 'no baseline'}"
            ),
            metadata={"regressions": len(regressed)},
        )

    return _comparison


def candidate_assets(config: ClearlakeConfig) -> list[dg.AssetsDefinition]:
    return [predictions_asset(config), scores_asset(config), comparison_asset(config)]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=candidate_assets(load_config(load_settings().config_path)))

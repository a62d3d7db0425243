"""templates/resourcequota-jobs.yaml: admission of a day of commits, computed from the rendered
quota, the run launcher's Job TTL and the Jobs one evaluation creates (helm/README.md)."""

from __future__ import annotations

from collections.abc import Callable

from helm_support import Manifest, find

from clearlake.cli.runs import load_definitions
from clearlake.names import evaluation_job
from clearlake_deploy.helm_values import ClearlakeValues

REPOSITORIES, COMMITS_PER_DAY = 20, 10
DAY = 86_400


def jobs_per_evaluation() -> int:
    """One run Job (K8sRunLauncher) plus one Job per step (k8s_job_executor)."""
    job = load_definitions().resolve_job_def(evaluation_job("arrival_delay"))
    steps = len(job.graph.node_dict)
    assert steps >= 4, "predictions, scores, comparison and the report are steps"
    return 1 + steps


def test_a_day_of_commits_and_the_experiment_queue_fit_the_job_quota(
    aws_manifests: list[Manifest], values_of: Callable[[str], ClearlakeValues]
) -> None:
    hard = int(
        find(aws_manifests, "ResourceQuota", "clearlake-jobs")["spec"]["hard"]["count/jobs.batch"]
    )
    values = values_of("aws").dagster
    job_spec = values.run_launcher.config.k8s_run_launcher.run_k8s_config.job_spec_config
    ttl = int(job_spec["ttlSecondsAfterFinished"])
    assert ttl <= DAY
    per_evaluation = jobs_per_evaluation()
    # Worst case: the whole day's commits land inside one TTL window (a busy afternoon).
    production = REPOSITORIES * COMMITS_PER_DAY * per_evaluation
    # Experiments: the queue's concurrent limit, a new batch every hour, kept for the TTL.
    queue = values.dagster_daemon.run_coordinator.config.queued_run_coordinator
    (limit,) = [lim.limit for lim in queue.tag_concurrency_limits if lim.key == "clearlake/kind"]
    experiments = int(limit) * per_evaluation * (ttl // 3600)
    assert production + experiments <= hard, (production, experiments, hard)
    # The numbers helm/README.md shows.
    assert (per_evaluation, production, ttl) == (5, 1000, 21_600)


def test_the_old_sizing_admitted_forty_evaluations_a_day() -> None:
    assert 200 // jobs_per_evaluation() == 40

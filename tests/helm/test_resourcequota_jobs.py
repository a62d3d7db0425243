"""templates/resourcequota-jobs.yaml: admission of a day of commits, computed from the rendered
quota, the run launcher's Job TTL, the declared commits a day and the measured Jobs a commit
causes (helm/README.md; tests/evaluation/test_jobs_per_commit.py measures them on real runs)."""

from __future__ import annotations

import math
from collections.abc import Callable

from helm_support import Manifest, find

from clearlake.cli.runs import load_definitions
from clearlake.names import evaluation_job
from clearlake_deploy.helm_values import ClearlakeValues

DAY = 86_400
HEADROOM = 1.25


def steps_of_the_evaluation_job() -> int:
    job = load_definitions().resolve_job_def(evaluation_job("arrival_delay"))
    return len(job.graph.node_dict)


def test_a_day_of_commits_and_the_experiment_queue_fit_the_job_quota(
    aws_manifests: list[Manifest], values_of: Callable[[str], ClearlakeValues]
) -> None:
    hard = int(
        find(aws_manifests, "ResourceQuota", "clearlake-jobs")["spec"]["hard"]["count/jobs.batch"]
    )
    values = values_of("aws")
    quota, dagster = values.job_quota, values.dagster
    assert quota.jobs_per_evaluation == 1 + steps_of_the_evaluation_job()
    job_spec = dagster.run_launcher.config.k8s_run_launcher.run_k8s_config.job_spec_config
    ttl = int(job_spec["ttlSecondsAfterFinished"])
    assert ttl <= DAY
    # Worst case: the whole day's commits land inside one TTL window (a busy afternoon).
    production = quota.commits_per_day * quota.jobs_per_commit
    # Experiments: the queue's concurrent limit, a new batch every hour, kept for the TTL.
    queue = dagster.dagster_daemon.run_coordinator.config.queued_run_coordinator
    (limit,) = [lim.limit for lim in queue.tag_concurrency_limits if lim.key == "clearlake/kind"]
    experiments = int(limit) * quota.jobs_per_evaluation * (ttl // 3600)
    needed = production + experiments
    assert hard == math.ceil(needed * HEADROOM / 100) * 100, (production, experiments, hard)
    # The numbers helm/README.md shows.
    assert (quota.jobs_per_commit, production, experiments, needed, ttl) == (
        9,
        1800,
        120,
        1920,
        21_600,
    )


def test_the_previous_sizing_was_short_of_the_worst_day() -> None:
    """1,500 assumed 5 Jobs a commit: the worst day needs 1,920."""
    assert 1500 < 200 * 9 + 120

"""The Jobs a commit causes on the cluster, measured on real runs of the evaluated history:
the chart's job quota (helm/README.md, "Capacity") is sized with these figures.

On Kubernetes each run is 1 Job (K8sRunLauncher) and each step 1 Job (k8s_job_executor). A
commit causes its evaluation run, then by automation a leaderboard run and a gallery run.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import yaml
from evaluation_env import Evaluated

from clearlake.cli.runs import load_definitions
from clearlake.names import GALLERY, evaluation_job, leaderboard_key

VALUES = Path(__file__).parents[2] / "helm" / "clearlake" / "values.yaml"


def steps_of(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[str]:
    return sorted(stat.step_key for stat in instance.get_run_step_stats(run.run_id))


def test_jobs_a_commit_causes_are_the_ones_the_quota_is_sized_for(evaluated: Evaluated) -> None:
    instance, task = evaluated.env.instance, "arrival_delay"
    key = evaluated.key("flight-delays", 0)
    (evaluation,) = [
        run
        for run in instance.get_runs(dg.RunsFilter(tags={"dagster/partition": key}))
        if run.job_name == evaluation_job(task) and run.status == dg.DagsterRunStatus.SUCCESS
    ][-1:]
    # A real run executes exactly one step per node of its job (no fan-out, nothing
    # skipped): on Kubernetes, one Job each. The test environment leaves the report out of
    # the job; the code location's job (the deployed one) has it.
    steps = steps_of(instance, evaluation)
    here = evaluated.env.definitions.resolve_job_def(evaluation_job(task))
    assert len(steps) == len(here.graph.node_dict), steps
    deployed = load_definitions().resolve_job_def(evaluation_job(task))
    deployed_steps = {node.name for node in deployed.graph.nodes}
    assert set(steps) <= deployed_steps, (steps, deployed_steps)
    per_evaluation = 1 + len(deployed_steps)

    leaderboard_step = "__".join(leaderboard_key(task).path)
    (refresh,) = [
        run
        for run in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS]))
        if leaderboard_step in steps_of(instance, run)
    ][:1]
    assert refresh.status == dg.DagsterRunStatus.SUCCESS
    # The gallery is one asset of its own op: a run of it is one step.
    gallery = load_definitions().resolve_assets_def(GALLERY)
    assert gallery.keys == {GALLERY} and isinstance(gallery.node_def, dg.OpDefinition)
    follow_up_steps = [1, 1]  # the task's leaderboard step (seen above), the gallery's
    per_commit = per_evaluation + sum(1 + steps for steps in follow_up_steps)

    declared = yaml.safe_load(VALUES.read_text())["jobQuota"]
    assert (declared["jobsPerEvaluation"], declared["jobsPerCommit"]) == (
        per_evaluation,
        per_commit,
    ), f"helm/clearlake/values.yaml jobQuota: measured {per_evaluation} and {per_commit} Jobs"

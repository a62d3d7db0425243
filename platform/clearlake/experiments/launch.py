"""Plan and launch an experiment through a running Dagster's GraphQL API.

Planning does every check first — repository, ref, grid, profile limits — so a request
that cannot be honoured launches nothing. Launching registers one candidate partition
per parameter combination in the partitions of the repository's task and submits one run
of the task's evaluation job per partition (names given by the caller, ``clearlake.names``),
with the profile applied to its step pods (``step_k8s_config`` of the k8s_job_executor) and a
small fixed run pod (the ``dagster-k8s/config`` tag); locally both are inert.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from clearlake.errors import ClearlakeError
from clearlake.evaluation.candidates import CandidateKey, register_parameters
from clearlake.evaluation.git import git_repository
from clearlake.evaluation.submit import (
    ADD_PARTITION,
    LAUNCH,
    DagsterGraphQL,
    find_location,
    payload,
)
from clearlake.experiments.capacity import check_capacity, parse_capacity
from clearlake.experiments.grid import parse_grid
from clearlake.experiments.profiles import (
    ResourceRequest,
    k8s_config,
    k8s_config_tag,
    resolve_request,
)
from clearlake.lake.store import LakeStore
from clearlake.project.load import Project
from clearlake.settings import Settings
from clearlake.versioning import digest


@dataclass(frozen=True)
class PlannedRun:
    key: str
    parameters: dict[str, Any]
    tags: dict[str, str]
    run_config: dict[str, Any]


@dataclass(frozen=True)
class ExperimentPlan:
    experiment: str
    repo: str
    task: str
    sha: str
    request: ResourceRequest
    runs: list[PlannedRun] = field(default_factory=list)


def plan_experiment(
    *,
    project: Project,
    settings: Settings,
    repo: str,
    ref: str,
    params: list[str],
    profile: str,
    cpu: str | None = None,
    memory: str | None = None,
    gpu: int | None = None,
) -> ExperimentPlan:
    """Validate everything and say exactly what would run; launches nothing."""
    request = resolve_request(project.config.profiles, profile, cpu=cpu, memory=memory, gpu=gpu)
    if settings.experiment_capacity:
        check_capacity(request, parse_capacity(settings.experiment_capacity))
    grid = parse_grid(params)
    task = project.task_of(repo)
    if project.task(task).pipeline:
        raise ClearlakeError(
            f"Repository {repo} is a stage of task {task}'s pipeline: experiments (parameter "
            "grids) run single-repository tasks only for now. Push the commit to evaluate it "
            f"as a combination, or `clearlake submit {repo}@<sha>`."
        )
    git = git_repository(project, repo, settings)
    git.refresh()
    sha = git.resolve(ref)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    experiment = f"exp-{stamp}-{digest(repo, sha, str(grid), profile, length=6)}"
    pod_config = k8s_config(request, experiment=experiment)
    # The profile sizes the step pods (the k8s_job_executor ignores run tags for them); the
    # tag below keeps the run pod small (profiles.RUN_POD_RESOURCES).
    run_config: dict[str, Any] = (
        {"execution": {"config": {"step_k8s_config": pod_config}}}
        if settings.env == "cluster" and settings.step_executor == "kubernetes"
        else {}
    )
    runs = []
    for parameters in grid:
        key = str(CandidateKey.of(repo, sha, parameters or None))
        tags = {
            "dagster/partition": key,
            "clearlake/experiment": experiment,
            "clearlake/kind": "experiment",  # the chart's run queue limits these
            "clearlake/profile": profile,
            "clearlake/task": task,
            **k8s_config_tag(request, experiment=experiment),
        }
        runs.append(PlannedRun(key=key, parameters=parameters, tags=tags, run_config=run_config))
    return ExperimentPlan(
        experiment=experiment, repo=repo, task=task, sha=sha, request=request, runs=runs
    )


def launch_experiment(
    plan: ExperimentPlan,
    *,
    url: str,
    store: LakeStore,
    job: str,
    partitions: str,
    progress: Callable[[str], None] | None = None,
) -> dict[str, str]:
    """Register the partitions in ``partitions`` (the task's candidates) and submit runs of
    ``job`` (the task's evaluation job); return run id per candidate key."""
    client = DagsterGraphQL(url)
    selector = find_location(client, job)  # also proves the webserver answers, before any write
    launched = {}
    for run in plan.runs:
        if run.parameters:
            register_parameters(store, run.key, run.parameters)
        added = client(ADD_PARTITION, {"selector": selector, "name": partitions, "key": run.key})
        if added["addDynamicPartition"]["__typename"] != "DuplicateDynamicPartitionError":
            payload(added, "addDynamicPartition", url, "AddDynamicPartitionSuccess")
        params = {
            "selector": {**selector, "jobName": job},
            "runConfigData": run.run_config,
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in run.tags.items()]},
        }
        answer = payload(client(LAUNCH, {"params": params}), "launchRun", url, "LaunchRunSuccess")
        launched[run.key] = str(answer["run"]["runId"])
        if progress:
            progress(f"launched {run.key} (run {launched[run.key]})")
    return launched

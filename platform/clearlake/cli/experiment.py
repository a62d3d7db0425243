"""``clearlake experiment``: launch a parameter sweep on the cluster, within a profile."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from clearlake.cli.output import JsonOption, Listing, make_console
from clearlake.settings import load_settings

console = make_console()
experiment_app = typer.Typer(
    help="Self-serve experiments: parameter sweeps with resource profiles."
)


@experiment_app.command("run")
def run(
    repo: Annotated[str, typer.Option(help="Registered repository name.")],
    ref: Annotated[str, typer.Option(help="Branch, tag or commit to evaluate.")],
    param: Annotated[
        list[str] | None,
        typer.Option(help="NAME=VALUE or NAME=V1,V2 (a grid); repeat for more parameters."),
    ] = None,
    profile: Annotated[
        str, typer.Option(help="Resource profile (`clearlake experiment profiles`).")
    ] = "small",
    cpu: Annotated[
        str | None, typer.Option(help="CPU request, at most the profile's limit.")
    ] = None,
    memory: Annotated[
        str | None, typer.Option(help="Memory request, at most the profile's limit.")
    ] = None,
    gpu: Annotated[int | None, typer.Option(help="GPUs, at most the profile's.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Show what would run; launch nothing.")] = False,
) -> None:
    """Evaluate REF of REPO for every parameter combination, each run in its own pod."""
    from clearlake import names
    from clearlake.experiments.launch import launch_experiment, plan_experiment
    from clearlake.lake.store import LakeStore
    from clearlake.project.load import current_project

    settings = load_settings()
    plan = plan_experiment(
        project=current_project(settings), settings=settings, repo=repo, ref=ref,
        params=param or [], profile=profile, cpu=cpu, memory=memory, gpu=gpu,
    )  # fmt: skip
    request = plan.request
    console.print(
        f"experiment [bold]{plan.experiment}[/]: {repo}@{plan.sha[:7]} (task {plan.task}), "
        f"profile {profile} "
        f"(cpu {request.cpu}/{request.cpu_limit}, memory {request.memory}/{request.memory_limit}"
        f", gpu {request.gpu})"
    )
    view = Table("candidate", "parameters")
    for planned in plan.runs:
        view.add_row(planned.key, json.dumps(planned.parameters, sort_keys=True))
    console.print(view)
    if dry_run:
        console.print("dry run: nothing launched")
        return
    launched = launch_experiment(
        plan,
        url=settings.dagster_url,
        store=LakeStore(settings.lake_url),
        job=names.evaluation_job(plan.task),
        partitions=names.candidate_partitions_name(plan.task),
        progress=console.print,
    )
    console.print(
        f"[green]{len(launched)} run(s) launched[/] on {settings.dagster_url}; results land in "
        f"{names.comparison_key(plan.task).to_user_string()}, the reports and the leaderboard."
    )


@experiment_app.command("profiles")
def profiles(as_json: JsonOption = False) -> None:
    """The resource profiles experiments may use."""
    from clearlake.experiments.profiles import project_profiles

    view = Listing(
        ["profile", "cpu", "memory", "gpu", "for"],
        title="Resource profiles (cpu and memory: request/limit)",
        wide=("for",),
    )
    for name, p in project_profiles(load_settings()).items():
        view.add(
            {
                "profile": name,
                "cpu": f"{p.cpu.request}/{p.cpu.limit}",
                "memory": f"{p.memory.request}/{p.memory.limit}",
                "gpu": p.gpu,
                "for": p.description,
            }
        )
    view.show(as_json=as_json)

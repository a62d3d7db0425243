"""``clearlake config check``: validate a project's configuration and say what it defines."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from clearlake.cli.output import make_console
from clearlake.settings import Settings, load_settings

if TYPE_CHECKING:
    from clearlake.project import Project

console = make_console()
config_app = typer.Typer(help="The project configuration (CLEARLAKE_CONFIG).")


@config_app.command("check")
def check(
    path: Annotated[
        Path | None,
        typer.Argument(help="A project folder or its clearlake.yaml (default: CLEARLAKE_CONFIG)."),
    ] = None,
    repositories: Annotated[
        bool,
        typer.Option(
            help="Also import each repository's entrypoint from its branch head (a child "
            "process per repository)."
        ),
    ] = True,
) -> None:
    """Validate the configuration; print its tables, features, tasks and repositories."""
    from clearlake.project import load_project

    settings = load_settings()
    project = load_project(path or settings.config_path)
    if repositories:
        check_entrypoints(project, settings)
    console.print(f"[bold]{project.name}[/bold] ({project.path}) is valid.")
    for table in describe(project):
        console.print(table)


def check_entrypoints(project: Project, settings: Settings) -> None:
    """An entrypoint that cannot be imported at its branch head is a configuration error;
    a repository that cannot be read yet (not created, offline) is only a warning."""
    from clearlake.evaluation.entrypoints import check_entrypoint
    from clearlake.project.load import ProjectError

    for index, repo in enumerate(project.config.repositories):
        found = check_entrypoint(project, repo.name, settings)
        if found.problem is None:
            continue
        if not found.reachable:
            console.print(
                f"[yellow]warning:[/] repository {repo.name!r} not checked: {found.problem}"
            )
            continue
        raise ProjectError(
            project.path,
            f"repositories[{index}].entrypoint",
            f"{found.entrypoint!r} at {repo.name}@{(found.commit or '')[:7]}: {found.problem}",
        )


@config_app.command("reload")
def reload(
    port: Annotated[int, typer.Option(help="Port of the running Dagster UI.")] = 3000,
    host: Annotated[str, typer.Option(help="Host of the running Dagster UI.")] = "127.0.0.1",
) -> None:
    """Validate the configuration, then reload it into a running Dagster UI."""
    from clearlake.orchestration.config_reload import RELOADED, reload_location
    from clearlake.project import load_project

    load_project(load_settings().config_path)  # an invalid edit is refused, not loaded
    reload_location(host, port)
    console.print(RELOADED)


def describe(project: Project) -> list[Table]:
    """One table per section that the project declares."""
    config = project.config
    sources = Table("lake table", "partitions", "columns", "keys", title="Lake sources")
    for name, source in config.sources.items():
        daily = source.daily
        span = (
            f"daily on {daily.column} from {daily.first_day} to {daily.last_day or 'today'}"
            if daily
            else "snapshot"
        )
        sources.add_row(name, span, str(len(source.columns)), ", ".join(source.keys))
    features = Table("feature table", "built by", "reads", "row id", "columns", title="Features")
    for name, feature in config.features.items():
        features.add_row(
            name,
            f"SQL {feature.sql}" if feature.sql else f"function {feature.function}",
            ", ".join(project.feature_inputs(name)),
            feature.row_id,
            str(len(feature.columns)),
        )
    tasks = Table("task", "type", "dataset → target", "metrics", "subgroups", title="Tasks")
    for name, task in config.tasks.items():
        tasks.add_row(
            name,
            task.type,
            f"{task.dataset} → {task.target}",
            ", ".join(m.name + ("*" if m.name == task.primary else "") for m in task.metrics),
            ", ".join(s.label for s in task.subgroups) or "—",
        )
    repositories = Table("repository", "task", "location", "entrypoint", title="Repositories")
    for repo in config.repositories:
        repositories.add_row(repo.name, project.task_of(repo.name), repo.location, repo.entrypoint)
    return [t for t in (sources, features, tasks, repositories) if t.row_count]

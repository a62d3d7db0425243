"""``clearlake build``: build what is missing (lake days, features, suites), in order."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console

from clearlake.settings import load_settings

console = Console()


def build(
    through: Annotated[
        str | None,
        typer.Option(
            help="Build up to this day (YYYY-MM-DD; default: the newest day each source has)."
        ),
    ] = None,
    task: Annotated[
        list[str] | None,
        typer.Option(help="Only what this task needs (repeatable; default: everything)."),
    ] = None,
) -> None:
    """Build whatever is missing up to a day: lake days, feature days, suites.

    Each step is a real Dagster run in the local instance (`clearlake ui` shows them). A
    second call finds nothing to do. New days after that flow by themselves while the
    Dagster daemon runs (`clearlake ui`).
    """
    from clearlake.cli.runs import instance, load_definitions
    from clearlake.lake import reader
    from clearlake.lake.source import SourceDatabase
    from clearlake.lake.store import LakeStore
    from clearlake.orchestration import build as building
    from clearlake.project.load import current_project

    settings = load_settings()
    started = time.monotonic()
    project = current_project(settings)
    store = LakeStore(settings.lake_url)
    source = SourceDatabase(settings.source_url)
    day = reader.parse_day(through, "--through")
    configured = instance()
    with console.status("planning: asking the sources for their newest day"):
        found = building.plan(
            project, store, configured, source.newest_day, through=day, tasks=task
        )
    for note in found.waiting:
        console.print(f"[dim]not yet: {note}[/]")
    if not found.steps:
        console.print(
            f"[green]nothing to build[/]: the lake, features and suites are up to date "
            f"({time.monotonic() - started:.1f} s)."
        )
        return
    console.print(f"[bold]{len(found.steps)} step(s)[/] to build for project {project.name}")

    def progress(message: str) -> None:
        console.print(f"[dim]{time.monotonic() - started:6.1f}s[/] {message}")

    done = building.execute(load_definitions(), configured, found.steps, progress)
    days = sum(building.days_of(d.step) for d in done)
    console.print(
        f"[green]built[/] {len(done)} step(s) ({days} partition(s)) in "
        f"{time.monotonic() - started:.0f} s, each a run in the local instance "
        "(`clearlake ui`). New days now flow by themselves while the daemon runs."
    )

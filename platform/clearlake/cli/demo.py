"""``clearlake demo``: the whole loop on embedded defaults, in one command."""

from __future__ import annotations

import time

import typer
from rich.console import Console

from clearlake.settings import load_settings

console = Console()


def demo() -> None:
    """Run the whole loop on embedded defaults: lake, evaluation, reports, leaderboard.

    Builds the sample database and lake, evaluates three commits of a sample algorithm
    against their baselines, renders the reports, prints leaderboard and verdicts.
    """
    from clearlake.demo.run import run_demo

    settings = load_settings()
    started = time.monotonic()
    console.print(f"[bold]Clearlake demo[/] — everything under {settings.home}")

    def progress(message: str) -> None:
        console.print(f"[dim]{time.monotonic() - started:6.1f}s[/] {message}")

    try:
        run_demo(settings, progress, output=console.print)
    except KeyboardInterrupt:  # SIGINT or SIGTERM: the current run was canceled
        console.print(
            "[yellow]stopped[/]: nothing queued is lost; `clearlake demo` again resumes it."
        )
        raise typer.Exit(130) from None
    console.print(
        f"[green]done[/] in {time.monotonic() - started:.0f} s. Explore it: `make ui` "
        "(Dagster UI), `uv run clearlake why evaluation/<task>/candidate_comparison "
        "--partition KEY`."
    )

"""``clearlake sample-db`` and ``clearlake lake``: build the sample source, fill the lake."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import dagster as dg
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from clearlake.errors import ClearlakeError
from clearlake.lake import reader
from clearlake.lake.store import LakeStore
from clearlake.lake.tables import LAKE_TABLES, get_table
from clearlake.project.load import current_project, sample_database_builder
from clearlake.settings import load_settings

console = Console()
sample_db_app = typer.Typer(help="The project's embedded sample production database.")
lake_app = typer.Typer(help="Replicate production into the lake and read it.")

StartOption = Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD (inclusive).")]
EndOption = Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD (inclusive).")]


@sample_db_app.command("build")
def sample_db_build(
    url: Annotated[
        str | None, typer.Option(help="Target database URL (default: CLEARLAKE_SOURCE_URL).")
    ] = None,
) -> None:
    """(Re)create the project's sample production tables (its `demo.sample_database`)."""
    settings = load_settings()
    target = url or settings.source_url
    build_sample_db = sample_database_builder(current_project(settings))
    with console.status(f"building the sample database at {target}") as status:
        counts = build_sample_db(target, progress=lambda m: status.update(m))
    for name, rows in counts.items():
        console.print(f"  {name:<9} {rows:>8,} rows")


def replicate_tables(
    tables: list[str], start: dt.date, end: dt.date, *, console_: Console = console
) -> None:
    """Materialise lake tables through Dagster (recorded in the instance), with progress."""
    from clearlake.cli.runs import failure_message, materialize

    with Progress(console=console_) as progress:
        task = progress.add_task("replicating", total=len(tables))
        for name in tables:
            table = get_table(name)
            progress.update(task, description=f"replicating {name}")
            result = materialize(
                [dg.AssetKey(["lake", name])],
                partition_range=(start, end) if table.partitioned else None,
            )
            if not result.success:
                raise ClearlakeError(
                    f"Replicating {name} failed (run {result.run_id}): {failure_message(result)}"
                )
            progress.advance(task)


@lake_app.command("replicate")
def replicate(
    tables: Annotated[
        list[str] | None, typer.Argument(help="Tables to replicate (default: all).")
    ] = None,
    start: StartOption = "2013-01-01",
    end: EndOption = "2013-12-31",
) -> None:
    """Copy production tables into the lake (daily tables for START..END)."""
    names = tables or list(LAKE_TABLES)
    for name in names:
        get_table(name)
    first = reader.parse_day(start, "start date") or dt.date(2013, 1, 1)
    last = reader.parse_day(end, "end date") or dt.date(2013, 12, 31)
    if first > last:
        raise ClearlakeError(f"Start date {first} is after end date {last}: swap them.")
    replicate_tables(names, first, last)
    console.print(f"[green]replicated[/] {', '.join(names)} ({first}..{last})")


@lake_app.command("tables")
def tables_command() -> None:
    """List lake tables with their partitions."""
    store = LakeStore(load_settings().lake_url)
    view = Table("table", "partitions", "first", "last")
    for name in reader.available_tables(store):
        files = reader.table_files(name, store=store)
        days = store.list_partitions(name)
        view.add_row(
            name,
            str(len(days)) if days else ("snapshot" if files else "empty"),
            days[0] if days else "",
            days[-1] if days else "",
        )
    console.print(view)


@lake_app.command("read")
def read_command(
    table: str,
    start: StartOption = None,
    end: EndOption = None,
    columns: Annotated[str | None, typer.Option(help="Comma-separated columns.")] = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 10,
) -> None:
    """Show the first rows of a lake table."""
    frame = reader.read(table, start, end, columns=columns.split(",") if columns else None)
    console.print(f"{len(frame):,} rows")
    console.print(frame.head(limit).to_string())


@lake_app.command("sql")
def sql_command(query: str) -> None:
    """Run DuckDB SQL over the lake (tables named as in `clearlake lake tables`)."""
    console.print(reader.sql(query).to_string())


def register(app: typer.Typer) -> None:
    app.add_typer(sample_db_app, name="sample-db")
    app.add_typer(lake_app, name="lake")

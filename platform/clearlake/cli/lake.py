"""``clearlake sample-db`` and ``clearlake lake``: build the sample source, fill the lake."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from clearlake.errors import ClearlakeError, EmptyTableError
from clearlake.lake import reader
from clearlake.lake.infer import declaration, infer_source
from clearlake.lake.replicate import check_day_range
from clearlake.lake.source import SourceDatabase
from clearlake.lake.store import LakeStore
from clearlake.lake.tables import LakeTable, get_table, lake_tables
from clearlake.names import lake_key
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
    tables: list[LakeTable],
    start: dt.date | None,
    end: dt.date | None,
    *,
    console_: Console = console,
) -> None:
    """Materialise lake tables through Dagster (recorded in the instance), with progress.

    A daily table gets ``start..end`` within its own days (default: all of them, up to
    today for an open-ended one).
    """
    from clearlake.cli.runs import failure_message, materialize

    today = dt.datetime.now(dt.UTC).date()
    with Progress(console=console_) as progress:
        task = progress.add_task("replicating", total=len(tables))
        for table in tables:
            progress.update(task, description=f"replicating {table.name}")
            window = None
            if table.first_day is not None:
                first = max(start or table.first_day, table.first_day)
                last = min(end or today, table.last_day or today)
                if first > last:
                    progress.advance(task)
                    continue
                window = (first, last)
            result = materialize([lake_key(table.name)], partition_range=window)
            if not result.success:
                raise ClearlakeError(
                    f"Replicating {table.name} failed (run {result.run_id}): "
                    f"{failure_message(result)}"
                )
            progress.advance(task)


@lake_app.command("replicate")
def replicate(
    tables: Annotated[
        list[str] | None, typer.Argument(help="Tables to replicate (default: all).")
    ] = None,
    start: StartOption = None,
    end: EndOption = None,
) -> None:
    """Copy production tables into the lake (daily tables: START..END, default all days)."""
    declared = lake_tables()
    chosen = [get_table(name) for name in tables] if tables else list(declared.values())
    first = reader.parse_day(start, "start date")
    last = reader.parse_day(end, "end date")
    if first and last and first > last:
        raise ClearlakeError(f"Start date {first} is after end date {last}: swap them.")
    for table in chosen:  # refused before any run: nothing is written
        if table.first_day is not None and (first or last):
            check_day_range(
                table.name,
                first or table.first_day,
                last or first or table.first_day,
                valid_first=table.first_day,
                valid_last=table.last_day,
            )
    replicate_tables(chosen, first, last)
    window = f" ({first or 'first day'}..{last or 'newest day'})"
    console.print(f"[green]replicated[/] {', '.join(t.name for t in chosen)}{window}")


@lake_app.command("infer-schema")
def infer_schema(
    table: Annotated[str, typer.Argument(help="Source table (or the name of a --query source).")],
    query: Annotated[
        str | None, typer.Option(help="Replicate this SELECT instead of a table.")
    ] = None,
    partition_column: Annotated[
        str | None, typer.Option(help="Date/timestamp column of daily partitions.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Write the declaration here (default: print it).")
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="Source database URL (default: CLEARLAKE_SOURCE_URL).")
    ] = None,
) -> None:
    """Write the `sources:` declaration of TABLE from the database catalogue, to review and
    commit into the project's clearlake.yaml."""
    source = SourceDatabase(url or load_settings().source_url)
    text = declaration(infer_source(source, table, query=query, partition_column=partition_column))
    if output is None:
        print(text, end="")
        return
    output.write_text(text)
    console.print(f"[green]wrote[/] {output}: review it, then add it to your clearlake.yaml")


@lake_app.command("tables")
def tables_command() -> None:
    """List lake tables with their partitions."""
    settings = load_settings()
    current_project(settings)  # a missing or invalid project is an error, not an empty lake
    store = LakeStore(settings.lake_url)
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
    limit: Annotated[int, typer.Option(help="Rows to show.", min=0)] = 10,
) -> None:
    """Show the first rows of a lake table."""
    frame = reader.read(table, start, end, columns=columns.split(",") if columns else None)
    if frame.empty and not reader.table_files(table, store=LakeStore(load_settings().lake_url)):
        raise EmptyTableError(table)
    console.print(f"{len(frame):,} rows")
    console.print(frame.head(limit).to_string())


@lake_app.command("sql")
def sql_command(query: str) -> None:
    """Run DuckDB SQL over the lake (tables named as in `clearlake lake tables`)."""
    if not query.strip():
        raise ClearlakeError(
            "No SQL given: pass a query, e.g. clearlake lake sql 'select count(*) from <table>'."
        )
    console.print(reader.sql(query).to_string())


def register(app: typer.Typer) -> None:
    app.add_typer(sample_db_app, name="sample-db")
    app.add_typer(lake_app, name="lake")

"""``clearlake sample-db`` and ``clearlake lake``: build the sample source, fill the lake."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from clearlake.cli.output import JsonOption, Listing
from clearlake.errors import ClearlakeError
from clearlake.settings import load_settings

if TYPE_CHECKING:
    from clearlake.lake.records import RecordedDay
    from clearlake.lake.tables import LakeTable

console = Console()
sample_db_app = typer.Typer(help="The project's embedded sample production database.")
lake_app = typer.Typer(help="Replicate production into the lake and read it.")

StartOption = Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD (inclusive).")]
EndOption = Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD (inclusive).")]


UrlOption = Annotated[
    str | None, typer.Option(help="Target database URL (default: CLEARLAKE_SOURCE_URL).")
]


@sample_db_app.command("build")
def sample_db_build(
    url: UrlOption = None,
    through: Annotated[
        str | None,
        typer.Option(help="Build the daily tables up to this day only, YYYY-MM-DD (default: all)."),
    ] = None,
) -> None:
    """(Re)create the project's sample production tables (its `demo.sample_database`)."""
    from clearlake.lake import reader
    from clearlake.project.load import current_project, sample_database_builder

    settings = load_settings()
    target = url or settings.source_url
    build_sample_db = sample_database_builder(current_project(settings))
    last = reader.parse_day(through, "--through day")
    extra = {"through": last} if last is not None else {}
    with console.status(f"building the sample database at {target}") as status:
        counts = build_sample_db(target, progress=lambda m: status.update(m), **extra)
    for name, rows in counts.items():
        console.print(f"  {name:<9} {rows:>8,} rows")
    if last is not None:
        console.print(f"daily tables end on {last}: `clearlake sample-db advance` adds days")


@sample_db_app.command("advance")
def sample_db_advance(
    days: Annotated[int, typer.Option(min=1, help="Days to add to every daily table.")] = 1,
    url: UrlOption = None,
) -> None:
    """Release the next DAYS days of every daily table, as production receives them (its
    `demo.advance_sample_database`)."""
    from clearlake.names import LAKE_DAYS_SENSOR
    from clearlake.project.load import current_project, sample_database_advancer

    settings = load_settings()
    target = url or settings.source_url
    project = current_project(settings)
    advance = sample_database_advancer(project)
    with console.status(f"advancing the sample database at {target}") as status:
        present = advance(target, days=days, progress=lambda m: status.update(m))
    for name, held in present.items():
        span = f"{held[0]}..{held[-1]} ({len(held)} days)" if held else "no days"
        console.print(f"  {name:<9} {span}")
    live = project.config.live
    if live.new_days == "running":
        when = (
            f"replicates them within {live.poll_seconds} s while the daemon runs (`clearlake "
            "ui`) and the new days flow on to the features and monitors"
        )
    else:
        when = (
            "replicates them when running (it starts stopped unless the project's "
            f"`live.new_days` says running: `dagster sensor start {LAKE_DAYS_SENSOR}` or the UI)"
        )
    console.print(
        f"{LAKE_DAYS_SENSOR} {when}; or run `clearlake build`.", soft_wrap=True, markup=False
    )


def day_window(
    table: LakeTable,
    start: dt.date | None,
    end: dt.date | None,
    *,
    newest: dt.date | None,
    today: dt.date,
) -> tuple[tuple[dt.date, dt.date] | None, str | None]:
    """The days of ``table`` to replicate, never past the source's ``newest`` day, and a
    note when that cut what was asked (an explicit END past it is clamped, not refused:
    the days the source has are still worth copying)."""
    assert table.first_day is not None
    if newest is None:
        return None, f"{table.name}: the source has no rows yet: nothing replicated"
    first = max(start or table.first_day, table.first_day)
    last = min(end or today, table.last_day or today, newest)
    note = None
    if end is not None and end > newest:
        note = f"{table.name}: --end {end} is after the source's newest day {newest}: "
        note += f"replicating up to {newest}"
    if first > last:
        return None, f"{table.name}: the source's newest day is {newest}: nothing to replicate"
    return (first, last), note


def replicate_tables(
    tables: list[LakeTable],
    start: dt.date | None,
    end: dt.date | None,
    *,
    console_: Console = console,
) -> dict[str, tuple[dt.date, dt.date] | None]:
    """Materialise lake tables through Dagster (recorded in the instance), with progress;
    return the days replicated per table (``None``: a snapshot).

    A daily table gets ``start..end`` within its own days (default: all of them), never
    past the source's newest day.
    """
    from clearlake.cli.runs import failure_message, materialize
    from clearlake.lake.source import SourceDatabase
    from clearlake.names import lake_key

    today = dt.datetime.now(dt.UTC).date()
    source = SourceDatabase(load_settings().source_url)
    done: dict[str, tuple[dt.date, dt.date] | None] = {}
    with Progress(console=console_) as progress:
        task = progress.add_task("replicating", total=len(tables))
        for table in tables:
            progress.update(task, description=f"replicating {table.name}")
            window = None
            if table.first_day is not None:
                window, note = day_window(
                    table, start, end, newest=source.newest_day(table), today=today
                )
                if note:
                    console_.print(f"note: {note}", soft_wrap=True)
                if window is None:
                    progress.advance(task)
                    continue
            result = materialize([lake_key(table.name)], partition_range=window)
            if not result.success:
                raise ClearlakeError(
                    f"Replicating {table.name} failed (run {result.run_id}): "
                    f"{failure_message(result)}"
                )
            done[table.name] = window
            progress.advance(task)
    return done


@lake_app.command("replicate")
def replicate(
    tables: Annotated[
        list[str] | None, typer.Argument(help="Tables to replicate (default: all).")
    ] = None,
    start: StartOption = None,
    end: EndOption = None,
) -> None:
    """Copy production tables into the lake (daily tables: START..END, default all days)."""
    from clearlake.lake import reader
    from clearlake.lake.replicate import check_day_range
    from clearlake.lake.tables import get_table, lake_tables

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
    done = replicate_tables(chosen, first, last)
    if not done:
        console.print("nothing replicated")
        return
    parts = [f"{name} ({w[0]}..{w[1]})" if w else name for name, w in done.items()]
    console.print(f"[green]replicated[/] {', '.join(parts)}", soft_wrap=True)


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
    from clearlake.lake.infer import declaration, infer_source
    from clearlake.lake.source import SourceDatabase

    source = SourceDatabase(url or load_settings().source_url)
    text = declaration(infer_source(source, table, query=query, partition_column=partition_column))
    if output is None:
        print(text, end="")
        return
    output.write_text(text)
    console.print(f"[green]wrote[/] {output}: review it, then add it to your clearlake.yaml")


@lake_app.command("tables")
def tables_command(as_json: JsonOption = False) -> None:
    """List lake tables with their partitions."""
    from clearlake.lake import reader
    from clearlake.lake.store import LakeStore
    from clearlake.project.load import current_project

    settings = load_settings()
    current_project(settings)  # a missing or invalid project is an error, not an empty lake
    store = LakeStore(settings.lake_url)
    view = Listing(["table", "partitions", "first", "last"])
    for name in reader.available_tables(store):
        files = reader.table_files(name, store=store)
        days = store.list_partitions(name)
        view.add(
            {
                "table": name,
                "partitions": len(days) if days else ("snapshot" if files else "empty"),
                "first": days[0] if days else None,
                "last": days[-1] if days else None,
            }
        )
    view.show(as_json=as_json)


def day_status(day: dt.date, recorded: RecordedDay | None, newest: dt.date | None) -> str:
    """What ``clearlake lake days`` says of one day."""
    if recorded is None:
        if newest is not None and day <= newest:
            return "not replicated yet"
        return "not in the source yet"
    if recorded.ahead_of_source:
        return "empty, ahead of the source"  # written before Clearlake refused such days
    return "empty" if recorded.empty else "replicated"


@lake_app.command("days")
def days_command(
    table: Annotated[str, typer.Argument(help="A daily lake table.")],
    last: Annotated[int, typer.Option(min=1, help="How many recent days to show.")] = 14,
    as_json: JsonOption = False,
) -> None:
    """Each recent day of TABLE: replicated (rows), empty, not replicated yet, or not in the
    source yet, from what Dagster recorded (no lake file is opened but the table's small
    manifest, and only the days around the newest are looked up, whatever the history)."""
    from clearlake.cli.runs import instance
    from clearlake.errors import SourceUnavailableError
    from clearlake.lake.records import days_around
    from clearlake.lake.source import SourceDatabase
    from clearlake.lake.store import LakeStore
    from clearlake.lake.tables import get_table

    chosen = get_table(table)
    if chosen.first_day is None:
        raise ClearlakeError(f"{table} is a snapshot table: it has no days (`lake tables`).")
    settings = load_settings()
    try:
        newest = SourceDatabase(settings.source_url).newest_day(chosen)
        source_line = f"source's newest day: {newest or 'none (no rows)'}"
    except SourceUnavailableError as exc:
        newest, source_line = None, f"source unreachable: {exc}"
    configured = instance()
    hint = LakeStore(settings.lake_url).newest_day(chosen.name)
    around = days_around(configured, chosen, hint=hint, end=newest, trailing=last)
    lake_newest = max((d for d, r in around.items() if not r.ahead_of_source), default=None)
    today = dt.datetime.now(dt.UTC).date()
    end = min(max([d for d in (newest, lake_newest) if d] or [today]), today)
    days = [end - dt.timedelta(days=i) for i in range(last)]
    days = sorted(d for d in days if d >= chosen.first_day)
    recorded = {d: around[d] for d in days if d in around}
    notes = [f"{table}: {source_line}; lake's newest day: {lake_newest or 'none'}"]
    start = lake_newest + dt.timedelta(days=1) if lake_newest else chosen.first_day
    behind = [
        start + dt.timedelta(days=i)
        for i in range(((newest - start).days + 1) if newest else 0)
        if start + dt.timedelta(days=i) not in around
    ]
    if behind:
        notes.append(
            f"the lake is behind the source: {len(behind)} day(s) not replicated "
            f"(`clearlake lake replicate {table}`)"
        )
    for note in notes:  # on stderr when piped: stdout then holds the rows only
        typer.echo(note, err=as_json or not sys.stdout.isatty())
    view = Listing(["day", "status", "rows", "source newest then"])
    for day in days:
        entry = recorded.get(day)
        view.add(
            {
                "day": day.isoformat(),
                "status": day_status(day, entry, newest),
                "rows": entry.rows if entry else None,
                "source newest then": str(entry.source_newest or "") if entry else None,
            }
        )
    view.show(as_json=as_json)


@lake_app.command("read")
def read_command(
    table: str,
    start: StartOption = None,
    end: EndOption = None,
    columns: Annotated[str | None, typer.Option(help="Comma-separated columns.")] = None,
    limit: Annotated[int, typer.Option(help="Rows to show.", min=0)] = 10,
) -> None:
    """Show the first rows of a lake table."""
    from clearlake.errors import EmptyTableError
    from clearlake.lake import reader
    from clearlake.lake.store import LakeStore

    frame = reader.read(table, start, end, columns=columns.split(",") if columns else None)
    if frame.empty and not reader.table_files(table, store=LakeStore(load_settings().lake_url)):
        raise EmptyTableError(table)
    console.print(f"{len(frame):,} rows")
    console.print(frame.head(limit).to_string())


@lake_app.command("sql")
def sql_command(query: str) -> None:
    """Run DuckDB SQL over the lake (tables named as in `clearlake lake tables`)."""
    from clearlake.lake import reader

    if not query.strip():
        raise ClearlakeError(
            "No SQL given: pass a query, e.g. clearlake lake sql 'select count(*) from <table>'."
        )
    console.print(reader.sql(query).to_string())

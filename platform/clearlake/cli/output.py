"""Listings that read well on a terminal and survive a pipe.

On a terminal a listing is a rich table; piped or redirected it is plain tab-separated
lines (a header, then one line per row, nothing cut or wrapped) that ``cut``, ``awk`` and
``sort`` take as they are — GitHub's ``gh`` does the same; with ``--json`` it is one JSON
array of objects whose values keep their types (numbers stay numbers).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the rows as a JSON array (for scripts).")
]


def make_console() -> Console:
    """Rich output sized to the terminal; piped, wide enough that nothing is cut or wrapped."""
    tty = sys.stdout.isatty()
    return Console(width=None if tty else 10_000, soft_wrap=not tty)


def shorten(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, cut at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut and not text[limit - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-—") + "…"


@dataclass
class Listing:
    """Rows of one listing; ``wide`` columns fold on a terminal instead of widening it."""

    columns: Sequence[str]
    title: str = ""
    wide: Sequence[str] = ()
    rows: list[dict[str, Any]] = field(default_factory=list)
    shown: dict[str, int] = field(default_factory=dict)
    """Column → characters shown on a terminal (a word-boundary ellipsis beyond)."""
    terminal: Sequence[str] = ()
    """The columns a terminal shows (default: all); pipes and JSON always get all."""

    def add(self, row: Mapping[str, Any]) -> None:
        self.rows.append(dict(row))

    def show(self, *, as_json: bool = False, out: Console | None = None) -> None:
        if as_json:  # NaN is not JSON: a missing value is null
            rows = [{k: None if missing(v) else v for k, v in row.items()} for row in self.rows]
            typer.echo(json.dumps(rows, indent=2, default=str))
            return
        if not sys.stdout.isatty():
            typer.echo("\t".join(self.columns))
            for row in self.rows:
                typer.echo("\t".join(_plain(row.get(c)) for c in self.columns))
            return
        table = Table(title=self.title or None)
        columns = self.terminal or self.columns
        for column in columns:  # short cells on one line; long ones wrap at words
            if column in self.wide:
                table.add_column(column, overflow="fold", min_width=24, ratio=2)
            elif column in self.shown:
                table.add_column(column, min_width=16, ratio=1)
            else:
                table.add_column(column, no_wrap=True)
        for row in self.rows:
            cells = [_plain(row.get(c)) for c in columns]
            cells = [
                shorten(v, self.shown[c]) if c in self.shown else v
                for c, v in zip(columns, cells, strict=True)
            ]
            table.add_row(*(escape(v) for v in cells))
        (out or make_console()).print(table)


def missing(value: Any) -> bool:
    """None, NaN, NaT or pandas' NA (whose comparisons refuse to be booleans)."""
    try:
        return value is None or bool(value != value)
    except (TypeError, ValueError):
        return True


def _plain(value: Any) -> str:
    if missing(value):  # an empty cell
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return " ".join(str(value).split())  # one line per row, whatever a cell holds


def minutes(when: Any) -> str | None:
    """A commit time in UTC to the minute (None for a missing one, NaT included)."""
    if when is None or when != when:
        return None
    return str(when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M"))

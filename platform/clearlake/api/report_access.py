"""Which lake datasets a report page is about, so that a page needs the grants its data does.

A report shows what it read: lake_health's row counts and null rates of ``orders`` are
``orders``' data, a candidate report's subgroup metrics are rows of its task's dataset. A
page is therefore open only to a principal whose roles read **every** dataset it is about
(the same ``may_read`` as ``/v1/datasets``):

- ``day`` scope: the tables the report ran on (its ``tables`` parameter; absent means every
  daily table, as the template reads it);
- ``candidate`` scope and ``leaderboards/<task>.png``: the lake tables the task's dataset is
  computed from (its feature's inputs, recursively) — not a ``reports:`` rule alone, since a
  candidate's per-subgroup figures leak its dataset as much as a day report does;
- ``none`` scope: declares nothing, so it may read anything: every lake table.

Anything else — a file no report record names, a record whose task the project does not
declare, an unreadable record — is about something unknown and refused to everyone. The
gallery's index and commit pages are rendered per viewer from the records they may open
(:func:`clearlake.reports.gallery.render_pages`): a listing never links a refused page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from clearlake.evaluation.leaderboard import plot_path
from clearlake.project.load import Project
from clearlake.reports.execute import ReportRecord

RECORD_FILE = "report.json"


@dataclass(frozen=True)
class ReportSubjects:
    """What the project says each kind of report is about."""

    daily: frozenset[str]
    every: frozenset[str]
    tasks: Mapping[str, frozenset[str]]

    @classmethod
    def of(cls, project: Project) -> ReportSubjects:
        sources = project.config.sources
        features = project.config.features

        def lake_inputs(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
            if name in sources or name not in features or name in seen:
                return {name}
            inputs = project.feature_inputs(name)
            return {t for i in inputs for t in lake_inputs(i, seen | {name})}

        return cls(
            daily=frozenset(n for n, s in sources.items() if s.daily is not None),
            every=frozenset(sources),
            tasks={
                task: frozenset(lake_inputs(config.dataset))
                for task, config in project.config.tasks.items()
            },
        )

    def of_record(self, record: ReportRecord) -> frozenset[str] | None:
        """The datasets a report is about; ``None``: unknown (refused to everyone)."""
        if record.scope == "day":
            tables = record.parameters.get("tables")
            if tables is None:
                return self.daily
            if isinstance(tables, list) and tables and all(isinstance(t, str) for t in tables):
                return frozenset(tables)
            return None
        if record.scope == "candidate":
            return self.tasks.get(record.task or "")
        if record.scope == "none":
            return self.every
        return None

    def of_file(self, root: Path, relative: Path) -> frozenset[str] | None:
        """The datasets a gallery file (not a listing) is about: its report's, or its task's
        for a leaderboard image; ``None`` for a file nothing vouches for."""
        for task, datasets in self.tasks.items():
            if relative == plot_path(Path(), task):
                return datasets
        if len(relative.parts) == 3 and relative.parts[0] in ("monitoring", "compare"):
            return self.tasks.get(relative.parts[1])  # a task's monitoring or compare pages
        if len(relative.parts) not in (3, 4):
            return None  # <template>/<partition>[/<variant>]/<file>
        record = _read_record(root / relative.parent / RECORD_FILE)
        return self.of_record(record) if record is not None else None


def _read_record(path: Path) -> ReportRecord | None:
    try:
        return ReportRecord.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return None


def refused(datasets: frozenset[str] | None, may_read: Callable[[str], bool]) -> list[str]:
    """Datasets of a page its viewer may not read (empty: granted); unknown: ``["?"]``."""
    if datasets is None:
        return [UNKNOWN]
    return sorted(d for d in datasets if not may_read(d))


UNKNOWN = "(unknown)"
"""Stands for the datasets of a page nothing vouches for."""

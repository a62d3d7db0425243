"""What every benchmark shares: its command line, the machine's conditions beside each
figure, and the refusal to record a run on an overloaded machine.

Every benchmark is run as ``uv run python benchmarks/<name>.py`` and takes:

* ``--smoke``: a tiny input, seconds; nothing is written to ``results/`` (the smoke lane
  of ``make test``, ``tests/benchmarks/test_smoke.py``, runs each one so none breaks
  unnoticed);
* ``--out PATH``: where the JSON goes (default ``benchmarks/results/<name>.json``);
* ``--allow-loaded``: record a run even though the machine was overloaded (flagged).

A run is *overloaded* when the 1-minute load average, before or after it, exceeds the
number of cores: other work then took a share of the CPUs and ratios against a baseline
measured at another moment mean little (issue 21 found a 1.29× that was 2.27× on a quiet
machine). Such a run is refused (nothing written, exit status 3) unless
``--allow-loaded``, and its JSON says ``"overloaded": true`` either way.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).parent / "results"
REFUSED = 3
"""Exit status of a run refused because the machine was overloaded."""


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def cores() -> int:
    return os.cpu_count() or 1


@dataclass
class Run:
    """One benchmark run: its arguments and the machine's load when it began."""

    name: str
    smoke: bool
    out: Path | None
    allow_loaded: bool
    extra: argparse.Namespace
    load_before: list[float] = field(default_factory=load_average)

    def machine(self) -> dict[str, Any]:
        """The conditions to record beside the figures (call once the work is done)."""
        after = load_average()
        return {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": cores(),
            "load_average_before": self.load_before,
            "load_average_after": after,
            "overloaded": max(self.load_before[0], after[0]) > cores(),
            "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }

    def finish(self, result: dict[str, Any]) -> dict[str, Any]:
        """Add the machine's conditions and write the JSON where it belongs.

        A smoke run writes only to ``--out``; an overloaded run is refused
        (:class:`SystemExit` with :data:`REFUSED`) unless ``--allow-loaded``.
        """
        result = {**result, "smoke": self.smoke, "machine": self.machine()}
        target = self.out if self.smoke else (self.out or RESULTS_DIR / f"{self.name}.json")
        if result["machine"]["overloaded"] and not (self.smoke or self.allow_loaded):
            before, after = (
                result["machine"][k][0] for k in ("load_average_before", "load_average_after")
            )
            print(
                f"{self.name}: not recorded: the load average was {before} before and {after}"
                " after the run, above the "
                f"{cores()} cores. Measure on a quiet machine, or pass --allow-loaded to record "
                "it flagged as overloaded.",
                file=sys.stderr,
            )
            raise SystemExit(REFUSED)
        if target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(result, indent=2, default=str) + "\n")
            print(f"written {target}", file=sys.stderr)
        return result


def start(
    name: str,
    description: str | None,
    argv: Sequence[str] | None = None,
    parser: argparse.ArgumentParser | None = None,
) -> Run:
    """Parse the common options (and any ``parser`` already declares) and note the load."""
    parser = parser or argparse.ArgumentParser(
        prog=f"benchmarks/{name}.py", description=(description or "").strip().splitlines()[0]
    )
    parser.add_argument("--smoke", action="store_true", help="a tiny input; writes only --out")
    parser.add_argument("--out", type=Path, help=f"JSON path (default results/{name}.json)")
    parser.add_argument(
        "--allow-loaded",
        action="store_true",
        help="record even when the load average exceeds the cores (flagged)",
    )
    args = parser.parse_args(argv)
    return Run(
        name=name,
        smoke=args.smoke,
        out=args.out,
        allow_loaded=args.allow_loaded,
        extra=args,
    )


def build_sample_database(
    url: str, *, tables: list[str] | None = None, through: dt.date | None = None
) -> dict[str, int]:
    """The configured project's sample production database at ``url`` (its
    ``demo.sample_database`` builder, imported from the project's ``python_path`` as the
    platform does: benchmarks need no example package installed)."""
    from clearlake.project.load import current_project, sample_database_builder
    from clearlake.settings import load_settings

    build = sample_database_builder(current_project(load_settings()))
    return build(url, tables=tables, through=through)

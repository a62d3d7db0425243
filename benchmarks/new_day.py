"""One new day end to end (replicate → features → suites → monitor): a lake of 30 vs 365 days.

The flights example on the embedded defaults (SQLite source, local lake, SQLite Dagster
instance), each lake size in its own worker process and its own ``CLEARLAKE_HOME``. The
project is a copy of the example's configuration (``anchored``) with two changes only, so
that a 30-day lake can hold a monitored model: both tasks' suites are January's first four
weeks (train 1–14, holdout 15–28; the monitor's reference is that holdout), and the monitor
watches the demo repository's boosting commit (``flight-delays@<sha>``) instead of a
champion (no evaluation needed to have one); no A/A calibration (not part of a new day).

Sizes: a lake of 30 days (new days 31–33) and one of 361 (new days 362–364, 2013-12-28..30:
the sample's weather ends on 2013-12-30, so 2013-12-31 makes no feature row and would not
reach the monitor; each new day's arrival at the monitor is checked and recorded).

Set-up of a lake of ``N`` days: the sample database through day ``N`` (its builder's
``through=``), the demo repositories, the tasks' windows (``clearlake.demo.loop``:
``ensure_lake``, ``ensure_features_and_suites``), then ``clearlake.demo.live.flow`` until
quiet: the new-days sensor replicates the rest of the source, automation fills the feature
tables and the monitor's predictions, performance and status for every day so far. Both
lakes' monitors have then processed every day the source holds.

Measured, per new day: the source advances by one day (``demo.advance_sample_database``,
not timed), then ONE ``flow()``: the new-days sensor tick → replication, then automation
rounds → feature tables, rolling suites (none in the example), the monitor's predictions,
performance, status. CPU seconds of the worker (``getrusage`` self + children deltas) and
wall seconds; per step (from the flow's progress lines, plus a mark before each sensor tick
and each automation evaluation: each mark opens a step that lasts until the next). The two
workers take turns, one new day each (machine load hits both). CPU is the measure the target
uses: the machine is shared, so wall carries other people's load (the JSON records the load
average before and after, and ``overloaded`` when the 1-minute figure exceeded the cores).

Target: the 365-day lake's median CPU per new day ≤ 1.25 × the 30-day lake's.

Run: ``uv run python benchmarks/new_day.py`` (≈ 15 minutes on a loaded 2-core machine, most
of it the 361-day set-up; ``--smoke``: 5 vs 8 days, one new day each, ≈ 3 minutes, nothing
written unless ``--out``: too slow for a test). Results: ``benchmarks/results/new_day.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "flights"
FIRST_DAY = dt.date(2013, 1, 1)
TARGET_RATIO = 1.25
BOOSTING = "Gradient boosting"  # the demo repository's commit the monitor watches


def project_config(home: Path, *, short: bool) -> dict[str, Any]:
    """The example's configuration, anchored at its folder, with January suites and a
    pinned watch (``short``: one-week suites, for the smoke run)."""
    from clearlake.project.load import anchored

    raw = anchored(yaml.safe_load((EXAMPLE / "clearlake.yaml").read_text()), EXAMPLE)
    ends = (2, 3) if short else (14, 28)
    suites = {
        "train": {"start": "2013-01-01", "end": f"2013-01-{ends[0]:02d}", "role": "train"},
        "holdout": {
            "start": f"2013-01-{ends[0] + 1:02d}",
            "end": f"2013-01-{ends[1]:02d}",
            "role": "test",
        },
    }
    for task in raw["tasks"].values():
        task["suites"] = json.loads(json.dumps(suites))
        task.pop("calibration", None)
    sha = _git(home / "repos" / "flight-delays", "log", "--format=%H", f"--grep={BOOSTING}")
    raw["tasks"]["arrival_delay"]["monitor"]["watch"] = f"flight-delays@{sha.split()[0]}"
    return raw


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


class Clock:
    """CPU (self + children) and wall seconds since the last mark, and per progress line."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, float, float]] = []

    @staticmethod
    def now() -> tuple[float, float]:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
        return cpu, time.perf_counter()

    def progress(self, line: str) -> None:
        cpu, wall = self.now()
        self.lines.append((line.strip(), cpu, wall))


def _steps(clock: Clock, start: tuple[float, float], end: tuple[float, float]) -> list[Any]:
    """Each progress line's step: CPU and wall until the next line."""
    marks = [("(before the first mark)", *start), *clock.lines, ("(end)", *end)]
    return [
        {"step": a[0], "cpu": round(b[1] - a[1], 3), "wall": round(b[2] - a[2], 3)}
        for a, b in itertools.pairwise(marks)
    ]


def worker(days: int, short: bool) -> None:
    """Set up a lake of ``days`` days in this process's CLEARLAKE_HOME, say ``ready``, then
    for each ``step`` read on stdin: advance the source one day, flow, print the figures."""
    home = Path(os.environ["CLEARLAKE_HOME"])
    out: IO[str] = sys.stdout
    sys.stdout = sys.stderr  # Dagster and the library's prints stay off the protocol
    sys.path.insert(0, str(EXAMPLE))
    from flights_example.demo_repos import create_demo_repositories

    create_demo_repositories(home)
    config = home / "clearlake.yaml"
    config.write_text(yaml.safe_dump(project_config(home, short=short), sort_keys=False))
    os.environ["CLEARLAKE_CONFIG"] = str(config)

    import dagster as dg

    from clearlake.demo import live, loop
    from clearlake.lake.store import LakeStore
    from clearlake.monitoring import storage
    from clearlake.orchestration.code_location import load_definitions
    from clearlake.project.load import (
        current_project,
        sample_database_advancer,
        sample_database_builder,
    )
    from clearlake.settings import ensure_dagster_home, load_settings

    settings = load_settings()
    ensure_dagster_home(settings)
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    project = current_project(settings)
    through = FIRST_DAY + dt.timedelta(days=days - 1)
    sample_database_builder(project)(settings.source_url, progress=lambda _: None, through=through)
    instance = dg.DagsterInstance.get()
    store = LakeStore(settings.lake_url)
    definitions = load_definitions()
    quiet: Callable[[str], None] = lambda _: None  # noqa: E731
    loop.ensure_lake(definitions, instance, store, project, quiet)
    loop.ensure_features_and_suites(definitions, instance, store, project, quiet)
    while live.flow(definitions, instance, quiet):
        pass
    status = storage.load_status(store, "arrival_delay")
    setup = {
        "lake_days": days,
        "source_through": through.isoformat(),
        "monitor_last_day": status and status.get("last_day"),
        "setup_seconds": round(time.perf_counter() - started, 1),
    }
    out.write(json.dumps(setup) + "\n")
    out.flush()
    advance = sample_database_advancer(project)
    clock = Clock()
    _mark_ticks(live, clock)
    for command in sys.stdin:
        if command.strip() != "step":
            break
        advance(settings.source_url, days=1, progress=lambda _: None)
        clock.lines.clear()
        begin = clock.now()
        runs = live.flow(definitions, instance, clock.progress)
        end = clock.now()
        status = storage.load_status(store, "arrival_delay")
        figures = {
            "cpu_seconds": round(end[0] - begin[0], 3),
            "wall_seconds": round(end[1] - begin[1], 3),
            "runs": runs,
            "monitor_last_day": status and status.get("last_day"),
            "steps": _steps(clock, begin, end),
        }
        out.write(json.dumps(figures) + "\n")
        out.flush()


def _mark_ticks(live: Any, clock: Clock) -> None:
    """Timing only: a progress mark before each new-days sensor tick and each automation
    evaluation of ``flow`` (they print no line of their own), so their cost is a step apart
    from the run before them."""
    tick, evaluate = live.lake_day_requests, live.dg.evaluate_automation_conditions

    def marked_tick(*args: Any, **kwargs: Any) -> Any:
        clock.progress("(new-days sensor tick)")
        return tick(*args, **kwargs)

    def marked_evaluate(*args: Any, **kwargs: Any) -> Any:
        clock.progress("(automation evaluation)")
        return evaluate(*args, **kwargs)

    live.lake_day_requests = marked_tick
    live.dg.evaluate_automation_conditions = marked_evaluate  # this worker only


class Lake:
    """A worker process holding one lake size."""

    def __init__(self, days: int, home: Path, short: bool) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARLAKE_", "AWS_"))}
        env.update(CLEARLAKE_HOME=str(home), DAGSTER_HOME=str(home / "dagster"))
        args = [sys.executable, __file__, "--worker", str(days), *(["--short"] if short else [])]
        self.days = days
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.setup: dict[str, Any] = {}
        self.new_days: list[dict[str, Any]] = []

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.days}-day worker died (exit {self.process.wait()})")
        out: dict[str, Any] = json.loads(line)
        return out

    def step(self) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write("step\n")
        self.process.stdin.flush()
        figures = self.read()
        self.new_days.append(figures)
        return figures

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=60)


def _per_step(new_days: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Median CPU and wall per kind of step (the line without its days) over the new days."""
    kinds: dict[str, list[tuple[float, float]]] = {}
    for figures in new_days:
        seen: dict[str, tuple[float, float]] = {}
        for step in figures["steps"]:
            kind = " ".join(w for w in step["step"].split() if not w[:4].isdigit())
            cpu, wall = seen.get(kind, (0.0, 0.0))
            seen[kind] = (cpu + step["cpu"], wall + step["wall"])
        for kind, pair in seen.items():
            kinds.setdefault(kind, []).append(pair)
    return {
        kind: {
            "cpu_median": round(statistics.median(p[0] for p in pairs), 3),
            "wall_median": round(statistics.median(p[1] for p in pairs), 3),
        }
        for kind, pairs in kinds.items()
    }


def summary(lake: Lake) -> dict[str, Any]:
    return {
        **lake.setup,
        "cpu_seconds": [d["cpu_seconds"] for d in lake.new_days],
        "wall_seconds": [d["wall_seconds"] for d in lake.new_days],
        "cpu_median": statistics.median(d["cpu_seconds"] for d in lake.new_days),
        "wall_median": statistics.median(d["wall_seconds"] for d in lake.new_days),
        "monitor_last_day_after": [d["monitor_last_day"] for d in lake.new_days],
        "runs_per_new_day": [d["runs"] for d in lake.new_days],
        "per_step_median": _per_step(lake.new_days),
        "new_days": lake.new_days,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from harness import start

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="new days per lake (default 3)")
    run = start("new_day", __doc__, argv, parser)
    args = run.extra  # --smoke: 5 vs 8 days, one new day each
    sizes, repeats = ((5, 8), 1) if args.smoke else ((30, 361), args.repeats)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="clearlake-new-day-") as folder:
        lakes: list[Lake] = []
        try:
            for days in sizes:  # one set-up at a time: they would share two cores otherwise
                lake = Lake(days, Path(folder) / f"lake-{days}", short=args.smoke)
                lakes.append(lake)
                lake.setup = lake.read()
                print(f"lake of {days} days ready: {lake.setup}", file=sys.stderr, flush=True)
            for _ in range(repeats):  # interleaved: drift in machine load hits both alike
                for lake in lakes:
                    figures = lake.step()
                    print(
                        f"lake {lake.days}: cpu {figures['cpu_seconds']} s, "
                        f"wall {figures['wall_seconds']} s",
                        file=sys.stderr,
                        flush=True,
                    )
        finally:
            for lake in lakes:
                lake.close()
    short, long = (summary(lake) for lake in lakes)
    for lake, record in ((lakes[0], short), (lakes[1], long)):  # no new day came up short
        first = FIRST_DAY + dt.timedelta(days=lake.days - 1)  # the monitor's last day before
        expected = [(first + dt.timedelta(days=i)).isoformat() for i in range(repeats)]
        record["each_new_day_reached_the_monitor"] = record["monitor_last_day_after"] == expected
    ratio = long["cpu_median"] / short["cpu_median"]
    result = {
        "benchmark": "new_day",
        "description": (__doc__ or "").splitlines()[0],
        "method": {
            "project": "examples/flights (anchored copy): suites train 2013-01-01..14, holdout "
            "2013-01-15..28 on both tasks; arrival_delay's monitor watches the demo's "
            "boosting commit",
            "lake_days_before_measuring": list(sizes),
            "new_days_each": repeats,
            "measured": "clearlake.demo.live.flow() after the source advanced one day: "
            "worker CPU (getrusage self + children) and wall",
        },
        "lake_small": short,
        "lake_large": long,
        "ratio_cpu_large_vs_small": round(ratio, 3),
        "ratio_wall_large_vs_small": round(long["wall_median"] / short["wall_median"], 3),
        "target_ratio_max": TARGET_RATIO,
        "met": ratio <= TARGET_RATIO
        and short["each_new_day_reached_the_monitor"]
        and long["each_new_day_reached_the_monitor"],
        "seconds": round(time.perf_counter() - started, 1),
    }
    result = run.finish(result)
    return result


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        worker(int(sys.argv[2]), short="--short" in sys.argv)
    else:
        outcome = main()
        brief = {k: outcome[k] for k in ("ratio_cpu_large_vs_small", "met", "seconds")}
        print(json.dumps({**brief, "machine": outcome["machine"]}, indent=2))
